package cpu

import (
	"errors"
	"fmt"
	"math"
)

// Background-gradient removal (spec §1.2 step 4, §4.4), in two parts:
//
//   - FitBackground measures the sky on a coarse grid of boxes and fits a low-order
//     polynomial surface to it, robustly. It is a small reduction (a few hundred box medians,
//     a 3×3 or 6×6 least-squares system), so it has no GPU twin: every backend uses this fit.
//   - SubtractBackground evaluates the model at every pixel and subtracts it. That per-pixel
//     part has a WGSL twin (shaders/background.wgsl) giving the same bits.
//
// Differences from ZeMosaic, on purpose: ZeMosaic's preprocess step subtracts a σ = 24 px
// Gaussian blur of the luminance, which also removes the wings of bright stars and any
// nebulosity wider than ~50 px; DBE (§4.4) samples a masked background and fits a thin-plate
// RBF on the final mosaic. A frame-level gradient (light pollution, moonlight, vignetting
// residue) is smooth at the scale of a frame, so a plane or a quadratic surface describes it
// with 3 or 6 numbers and cannot follow an extended object.

// ErrBackgroundFit is wrapped by FitBackground's data-dependent failures: too few boxes with
// enough finite sky to fit the surface. Callers may keep the frame without removal.
var ErrBackgroundFit = errors.New("cpu: background fit failed")

// MaxBackgroundDegree is the highest polynomial degree FitBackground accepts.
const MaxBackgroundDegree = 3

// BackgroundOptions configures FitBackground.
type BackgroundOptions struct {
	// Degree of the polynomial surface in x and y: 1 fits a tilted plane (3 terms), 2 a
	// quadratic surface (6 terms, vignetting-like curvature), 3 a cubic (10 terms).
	Degree int `json:"background_degree"`
	// Boxes is the number of boxes along the frame's shorter side; boxes are square-ish and
	// tile the whole frame (16 on a 1080×1920 Seestar frame: 16×28 boxes of ~68 px). Each box
	// gives one sky sample, so a box should be several star widths wide.
	Boxes int `json:"background_boxes"`
	// Kappa is the sigma clip of each box's pixels around their median (stars, hot pixels
	// and cosmic rays removed; 5 passes at most) before the box's median is taken.
	Kappa float64 `json:"background_kappa"`
	// Reject removes boxes whose value lies more than Reject robust σ from the fitted surface
	// (a galaxy, a nebula, a bright star's halo), refitting until the kept set is stable.
	Reject float64 `json:"background_reject"`
	// PerChannel fits each channel on its own. Off (the default, ZeMosaic's choice), the
	// surface is fitted on the luminance and subtracted from every channel: a colour frame's
	// channels then keep their relative levels, whereas per-channel fits on a small frame
	// carry independent noise and errors that appear as colour gradients.
	PerChannel bool `json:"background_per_channel"`
}

// DefaultBackgroundOptions returns an achromatic plane fitted on 16 boxes along the shorter
// side, with 3σ clips of the pixels and of the boxes.
func DefaultBackgroundOptions() BackgroundOptions {
	return BackgroundOptions{Degree: 1, Boxes: 16, Kappa: 3, Reject: 3}
}

// Validate checks the degree (1…MaxBackgroundDegree), the box count (1…1024) and that both
// clips are in [1, 100].
func (o BackgroundOptions) Validate() error {
	if o.Degree < 1 || o.Degree > MaxBackgroundDegree {
		return fmt.Errorf("%w: background degree must be in [1, %d], got %d", ErrInvalidOptions, MaxBackgroundDegree, o.Degree)
	}
	if o.Boxes < 1 || o.Boxes > 1024 {
		return fmt.Errorf("%w: background boxes must be in [1, 1024], got %d", ErrInvalidOptions, o.Boxes)
	}
	if !(o.Kappa >= 1 && o.Kappa <= 100) || !(o.Reject >= 1 && o.Reject <= 100) {
		return fmt.Errorf("%w: background kappa and reject must be in [1, 100], got %v and %v", ErrInvalidOptions, o.Kappa, o.Reject)
	}
	return nil
}

// BackgroundModel is a fitted background: for channel c, the polynomial
//
//	model_c(u, v) = Σ Coeffs[c][k] · u^i · v^j   over the terms (i, j) of BackgroundTerms
//
// in the normalised coordinates u = 2x/(W−1) − 1, v = 2y/(H−1) − 1 (pixel centres, so both
// run over [−1, 1]; a side of 1 pixel gives 0). The constant term already holds −Level[c]:
// the model is the fitted surface minus its median, so subtracting it flattens the sky and
// keeps its level, and frames stay comparable for normalisation.
type BackgroundModel struct {
	Degree        int
	Width, Height int
	Coeffs        [][]float64 // per channel, len(BackgroundTerms(Degree))
	Level         []float64   // per channel: median of the fitted surface over the box grid
	Range         []float64   // per channel: max − min of the surface over the box grid
	Boxes, Used   int         // boxes with enough sky / kept by the fit (per fitted plane, summed)
}

// BackgroundTerms returns the exponents (i, j) of the terms u^i·v^j of a degree-d surface, in
// the order of BackgroundModel.Coeffs: j ascending, then i ascending (i + j ≤ d).
func BackgroundTerms(d int) [][2]int {
	var t [][2]int
	for j := 0; j <= d; j++ {
		for i := 0; i+j <= d; i++ {
			t = append(t, [2]int{i, j})
		}
	}
	return t
}

// BackgroundPoly is a channel's model as SubtractBackground evaluates it: the coefficients
// and the coordinate scales rounded to float32 once.
type BackgroundPoly struct {
	Degree int
	SU, OU float32   // u = x·SU + OU
	SV, OV float32   // v = y·SV + OV
	Coeffs []float32 // in BackgroundTerms order
}

// Poly returns channel c's float32 evaluation form.
func (m BackgroundModel) Poly(c int) BackgroundPoly {
	p := BackgroundPoly{Degree: m.Degree, Coeffs: make([]float32, len(m.Coeffs[c]))}
	p.SU, p.OU = axisScale(m.Width)
	p.SV, p.OV = axisScale(m.Height)
	for k, a := range m.Coeffs[c] {
		p.Coeffs[k] = float32(a)
	}
	return p
}

// axisScale is the float32 form of t = 2i/(n−1) − 1.
func axisScale(n int) (s, o float32) {
	if n <= 1 {
		return 0, 0
	}
	return float32(2 / float64(n-1)), -1
}

// axisCoord is the float64 form of t = 2i/(n−1) − 1 used by the fit.
func axisCoord(i float64, n int) float64 {
	if n <= 1 {
		return 0
	}
	return 2*i/float64(n-1) - 1
}

// At evaluates the polynomial at pixel (x, y) in float32, in this order (every product
// rounded before it is added, no fused multiply-add):
//
//	u = x·SU + OU, v = y·SV + OV
//	p_j = Horner in u of the terms u^i·v^j, i from d−j down to 0: p = p·u + a(i, j)
//	b = Horner in v of the p_j, j from d down to 0: b = b·v + p_j
//
// shaders/background.wgsl performs the same operations.
func (p BackgroundPoly) At(x, y int) float32 {
	u := float32(float32(x)*p.SU) + p.OU
	v := float32(float32(y)*p.SV) + p.OV
	d := p.Degree
	var b float32
	base := len(p.Coeffs)
	for j := d; j >= 0; j-- {
		base -= d - j + 1 // first coefficient of row j
		q := p.Coeffs[base+d-j]
		for i := d - j - 1; i >= 0; i-- {
			q = float32(q*u) + p.Coeffs[base+i]
		}
		if j == d {
			b = q
		} else {
			b = float32(b*v) + q
		}
	}
	return b
}

// The column form in SubtractBackground must stay At's operations: columnTerms repeats the
// inner loop above, and TestSubtractBackgroundIsAt compares the two on every pixel.

// check validates m against a width×height×channels image.
func (m BackgroundModel) check(width, height, channels int) error {
	if m.Degree < 1 || m.Degree > MaxBackgroundDegree {
		return fmt.Errorf("%w: background model of degree %d", ErrInvalidOptions, m.Degree)
	}
	if m.Width != width || m.Height != height || len(m.Coeffs) != channels {
		return fmt.Errorf("%w: background model for %d×%d×%d applied to %d×%d×%d",
			ErrShape, m.Width, m.Height, len(m.Coeffs), width, height, channels)
	}
	nt := len(BackgroundTerms(m.Degree))
	for c, cs := range m.Coeffs {
		if len(cs) != nt {
			return fmt.Errorf("%w: background model channel %d has %d coefficients, want %d", ErrShape, c, len(cs), nt)
		}
		for _, a := range cs {
			if f := float32(a); !finite32(f) {
				return fmt.Errorf("%w: background model channel %d has a non-finite coefficient", ErrInvalidOptions, c)
			}
		}
	}
	return nil
}

// CheckBackground validates the arguments of SubtractBackground (shared with its twins).
func CheckBackground(dst, src []float32, width, height, channels int, m BackgroundModel) error {
	if width <= 0 || height <= 0 || channels <= 0 || len(src) != width*height*channels || len(dst) != len(src) {
		return fmt.Errorf("%w: background: %d×%d×%d needs that many samples, got src %d, dst %d",
			ErrShape, width, height, channels, len(src), len(dst))
	}
	return m.check(width, height, channels)
}

// SubtractBackground writes src − model to dst for every pixel of the CHW image src
// (channels planes of width×height), channel c using m.Poly(c).At(x, y). Non-finite samples
// (no data) are copied unchanged, bits included. dst may be src. The model must have been
// fitted for this shape (errors wrap ErrShape or ErrInvalidOptions).
func SubtractBackground(dst, src []float32, width, height, channels int, m BackgroundModel) error {
	if err := CheckBackground(dst, src, width, height, channels, m); err != nil {
		return fmt.Errorf("cpu: %w", err)
	}
	plane := width * height
	for c := range channels {
		p := m.Poly(c)
		s, d := src[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
		// At's p_j depend on x only: computed once per column (same operations, same bits),
		// each pixel then runs the Horner steps in v.
		n := p.Degree + 1
		cols := make([]float32, width*n)
		for x := range width {
			p.columnTerms(cols[x*n:(x+1)*n], x)
		}
		for y := range height {
			v := float32(float32(y)*p.SV) + p.OV
			for x := range width {
				i := y*width + x
				val := s[i]
				if !finite32(val) {
					d[i] = val
					continue
				}
				pj := cols[x*n : (x+1)*n]
				b := pj[p.Degree]
				for j := p.Degree - 1; j >= 0; j-- {
					b = float32(b*v) + pj[j]
				}
				d[i] = val - b
			}
		}
	}
	return nil
}

// columnTerms writes At's p_j(u) of column x to out[j], j = 0…Degree.
func (p BackgroundPoly) columnTerms(out []float32, x int) {
	u := float32(float32(x)*p.SU) + p.OU
	d := p.Degree
	base := len(p.Coeffs)
	for j := d; j >= 0; j-- {
		base -= d - j + 1
		q := p.Coeffs[base+d-j]
		for i := d - j - 1; i >= 0; i-- {
			q = float32(q*u) + p.Coeffs[base+i]
		}
		out[j] = q
	}
}

// Evaluate returns the model of channel c in float64 at pixel (x, y) (the fitted surface
// minus its level), for tests and reports.
func (m BackgroundModel) Evaluate(c int, x, y float64) float64 {
	u, v := axisCoord(x, m.Width), axisCoord(y, m.Height)
	s := 0.0
	for k, t := range BackgroundTerms(m.Degree) {
		s += m.Coeffs[c][k] * math.Pow(u, float64(t[0])) * math.Pow(v, float64(t[1]))
	}
	return s
}
