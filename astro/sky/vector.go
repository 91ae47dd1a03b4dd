package sky

import (
	"errors"
	"fmt"
	"math"
)

// ErrDegenerate means a set of sky points has no defined mean direction (empty, or its unit
// vectors cancel out, as for two antipodal points).
var ErrDegenerate = errors.New("sky: degenerate point set")

// ErrNonFinite means an input coordinate or scale is NaN or infinite.
var ErrNonFinite = errors.New("sky: non-finite input")

const (
	deg2rad = math.Pi / 180
	rad2deg = 180 / math.Pi
)

// UnitVector returns the Cartesian unit vector of (ra, dec) in degrees: x towards (0, 0),
// y towards (90, 0), z towards the north pole.
func UnitVector(ra, dec float64) [3]float64 {
	sa, ca := math.Sincos(ra * deg2rad)
	sd, cd := math.Sincos(dec * deg2rad)
	return [3]float64{cd * ca, cd * sa, sd}
}

// FromVector returns (ra, dec) in degrees of a non-zero vector, which need not be normalised;
// ra is in [0, 360) and is 0 at the poles. The zero vector gives NaN, NaN.
func FromVector(v [3]float64) (ra, dec float64) {
	rho := math.Hypot(v[0], v[1])
	if rho == 0 && v[2] == 0 {
		return math.NaN(), math.NaN()
	}
	// atan2 of the components keeps full precision near the poles, unlike asin(z/|v|).
	dec = math.Atan2(v[2], rho) * rad2deg
	if rho == 0 {
		return 0, dec
	}
	return norm360(math.Atan2(v[1], v[0]) * rad2deg), dec
}

// Separation returns the angle between two sky points in degrees, by Vincenty's formula:
// accurate from sub-milliarcsecond to antipodal separations, where the cosine law loses
// precision near 0° and the haversine near 180°.
func Separation(ra1, dec1, ra2, dec2 float64) float64 {
	sd1, cd1 := math.Sincos(dec1 * deg2rad)
	sd2, cd2 := math.Sincos(dec2 * deg2rad)
	sdr, cdr := math.Sincos((ra2 - ra1) * deg2rad)
	num := math.Hypot(cd2*sdr, cd1*sd2-sd1*cd2*cdr)
	den := sd1*sd2 + cd1*cd2*cdr
	return math.Atan2(num, den) * rad2deg
}

// Mean returns the spherical mean of points given as {ra, dec} in degrees: the direction of
// the sum of their unit vectors. It is unaffected by the RA wrap at 0°/360° and by the pole.
// It returns ErrDegenerate when the vectors cancel (empty set, antipodal pairs) and
// ErrNonFinite for NaN or infinite coordinates. The sum runs in the given order; sort the
// points first when the result must not depend on it.
func Mean(points [][2]float64) (ra, dec float64, err error) {
	if len(points) == 0 {
		return 0, 0, fmt.Errorf("sky: mean of no points: %w", ErrDegenerate)
	}
	var s [3]float64
	for _, p := range points {
		if !finite(p[0]) || !finite(p[1]) {
			return 0, 0, fmt.Errorf("sky: point (%g, %g): %w", p[0], p[1], ErrNonFinite)
		}
		v := UnitVector(p[0], p[1])
		s[0] += v[0]
		s[1] += v[1]
		s[2] += v[2]
	}
	// A resultant this short relative to the point count has a direction dominated by
	// rounding: the points are (nearly) balanced around the sphere.
	n := math.Sqrt(s[0]*s[0] + s[1]*s[1] + s[2]*s[2])
	if n < 1e-9*float64(len(points)) {
		return 0, 0, fmt.Errorf("sky: mean of %d points has resultant length %g: %w", len(points), n, ErrDegenerate)
	}
	ra, dec = FromVector(s)
	return ra, dec, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// norm360 maps an angle in degrees into [0, 360).
func norm360(a float64) float64 {
	a = math.Mod(a, 360)
	if a < 0 {
		a += 360
	}
	if a >= 360 { // -tiny + 360 rounds to 360
		a = 0
	}
	return a
}
