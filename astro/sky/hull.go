package sky

import (
	"cmp"
	"math"
	"slices"
)

// ConvexHull returns the convex hull of planar points, counter-clockwise from the lowest-x
// (then lowest-y) point, without collinear points (Andrew's monotone chain, O(n log n)).
// Fewer than three distinct points give those distinct points. points is not modified.
func ConvexHull(points [][2]float64) [][2]float64 {
	p := slices.Clone(points)
	slices.SortFunc(p, func(a, b [2]float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	p = slices.Compact(p)
	if len(p) < 3 {
		return p
	}
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	h := make([][2]float64, 0, 2*len(p))
	for _, q := range p { // lower hull
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- { // upper hull
		q := p[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1] // the last point repeats the first
}

// Rect is a rotated rectangle: its sides run along Angle and Angle+90°.
type Rect struct {
	Angle float64    // direction of the first side, degrees, reduced into (-45, 45]
	Area  float64    // width × height
	Min   [2]float64 // lower corner in the frame rotated by -Angle
	Max   [2]float64 // upper corner in the frame rotated by -Angle
}

// MinAreaRect returns the minimum-area rectangle enclosing a convex hull (as from
// ConvexHull) by rotating calipers: one side of the optimum lies along a hull edge (Freeman &
// Shapira 1975), so each edge direction is tried. Equal areas keep the first edge, so the
// result depends only on the hull's order. Hulls of fewer than three points give an
// axis-aligned rectangle (Angle 0).
func MinAreaRect(hull [][2]float64) Rect {
	best := boundsAt(hull, 0)
	if len(hull) < 3 {
		return best
	}
	best.Area = math.Inf(1)
	for i := range hull {
		a, b := hull[i], hull[(i+1)%len(hull)]
		ang := math.Atan2(b[1]-a[1], b[0]-a[0]) * rad2deg
		if r := boundsAt(hull, reduceQuarter(ang)); r.Area < best.Area {
			best = r
		}
	}
	return best
}

// reduceQuarter maps an angle in degrees into (-45, 45]: a rectangle looks the same every 90°.
func reduceQuarter(a float64) float64 {
	a = math.Mod(a, 90)
	if a > 45 {
		a -= 90
	} else if a <= -45 {
		a += 90
	}
	return a
}

// boundsAt is the bounding box of points in the frame rotated by -angle degrees.
func boundsAt(points [][2]float64, angle float64) Rect {
	r := Rect{Angle: angle, Min: [2]float64{math.Inf(1), math.Inf(1)}, Max: [2]float64{math.Inf(-1), math.Inf(-1)}}
	s, c := math.Sincos(angle * deg2rad)
	for _, p := range points {
		u := c*p[0] + s*p[1]
		v := -s*p[0] + c*p[1]
		r.Min = [2]float64{min(r.Min[0], u), min(r.Min[1], v)}
		r.Max = [2]float64{max(r.Max[0], u), max(r.Max[1], v)}
	}
	if len(points) > 0 {
		r.Area = (r.Max[0] - r.Min[0]) * (r.Max[1] - r.Min[1])
	}
	return r
}
