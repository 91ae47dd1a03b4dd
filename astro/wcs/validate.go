package wcs

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strings"
)

// ValidateOptions sets the sanity range of Validate. Zero fields take the defaults.
type ValidateOptions struct {
	MinScaleArcsec float64 // smallest accepted pixel scale, arcsec/px; default 0.01
	MaxScaleArcsec float64 // largest accepted pixel scale, arcsec/px; default 3600 (1°/px)
}

// DefaultValidateOptions returns the defaults: 0.01 to 3600 arcsec/px, which spans
// professional instruments to all-sky cameras.
func DefaultValidateOptions() ValidateOptions {
	return ValidateOptions{MinScaleArcsec: 0.01, MaxScaleArcsec: 3600}
}

// Validate checks the options themselves.
func (o ValidateOptions) Validate() error {
	if o.MinScaleArcsec < 0 || o.MaxScaleArcsec < 0 || math.IsNaN(o.MinScaleArcsec) || math.IsNaN(o.MaxScaleArcsec) {
		return fmt.Errorf("wcs: scale limits must be >= 0, got %g and %g", o.MinScaleArcsec, o.MaxScaleArcsec)
	}
	if o.MinScaleArcsec != 0 && o.MaxScaleArcsec != 0 && o.MinScaleArcsec > o.MaxScaleArcsec {
		return fmt.Errorf("wcs: minimum scale %g above maximum %g", o.MinScaleArcsec, o.MaxScaleArcsec)
	}
	return nil
}

// ValidationError lists every problem Validate found. Each problem wraps a sentinel
// (ErrMissingKey, ErrNonFinite, ErrSingularCD, ErrScaleOutOfRange, ErrUnsupportedProjection,
// ErrOutOfDomain, …) so errors.Is works on the whole error as on an errors.Join result.
type ValidationError struct {
	Problems []error
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "wcs: invalid WCS: " + strings.Join(msgs, "; ")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error { return e.Problems }

// problem is one finding: a readable detail plus the sentinel it belongs to.
type problem struct {
	kind   error
	detail string
}

func (p *problem) Error() string { return p.detail }
func (p *problem) Unwrap() error { return p.kind }

// Validate reports everything wrong with w for an image of width×height pixels (0 skips the
// checks that need the image size) as a *ValidationError, or nil: missing CTYPE, unknown
// projection, non-finite values, singular CD, a reference latitude outside ±90°, a pixel scale
// outside opt's range at the image centre, image corners outside the projection's domain and
// malformed SIP tables.
func (w *WCS) Validate(width, height int, opt ValidateOptions) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	def := DefaultValidateOptions()
	if opt.MinScaleArcsec == 0 {
		opt.MinScaleArcsec = def.MinScaleArcsec
	}
	if opt.MaxScaleArcsec == 0 {
		opt.MaxScaleArcsec = def.MaxScaleArcsec
	}
	var probs []error
	add := func(kind error, format string, args ...any) {
		probs = append(probs, &problem{kind: kind, detail: fmt.Sprintf(format, args...)})
	}

	for i, ct := range w.CType {
		if strings.TrimSpace(ct) == "" {
			add(ErrMissingKey, "CTYPE%d is missing", i+1)
		}
	}
	code := ""
	if w.CType[0] != "" && w.CType[1] != "" {
		var err error
		if _, code, err = parseCTypes(w.CType); err != nil {
			add(unwrapSentinel(err), "%s", strings.TrimPrefix(err.Error(), "wcs: "))
		} else if _, ok := projCodes[code]; !ok {
			add(ErrUnsupportedProjection, "projection %q is not supported", code)
		}
	}
	if p := strings.ToUpper(w.Projection); p != "" && p != code {
		if _, ok := projCodes[p]; !ok {
			add(ErrUnsupportedProjection, "projection %q is not supported", w.Projection)
		} else if code != "" {
			add(ErrUnsupportedProjection, "Projection %q disagrees with CTYPE %q", w.Projection, w.CType[0])
		}
	}
	finite := func(name string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			add(ErrNonFinite, "%s is %g", name, v)
			return false
		}
		return true
	}
	allFinite := true
	for i := range 2 {
		allFinite = finite(fmt.Sprintf("CRPIX%d", i+1), w.CRPix[i]) && allFinite
		allFinite = finite(fmt.Sprintf("CRVAL%d", i+1), w.CRVal[i]) && allFinite
		for j := range 2 {
			allFinite = finite(fmt.Sprintf("CD%d_%d", i+1, j+1), w.CD[i][j]) && allFinite
		}
	}
	if math.IsInf(w.LonPole, 0) || math.IsInf(w.LatPole, 0) {
		add(ErrNonFinite, "LONPOLE %g / LATPOLE %g must be finite (NaN means default)", w.LonPole, w.LatPole)
	}
	for m, v := range w.PV {
		finite(fmt.Sprintf("PV term %d", m), v)
	}
	if w.SIP != nil {
		for _, err := range w.SIP.check() {
			add(ErrNonFinite, "%s", err.Error())
		}
	}
	det := w.CD[0][0]*w.CD[1][1] - w.CD[0][1]*w.CD[1][0]
	if allFinite {
		n2 := w.CD[0][0]*w.CD[0][0] + w.CD[0][1]*w.CD[0][1] + w.CD[1][0]*w.CD[1][0] + w.CD[1][1]*w.CD[1][1]
		if det == 0 || math.Abs(det) < 1e-14*n2 {
			add(ErrSingularCD, "CD matrix [[%g %g] [%g %g]] is singular (determinant %g)", w.CD[0][0], w.CD[0][1], w.CD[1][0], w.CD[1][1], det)
		} else {
			// The geometric mean of the axis scales at the reference point is
			// sqrt|det CD|; SIP and projection change it little over an image.
			scale := math.Sqrt(math.Abs(det)) * 3600
			if scale < opt.MinScaleArcsec || scale > opt.MaxScaleArcsec {
				add(ErrScaleOutOfRange, "pixel scale %.6g arcsec/px outside [%g, %g]", scale, opt.MinScaleArcsec, opt.MaxScaleArcsec)
			}
		}
	}
	if len(probs) == 0 {
		// Everything local looks fine: let the full derivation speak (pole, PV, ZPN), then
		// check that the image itself is inside the projection's domain.
		if _, err := w.current(); err != nil {
			add(unwrapSentinel(err), "%s", strings.TrimPrefix(err.Error(), "wcs: "))
		} else if width > 0 && height > 0 {
			pts := [5][2]float64{
				{-0.5, -0.5}, {float64(width) - 0.5, -0.5}, {-0.5, float64(height) - 0.5},
				{float64(width) - 0.5, float64(height) - 0.5}, {float64(width-1) / 2, float64(height-1) / 2},
			}
			var bad []string
			var first error
			for _, p := range pts {
				if _, _, err := w.PixelToWorld(p[0], p[1]); err != nil {
					bad = append(bad, fmt.Sprintf("(%g, %g)", p[0], p[1]))
					first = cmp.Or(first, err)
				}
			}
			if first != nil {
				add(unwrapSentinel(first), "image points %s cannot be transformed: %s", strings.Join(bad, ", "), strings.TrimPrefix(cmp.Or(errors.Unwrap(first), first).Error(), "wcs: "))
			}
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Problems: probs}
}

// unwrapSentinel finds which of the package sentinels err wraps, so a problem built from
// another error keeps its errors.Is identity.
func unwrapSentinel(err error) error {
	for _, s := range []error{ErrNoCelestialAxes, ErrUnsupportedProjection, ErrMissingKey, ErrSingularCD,
		ErrNonFinite, ErrScaleOutOfRange, ErrOutOfDomain, ErrNoConvergence, ErrInvalidPole} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
