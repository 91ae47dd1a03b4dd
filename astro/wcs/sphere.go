package wcs

import (
	"fmt"
	"math"
	"strings"
)

const (
	deg2rad = math.Pi / 180
	rad2deg = 180 / math.Pi
)

// parseCTypes finds the longitude and latitude axes and the shared projection code in a CTYPE
// pair ("RA---TAN-SIP", "DEC--TAN-SIP"; also GLON/GLAT, ELON/ELAT, xyLN/xyLT). axes[0] is the
// index of the longitude axis, axes[1] that of the latitude axis.
func parseCTypes(ct [2]string) (axes [2]int, code string, err error) {
	var kind [2]string // "lng"/"lat"
	var name, proj, suffix [2]string
	for i, c := range ct {
		c = strings.ToUpper(strings.TrimSpace(c))
		// Paper I §3: 4 characters of coordinate type padded with '-', '-', 3-letter code.
		if len(c) < 8 || c[4] != '-' {
			return axes, "", fmt.Errorf("wcs: CTYPE%d=%q has no projection code: %w", i+1, ct[i], ErrNoCelestialAxes)
		}
		name[i] = strings.TrimRight(c[:4], "-")
		proj[i] = strings.TrimRight(c[5:8], "-")
		suffix[i] = c[8:]
		switch n := name[i]; {
		case n == "RA", len(n) == 4 && strings.HasSuffix(n, "LON"), len(n) == 4 && strings.HasSuffix(n, "LN"):
			kind[i] = "lng"
		case n == "DEC", len(n) == 4 && strings.HasSuffix(n, "LAT"), len(n) == 4 && strings.HasSuffix(n, "LT"):
			kind[i] = "lat"
		default:
			return axes, "", fmt.Errorf("wcs: CTYPE%d=%q is not a celestial axis: %w", i+1, ct[i], ErrNoCelestialAxes)
		}
	}
	switch {
	case kind[0] == "lng" && kind[1] == "lat":
		axes = [2]int{0, 1}
	case kind[0] == "lat" && kind[1] == "lng":
		axes = [2]int{1, 0}
	default:
		return axes, "", fmt.Errorf("wcs: CTYPE1=%q and CTYPE2=%q are not a longitude/latitude pair: %w", ct[0], ct[1], ErrNoCelestialAxes)
	}
	if !pairedNames(name[axes[0]], name[axes[1]]) {
		return axes, "", fmt.Errorf("wcs: CTYPE1=%q and CTYPE2=%q mix coordinate systems: %w", ct[0], ct[1], ErrNoCelestialAxes)
	}
	if proj[0] != proj[1] {
		return axes, "", fmt.Errorf("wcs: CTYPE1=%q and CTYPE2=%q use different projections: %w", ct[0], ct[1], ErrUnsupportedProjection)
	}
	for i, s := range suffix {
		if s != "" && s != "-SIP" {
			return axes, "", fmt.Errorf("wcs: CTYPE%d=%q: suffix %q: %w", i+1, ct[i], s, ErrUnsupportedProjection)
		}
	}
	return axes, proj[0], nil
}

func pairedNames(lng, lat string) bool {
	switch {
	case lng == "RA":
		return lat == "DEC"
	case strings.HasSuffix(lng, "LON"):
		return lat == lng[:1]+"LAT"
	default: // xyLN
		return lat == lng[:2]+"LT"
	}
}

// setPole computes the celestial coordinates (αp, δp) of the native pole from the reference
// value (α0, δ0) at the native fiducial point (φ0, θ0), LONPOLE φp and LATPOLE, following
// paper II §2.4 (eqs. 8–10) and WCSLIB's celset for the degenerate cases.
func (st *state) setPole() error {
	k := &st.key
	a0 := math.Float64frombits(k.crval[st.lng])
	d0 := math.Float64frombits(k.crval[st.lat])
	if d0 < -90 || d0 > 90 {
		return fmt.Errorf("wcs: reference latitude %g outside [-90, 90]: %w", d0, ErrInvalidPole)
	}
	phi0, theta0 := st.proj.phi0, st.proj.theta0
	phiP := math.Float64frombits(k.lonPole)
	if math.IsNaN(phiP) { // paper II: 180° when δ0 < θ0, else 0°, plus φ0
		phiP = phi0
		if d0 < theta0 {
			phiP += 180
		}
	}
	latPole := math.Float64frombits(k.latPole)
	if math.IsNaN(latPole) {
		latPole = 90
	}
	if math.IsInf(phiP, 0) || math.IsInf(latPole, 0) {
		return fmt.Errorf("wcs: LONPOLE/LATPOLE must be finite: %w", ErrNonFinite)
	}
	const tol = 1e-10
	var ap, dp float64
	if theta0 == 90 {
		// Fiducial point at the native pole: the reference value is the celestial pole's
		// position directly and LATPOLE plays no role.
		ap, dp = a0, d0
	} else {
		sd0, cd0 := sincosd(d0)
		sdphi, cdphi := sincosd(phiP - phi0)
		st0, ct0 := sincosd(theta0)
		x, y := ct0*cdphi, st0
		z := math.Hypot(x, y)
		if z == 0 {
			if sd0 != 0 {
				return fmt.Errorf("wcs: no native pole for CRVAL latitude %g: %w", d0, ErrInvalidPole)
			}
			dp = math.Max(-90, math.Min(90, latPole))
		} else {
			r := sd0 / z
			if math.Abs(r) > 1+tol {
				return fmt.Errorf("wcs: no native pole for CRVAL latitude %g and LONPOLE %g: %w", d0, phiP, ErrInvalidPole)
			}
			u := math.Atan2(y, x) * rad2deg
			v := math.Acos(math.Max(-1, math.Min(1, r))) * rad2deg
			p1, p2 := wrap180(u+v), wrap180(u-v)
			// Two poles satisfy eq. 8; LATPOLE picks the nearer valid one.
			if math.Abs(latPole-p1) < math.Abs(latPole-p2) {
				dp = p1
				if math.Abs(p1) > 90+tol {
					dp = p2
				}
			} else {
				dp = p2
				if math.Abs(p2) > 90+tol {
					dp = p1
				}
			}
			if math.Abs(dp) > 90+tol {
				return fmt.Errorf("wcs: celestial pole latitude %g out of range: %w", dp, ErrInvalidPole)
			}
			dp = math.Max(-90, math.Min(90, dp))
		}
		zz := cosd(dp) * cd0
		switch {
		case math.Abs(zz) < tol && math.Abs(cd0) < tol:
			ap = a0 // reference point at a celestial pole
			if d0 > 0 {
				dp = theta0
			} else {
				dp = -theta0
			}
		case math.Abs(zz) < tol && dp > 0: // celestial north pole at the native pole
			ap = a0 + phiP - phi0 - 180
		case math.Abs(zz) < tol:
			ap = a0 - phiP + phi0
		default:
			ap = a0 - math.Atan2(sdphi*ct0/cd0, (st0-sind(dp)*sd0)/zz)*rad2deg
		}
	}
	st.phiPDeg = phiP
	st.latPDeg = dp
	st.alphaP = ap * deg2rad
	st.deltaP = dp * deg2rad
	st.phiP = phiP * deg2rad
	st.sinDP, st.cosDP = math.Sincos(st.deltaP)
	return nil
}

// toCelestial rotates native (φ, θ) to celestial (α, δ), radians (paper II eq. 2). The
// latitude uses atan2 rather than asin to stay accurate near the poles.
func (st *state) toCelestial(phi, theta float64) (alpha, delta float64) {
	st0, ct0 := math.Sincos(theta)
	sdp, cdp := math.Sincos(phi - st.phiP)
	x := st0*st.cosDP - ct0*st.sinDP*cdp
	y := -ct0 * sdp
	z := st0*st.sinDP + ct0*st.cosDP*cdp
	return st.alphaP + math.Atan2(y, x), math.Atan2(z, math.Hypot(x, y))
}

// toNative is the inverse rotation (paper II eq. 5); φ is returned in [-π, π].
func (st *state) toNative(alpha, delta float64) (phi, theta float64) {
	sd, cd := math.Sincos(delta)
	sda, cda := math.Sincos(alpha - st.alphaP)
	x := sd*st.cosDP - cd*st.sinDP*cda
	y := -cd * sda
	z := sd*st.sinDP + cd*st.cosDP*cda
	return wrapPi(st.phiP + math.Atan2(y, x)), math.Atan2(z, math.Hypot(x, y))
}

func sincosd(a float64) (float64, float64) { return math.Sincos(a * deg2rad) }
func sind(a float64) float64               { return math.Sin(a * deg2rad) }
func cosd(a float64) float64               { return math.Cos(a * deg2rad) }

func wrap180(a float64) float64 {
	switch {
	case a > 180:
		return a - 360
	case a < -180:
		return a + 360
	}
	return a
}

// wrapPi brings an angle into [-π, π].
func wrapPi(a float64) float64 {
	if a >= -math.Pi && a <= math.Pi {
		return a
	}
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}

// norm360 brings a longitude in degrees into [0, 360).
func norm360(a float64) float64 {
	a = math.Mod(a, 360)
	if a < 0 {
		a += 360
	}
	if a >= 360 {
		a = 0
	}
	return a
}
