package wcs

import "math"

// Footprint returns the sky polygon of a width×height image: its outer pixel edges (from
// (-0.5, -0.5) to (width-0.5, height-0.5) in 0-based pixel coordinates), walked
// counter-clockwise in pixel space starting at the first corner, with samplesPerEdge points
// per edge (the edge's first corner plus evenly spaced interior points; values below 1 mean
// corners only). Points are {ra, dec} in degrees. Samples that fall outside the projection's
// domain are left out, so the polygon can have fewer than 4×samplesPerEdge points.
func (w *WCS) Footprint(width, height, samplesPerEdge int) [][2]float64 {
	n := max(samplesPerEdge, 1)
	x0, y0 := -0.5, -0.5
	x1, y1 := float64(width)-0.5, float64(height)-0.5
	corners := [5][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	out := make([][2]float64, 0, 4*n)
	for e := range 4 {
		a, b := corners[e], corners[e+1]
		for k := range n {
			t := float64(k) / float64(n)
			ra, dec, err := w.PixelToWorld(a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1]))
			if err == nil {
				out = append(out, [2]float64{ra, dec})
			}
		}
	}
	return out
}

// PixelScale returns the local scale at the 0-based pixel (x, y) in arcsec/px along x and y,
// from central differences of half a pixel through the full transformation (SIP included).
// It returns NaN, NaN where the neighbourhood leaves the projection's domain.
func (w *WCS) PixelScale(x, y float64) (sx, sy float64) {
	const h = 0.5
	sep := func(xa, ya, xb, yb float64) float64 {
		ra1, d1, err1 := w.PixelToWorld(xa, ya)
		ra2, d2, err2 := w.PixelToWorld(xb, yb)
		if err1 != nil || err2 != nil {
			return math.NaN()
		}
		return separation(ra1, d1, ra2, d2) * 3600 / (2 * h)
	}
	return sep(x-h, y, x+h, y), sep(x, y-h, x, y+h)
}

// Rotation returns the position angle of the image +y axis at the reference pixel, in degrees
// east of north in (-180, 180]: 0 when +y points north, 90 when it points east. It returns NaN
// when the reference pixel cannot be transformed.
func (w *WCS) Rotation() float64 {
	x, y := w.CRPix[0]-1, w.CRPix[1]-1
	ra0, d0, err0 := w.PixelToWorld(x, y)
	ra1, d1, err1 := w.PixelToWorld(x, y+0.5)
	ra2, d2, err2 := w.PixelToWorld(x, y-0.5)
	if err0 != nil || err1 != nil || err2 != nil {
		return math.NaN()
	}
	// Angles seen from the reference point towards +y and (reversed) towards -y: averaging
	// them cancels the first-order curvature of a half-pixel chord.
	up := positionAngle(ra0, d0, ra1, d1) * deg2rad
	down := positionAngle(ra0, d0, ra2, d2)*deg2rad + math.Pi
	pa := math.Atan2(math.Sin(up)+math.Sin(down), math.Cos(up)+math.Cos(down)) * rad2deg
	if pa <= -180 {
		pa += 360
	}
	return pa
}

// separation is the angle between two sky points in degrees (Vincenty's formula: accurate at
// all separations, unlike the haversine near 180° or the cosine law near 0°).
func separation(ra1, d1, ra2, d2 float64) float64 {
	sd1, cd1 := sincosd(d1)
	sd2, cd2 := sincosd(d2)
	sdr, cdr := sincosd(ra2 - ra1)
	num := math.Hypot(cd2*sdr, cd1*sd2-sd1*cd2*cdr)
	den := sd1*sd2 + cd1*cd2*cdr
	return math.Atan2(num, den) * rad2deg
}

// positionAngle of point 2 seen from point 1, degrees east of north.
func positionAngle(ra1, d1, ra2, d2 float64) float64 {
	sd1, cd1 := sincosd(d1)
	sd2, cd2 := sincosd(d2)
	sdr, cdr := sincosd(ra2 - ra1)
	return math.Atan2(cd2*sdr, cd1*sd2-sd1*cd2*cdr) * rad2deg
}
