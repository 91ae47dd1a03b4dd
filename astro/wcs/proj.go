package wcs

import (
	"fmt"
	"math"
)

// projCode enumerates the implemented projections (paper II §5).
type projCode int

const (
	projTAN projCode = iota // gnomonic
	projSIN                 // orthographic / synthesis (slant with PV ξ, η)
	projARC                 // zenithal equidistant
	projSTG                 // stereographic
	projZEA                 // zenithal equal area
	projZPN                 // zenithal polynomial
	projCAR                 // plate carrée
	projAIT                 // Hammer–Aitoff
)

var projCodes = map[string]projCode{
	"TAN": projTAN, "SIN": projSIN, "ARC": projARC, "STG": projSTG,
	"ZEA": projZEA, "ZPN": projZPN, "CAR": projCAR, "AIT": projAIT,
}

// projection maps native spherical coordinates (φ, θ in radians) to projection-plane
// coordinates. Plane coordinates here are in radians (paper II's R0 = 180/π folded out), so
// the callers scale the intermediate world coordinates, which are degrees, by π/180.
type projection struct {
	code          projCode
	phi0, theta0  float64 // native fiducial point, degrees
	xi, eta       float64 // SIN slant parameters (PV2_1, PV2_2)
	zpn           []float64
	zdMax, rZdMax float64 // ZPN: last zenith distance where R(ζ) still increases, and R there
}

// domainTol absorbs rounding at domain edges (e.g. a point exactly on the SIN horizon).
const domainTol = 1e-12

func newProjection(code string, pv []float64) (projection, error) {
	c, ok := projCodes[code]
	if !ok {
		return projection{}, fmt.Errorf("wcs: projection %q: %w", code, ErrUnsupportedProjection)
	}
	for m, v := range pv {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return projection{}, fmt.Errorf("wcs: PV term %d is %g: %w", m, v, ErrNonFinite)
		}
	}
	p := projection{code: c, theta0: 90}
	pvAt := func(m int) float64 {
		if m < len(pv) {
			return pv[m]
		}
		return 0
	}
	switch c {
	case projCAR, projAIT:
		p.theta0 = 0
	case projSIN:
		p.xi, p.eta = pvAt(1), pvAt(2)
	case projZPN:
		if err := p.setZPN(pv); err != nil {
			return projection{}, err
		}
	}
	return p, nil
}

// setZPN finds the interval [0, zdMax] of zenith distance on which R(ζ) = Σ P_m ζ^m increases:
// beyond the first turning point the projection folds over and has no unique inverse.
func (p *projection) setZPN(pv []float64) error {
	n := len(pv)
	for n > 0 && pv[n-1] == 0 {
		n--
	}
	if n < 2 {
		return fmt.Errorf("wcs: ZPN needs PV terms up to at least m=1: %w", ErrUnsupportedProjection)
	}
	p.zpn = append([]float64(nil), pv[:n]...)
	if _, d := p.zpnEval(0); d <= 0 {
		return fmt.Errorf("wcs: ZPN with dR/dζ(0) = %g <= 0: %w", d, ErrUnsupportedProjection)
	}
	// Scan for the first sign change of the derivative, then refine it by bisection.
	const steps = 1800
	p.zdMax = math.Pi
	prev := 0.0
	for i := 1; i <= steps; i++ {
		zd := math.Pi * float64(i) / steps
		if _, d := p.zpnEval(zd); d <= 0 {
			lo, hi := prev, zd
			for range 60 {
				mid := (lo + hi) / 2
				if _, dm := p.zpnEval(mid); dm > 0 {
					lo = mid
				} else {
					hi = mid
				}
			}
			p.zdMax = lo
			break
		}
		prev = zd
	}
	p.rZdMax, _ = p.zpnEval(p.zdMax)
	return nil
}

// zpnEval returns R(ζ) and dR/dζ by Horner's rule.
func (p *projection) zpnEval(zd float64) (r, dr float64) {
	for m := len(p.zpn) - 1; m >= 0; m-- {
		dr = dr*zd + r
		r = r*zd + p.zpn[m]
	}
	return r, dr
}

// zpnInverse solves R(ζ) = r on [0, zdMax] by safeguarded Newton iteration.
func (p *projection) zpnInverse(r float64) (float64, bool) {
	r0, _ := p.zpnEval(0)
	if r < r0-domainTol || r > p.rZdMax+domainTol {
		return 0, false
	}
	lo, hi := 0.0, p.zdMax
	zd := math.Max(lo, math.Min(hi, (r-r0)/(p.rZdMax-r0)*p.zdMax))
	for range 100 {
		f, d := p.zpnEval(zd)
		f -= r
		if f > 0 {
			hi = zd
		} else {
			lo = zd
		}
		next := zd - f/d
		if d <= 0 || next <= lo || next >= hi {
			next = (lo + hi) / 2 // Newton left the bracket: bisect
		}
		if math.Abs(next-zd) < 1e-15 {
			return next, true
		}
		zd = next
	}
	return zd, true
}

// toNative maps plane coordinates (radians) to native (φ, θ) in radians.
func (p *projection) toNative(x, y float64) (phi, theta float64, err error) {
	switch p.code {
	case projCAR:
		if math.Abs(y) > math.Pi/2+domainTol || math.Abs(x) > math.Pi+domainTol {
			return 0, 0, ErrOutOfDomain
		}
		return x, math.Max(-math.Pi/2, math.Min(math.Pi/2, y)), nil
	case projAIT:
		s := 1 - x*x/16 - y*y/4
		if s < 0.5-domainTol {
			return 0, 0, ErrOutOfDomain
		}
		z := math.Sqrt(math.Max(s, 0.5))
		return 2 * math.Atan2(z*x/2, 2*z*z-1), math.Asin(math.Max(-1, math.Min(1, z*y))), nil
	case projSIN:
		if p.xi != 0 || p.eta != 0 {
			return p.sinSlantInverse(x, y)
		}
	}
	// Zenithal: R and φ from the plane (paper II eqs. 14–15), then θ from R.
	r := math.Hypot(x, y)
	phi = math.Atan2(x, -y)
	switch p.code {
	case projTAN:
		theta = math.Atan2(1, r)
	case projSIN:
		if r > 1+domainTol {
			return 0, 0, ErrOutOfDomain
		}
		r = math.Min(r, 1)
		theta = math.Atan2(math.Sqrt(1-r*r), r)
	case projARC:
		if r > math.Pi+domainTol {
			return 0, 0, ErrOutOfDomain
		}
		theta = math.Pi/2 - math.Min(r, math.Pi)
	case projSTG:
		theta = math.Pi/2 - 2*math.Atan(r/2)
	case projZEA:
		if r > 2+domainTol {
			return 0, 0, ErrOutOfDomain
		}
		theta = math.Pi/2 - 2*math.Asin(math.Min(r/2, 1))
	case projZPN:
		zd, ok := p.zpnInverse(r)
		if !ok {
			return 0, 0, ErrOutOfDomain
		}
		theta = math.Pi/2 - zd
	}
	return phi, theta, nil
}

// sinSlantInverse inverts the generalised SIN projection (paper II eqs. 45–47), taking the
// root nearer the native pole.
func (p *projection) sinSlantInverse(x, y float64) (phi, theta float64, err error) {
	xi, eta := p.xi, p.eta
	a := xi*xi + eta*eta + 1
	b := xi*(x-xi) + eta*(y-eta)
	c := (x-xi)*(x-xi) + (y-eta)*(y-eta) - 1
	disc := b*b - a*c
	if disc < -domainTol {
		return 0, 0, ErrOutOfDomain
	}
	s := (-b + math.Sqrt(math.Max(disc, 0))) / a
	if s > 1+domainTol || s < -1-domainTol {
		return 0, 0, ErrOutOfDomain
	}
	s = math.Max(-1, math.Min(1, s))
	z := 1 - s
	return math.Atan2(x-xi*z, -(y - eta*z)), math.Asin(s), nil
}

// fromNative maps native (φ, θ) in radians to plane coordinates in radians.
func (p *projection) fromNative(phi, theta float64) (x, y float64, err error) {
	sphi, cphi := math.Sincos(phi)
	sth, cth := math.Sincos(theta)
	var r float64
	switch p.code {
	case projCAR:
		return phi, theta, nil
	case projAIT:
		sh, ch := math.Sincos(phi / 2)
		g := math.Sqrt(2 / (1 + cth*ch)) // φ ∈ [-π, π] keeps the denominator ≥ 1
		return 2 * g * cth * sh, g * sth, nil
	case projTAN:
		if sth <= 0 {
			return 0, 0, ErrOutOfDomain
		}
		r = cth / sth
	case projSIN:
		X, Y := cth*sphi, -cth*cphi
		// Visible hemisphere: the side facing the slanted line of sight (ξ, η, 1).
		if p.xi*X+p.eta*Y+sth < -domainTol {
			return 0, 0, ErrOutOfDomain
		}
		return X + p.xi*(1-sth), Y + p.eta*(1-sth), nil
	case projARC:
		r = math.Pi/2 - theta
	case projSTG:
		if 1+sth <= 0 {
			return 0, 0, ErrOutOfDomain
		}
		r = 2 * cth / (1 + sth)
	case projZEA:
		r = math.Sqrt(2 * (1 - sth))
	case projZPN:
		zd := math.Pi/2 - theta
		if zd > p.zdMax+domainTol {
			return 0, 0, ErrOutOfDomain
		}
		r, _ = p.zpnEval(zd)
	}
	return r * sphi, -r * cphi, nil
}
