package wcs

import (
	"fmt"
	"math"
)

// poly evaluates Σ c[p][q] u^p v^q over p+q ≤ order and, when grad is true, its partial
// derivatives. Coefficient tables may be ragged or short: missing terms are zero.
func poly(c [][]float64, order int, u, v float64, grad bool) (f, fu, fv float64) {
	var up, vp [maxSIPOrder + 2]float64
	up[0], vp[0] = 1, 1
	for i := 1; i <= order; i++ {
		up[i] = up[i-1] * u
		vp[i] = vp[i-1] * v
	}
	for p := 0; p <= order && p < len(c); p++ {
		row := c[p]
		for q := 0; q <= order-p && q < len(row); q++ {
			a := row[q]
			if a == 0 {
				continue
			}
			f += a * up[p] * vp[q]
			if grad {
				if p > 0 {
					fu += a * float64(p) * up[p-1] * vp[q]
				}
				if q > 0 {
					fv += a * float64(q) * up[p] * vp[q-1]
				}
			}
		}
	}
	return f, fu, fv
}

// forward applies the distortion to the 1-based pixel offsets (u, v) = (x+1−CRPIX1, y+1−CRPIX2).
func (s *SIP) forward(u, v float64) (float64, float64) {
	f, _, _ := poly(s.A, s.Order, u, v, false)
	g, _, _ := poly(s.B, s.Order, u, v, false)
	return u + f, v + g
}

// Tolerances of the SIP inversion, in pixels: stop once a Newton step is below sipStepTol,
// fail when the residual still exceeds sipFailTol (the 1e-6 px contract).
const (
	sipStepTol = 1e-11
	sipFailTol = 1e-6
	sipMaxIter = 50
)

// inverse solves forward(u, v) = (U, V) by Newton iteration on the forward polynomial, as
// astropy's all_world2pix does with its fixed-point scheme. AP/BP only give the first guess,
// because they are fitted approximations that are often off by 0.01–0.1 px.
func (s *SIP) inverse(U, V float64) (float64, float64, error) {
	u, v := U, V
	if s.AP != nil || s.BP != nil {
		du, _, _ := poly(s.AP, s.APOrder, U, V, false)
		dv, _, _ := poly(s.BP, s.APOrder, U, V, false)
		u, v = U+du, V+dv
	}
	var res float64
	for range sipMaxIter {
		f, fu, fv := poly(s.A, s.Order, u, v, true)
		g, gu, gv := poly(s.B, s.Order, u, v, true)
		ru, rv := u+f-U, v+g-V
		res = math.Hypot(ru, rv)
		j11, j12, j21, j22 := 1+fu, fv, gu, 1+gv
		det := j11*j22 - j12*j21
		if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
			break
		}
		du := (j22*ru - j12*rv) / det
		dv := (j11*rv - j21*ru) / det
		u, v = u-du, v-dv
		if math.Hypot(du, dv) < sipStepTol {
			f, _, _ = poly(s.A, s.Order, u, v, false)
			g, _, _ = poly(s.B, s.Order, u, v, false)
			res = math.Hypot(u+f-U, v+g-V)
			break
		}
	}
	if !(res <= sipFailTol) {
		return 0, 0, fmt.Errorf("wcs: residual %g px at offset (%g, %g): %w", res, U, V, ErrNoConvergence)
	}
	return u, v, nil
}

// check reports structural problems: order range, non-finite coefficients.
func (s *SIP) check() []error {
	var errs []error
	if s.Order < 0 || s.Order > maxSIPOrder {
		errs = append(errs, fmt.Errorf("SIP order %d outside [0, %d]", s.Order, maxSIPOrder))
	}
	if (s.AP != nil || s.BP != nil) && (s.APOrder < 0 || s.APOrder > maxSIPOrder) {
		errs = append(errs, fmt.Errorf("SIP inverse order %d outside [0, %d]", s.APOrder, maxSIPOrder))
	}
	for name, m := range map[string][][]float64{"A": s.A, "B": s.B, "AP": s.AP, "BP": s.BP} {
		for p, row := range m {
			for q, c := range row {
				if math.IsNaN(c) || math.IsInf(c, 0) {
					errs = append(errs, fmt.Errorf("SIP %s_%d_%d is %g", name, p, q, c))
				}
			}
		}
	}
	return errs
}

// checkOrder guards the fixed-size power tables of poly against a hand-built SIP.
func (s *SIP) checkOrder() error {
	if s.Order < 0 || s.Order > maxSIPOrder || s.APOrder < 0 || s.APOrder > maxSIPOrder {
		return fmt.Errorf("wcs: SIP orders %d/%d outside [0, %d]: %w", s.Order, s.APOrder, maxSIPOrder, ErrUnsupportedProjection)
	}
	return nil
}
