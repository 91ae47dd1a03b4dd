package wcs

import (
	"fmt"
	"math"
)

// PixelToWorld converts the 0-based pixel centre (x, y) to world coordinates in degrees
// (longitude in [0, 360)), applying SIP when present. Points outside the projection's domain
// return an error wrapping ErrOutOfDomain.
func (w *WCS) PixelToWorld(x, y float64) (ra, dec float64, err error) {
	st, err := w.current()
	if err != nil {
		return 0, 0, err
	}
	// SIP and CD act on 1-based offsets from CRPIX (Shupe et al. 2005 eq. 1).
	u, v := x+1-w.CRPix[0], y+1-w.CRPix[1]
	if w.SIP != nil {
		if err := w.SIP.checkOrder(); err != nil {
			return 0, 0, err
		}
		u, v = w.SIP.forward(u, v)
	}
	var iw [2]float64 // intermediate world coordinates per axis, degrees
	iw[0] = w.CD[0][0]*u + w.CD[0][1]*v
	iw[1] = w.CD[1][0]*u + w.CD[1][1]*v
	phi, theta, err := st.proj.toNative(iw[st.lng]*deg2rad, iw[st.lat]*deg2rad)
	if err != nil {
		return 0, 0, fmt.Errorf("wcs: pixel (%g, %g): %w", x, y, err)
	}
	a, d := st.toCelestial(phi, theta)
	return norm360(a * rad2deg), d * rad2deg, nil
}

// WorldToPixel converts world coordinates in degrees to the 0-based pixel centre. With SIP the
// forward polynomial is inverted by Newton iteration (AP/BP give the first guess) to 1e-10 px;
// failure to reach 1e-6 px returns an error wrapping ErrNoConvergence. Points that the
// projection cannot show (e.g. the far hemisphere of TAN) return ErrOutOfDomain.
func (w *WCS) WorldToPixel(ra, dec float64) (x, y float64, err error) {
	st, err := w.current()
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(ra) || math.IsNaN(dec) || math.IsInf(ra, 0) || dec < -90 || dec > 90 {
		return 0, 0, fmt.Errorf("wcs: world (%g, %g): %w", ra, dec, ErrOutOfDomain)
	}
	phi, theta := st.toNative(ra*deg2rad, dec*deg2rad)
	px, py, err := st.proj.fromNative(phi, theta)
	if err != nil {
		return 0, 0, fmt.Errorf("wcs: world (%g, %g): %w", ra, dec, err)
	}
	var iw [2]float64
	iw[st.lng], iw[st.lat] = px*rad2deg, py*rad2deg
	u := st.inv[0][0]*iw[0] + st.inv[0][1]*iw[1]
	v := st.inv[1][0]*iw[0] + st.inv[1][1]*iw[1]
	if w.SIP != nil {
		if err := w.SIP.checkOrder(); err != nil {
			return 0, 0, err
		}
		if u, v, err = w.SIP.inverse(u, v); err != nil {
			return 0, 0, err
		}
	}
	return u + w.CRPix[0] - 1, v + w.CRPix[1] - 1, nil
}
