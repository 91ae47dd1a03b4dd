package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// gradientScene is a synthetic frame: sky(x, y) (the truth), Gaussian stars of known flux,
// an optional extended object, Gaussian noise and NaN (scattered pixels and one 40×30 block).
type gradientScene struct {
	w, h   int
	sky    func(x, y float64) float64
	stars  []sceneStar
	noise  float64
	object bool // a 300 ADU, σ = 20 px blob at (0.7w, 0.3h)
	pix    []float32
}

type sceneStar struct{ x, y, flux float64 }

const starSigma = 1.5

func (s *gradientScene) render(rng *rand.Rand) {
	s.pix = make([]float32, s.w*s.h)
	// Isolated stars (≥ 16 px apart), so that an aperture holds one star.
	for i := 0; len(s.stars) < 40 && i < 4000; i++ {
		st := sceneStar{x: 12 + float64(rng.IntN(s.w-24)), y: 12 + float64(rng.IntN(s.h-24)),
			flux: 2000 + 40000*float64(len(s.stars)%5)}
		alone := true
		for _, o := range s.stars {
			alone = alone && math.Hypot(o.x-st.x, o.y-st.y) >= 16
		}
		if alone {
			s.stars = append(s.stars, st)
		}
	}
	for y := range s.h {
		for x := range s.w {
			fx, fy := float64(x), float64(y)
			v := s.sky(fx, fy)
			for _, st := range s.stars {
				d2 := (fx-st.x)*(fx-st.x) + (fy-st.y)*(fy-st.y)
				if d2 < 100 {
					v += st.flux / (2 * math.Pi * starSigma * starSigma) * math.Exp(-d2/(2*starSigma*starSigma))
				}
			}
			if s.object {
				ox, oy := fx-0.7*float64(s.w), fy-0.3*float64(s.h)
				v += 300 * math.Exp(-(ox*ox+oy*oy)/(2*20*20))
			}
			v += s.noise * rng.NormFloat64()
			if rng.IntN(100) == 0 || (x >= 30 && x < 70 && y >= 20 && y < 50) {
				v = math.NaN()
			}
			s.pix[y*s.w+x] = float32(v)
		}
	}
}

// residualSpan is max − min over the frame of truth sky − model (what removal leaves of the
// gradient), and the truth's own max − min.
func residualSpan(s *gradientScene, m cpu.BackgroundModel) (resid, amplitude float64) {
	rmin, rmax := math.Inf(1), math.Inf(-1)
	smin, smax := math.Inf(1), math.Inf(-1)
	for y := 0; y < s.h; y += 4 {
		for x := 0; x < s.w; x += 4 {
			t := s.sky(float64(x), float64(y))
			r := t - m.Evaluate(0, float64(x), float64(y))
			rmin, rmax = min(rmin, r), max(rmax, r)
			smin, smax = min(smin, t), max(smax, t)
		}
	}
	return rmax - rmin, smax - smin
}

// apertureFlux is Σ(pix − level) within 6 px of (x, y), and the aperture's pixel count.
func apertureFlux(pix []float32, w int, x, y, level float64) (float64, int) {
	s, n := 0.0, 0
	for dy := -6; dy <= 6; dy++ {
		for dx := -6; dx <= 6; dx++ {
			if dx*dx+dy*dy > 36 {
				continue
			}
			v := float64(pix[(int(y)+dy)*w+int(x)+dx])
			if math.IsNaN(v) {
				return math.NaN(), 0
			}
			s += v - level
			n++
		}
	}
	return s, n
}

func TestBackgroundRemovalFlattensKnownGradients(t *testing.T) {
	const w, h = 320, 240
	linear := func(x, y float64) float64 { return 1000 + 0.5*x - 0.4*y }
	quadratic := func(x, y float64) float64 {
		u, v := x/w-0.3, y/h-0.6
		return 1000 + 600*(u*u+0.5*v*v) + 40*u
	}
	tests := []struct {
		name     string
		sky      func(x, y float64) float64
		degree   int
		object   bool
		maxResid float64 // fraction of the truth's amplitude
	}{
		{"plane, poly1", linear, 1, false, 0.01},
		{"plane with an extended object, poly1", linear, 1, true, 0.01},
		{"quadratic, poly2", quadratic, 2, false, 0.01},
		{"quadratic with an extended object, poly2", quadratic, 2, true, 0.01},
		{"plane, poly2", linear, 2, false, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &gradientScene{w: w, h: h, sky: tt.sky, noise: 10, object: tt.object}
			s.render(rand.New(rand.NewPCG(5, 6)))
			opt := cpu.DefaultBackgroundOptions()
			opt.Degree = tt.degree
			m, err := cpu.FitBackground(s.pix, w, h, 1, opt)
			require.NoError(t, err)
			resid, amp := residualSpan(s, m)
			t.Logf("gradient %.1f ADU → residual %.3f ADU (%.3f %%), boxes %d used %d, level %.2f",
				amp, resid, 100*resid/amp, m.Boxes, m.Used, m.Level[0])
			assert.Less(t, resid/amp, tt.maxResid, "residual gradient")
			assert.Less(t, m.Used, m.Boxes, "the NaN block's box or the object are left out")

			out := make([]float32, len(s.pix))
			require.NoError(t, cpu.SubtractBackground(out, s.pix, w, h, 1, m))
			for i, v := range s.pix {
				if math.IsNaN(float64(v)) {
					require.Equal(t, math.Float32bits(v), math.Float32bits(out[i]), "NaN kept at %d", i)
				} else {
					require.False(t, math.IsNaN(float64(out[i])))
				}
			}
			// Star fluxes over the kept level are the true fluxes within the noise: 4σ of
			// the aperture's noise plus the part of the PSF outside 6 px (negligible).
			worst := 0.0
			for _, st := range s.stars {
				if tt.object && math.Hypot(st.x-0.7*w, st.y-0.3*h) < 80 {
					continue
				}
				f, n := apertureFlux(out, w, st.x, st.y, m.Level[0])
				if n == 0 {
					continue
				}
				z := (f - st.flux) / (s.noise * math.Sqrt(float64(n)))
				worst = max(worst, math.Abs(z))
				assert.Less(t, math.Abs(z), 4.5, "star at (%.0f, %.0f): flux %.0f, want %.0f", st.x, st.y, f, st.flux)
			}
			t.Logf("worst star flux error: %.2f σ", worst)
		})
	}
}

// TestBackgroundStarFluxesAreWrongWithoutRemoval: the flux check above can fail — the same
// measure on the raw frame is off by the gradient under the aperture.
func TestBackgroundStarFluxesAreWrongWithoutRemoval(t *testing.T) {
	const w, h = 320, 240
	s := &gradientScene{w: w, h: h, sky: func(x, y float64) float64 { return 1000 + 0.5*x - 0.4*y }, noise: 10}
	s.render(rand.New(rand.NewPCG(5, 6)))
	m, err := cpu.FitBackground(s.pix, w, h, 1, cpu.DefaultBackgroundOptions())
	require.NoError(t, err)
	worst := 0.0
	for _, st := range s.stars {
		if f, n := apertureFlux(s.pix, w, st.x, st.y, m.Level[0]); n > 0 {
			worst = max(worst, math.Abs(f-st.flux)/(s.noise*math.Sqrt(float64(n))))
		}
	}
	assert.Greater(t, worst, 20.0, "worst star flux error in σ without removal")
}

func TestBackgroundRejectionKeepsAnExtendedObjectOutOfTheFit(t *testing.T) {
	const w, h = 320, 240
	s := &gradientScene{w: w, h: h, sky: func(x, y float64) float64 { return 1000 + 0.5*x - 0.4*y }, noise: 10, object: true}
	s.render(rand.New(rand.NewPCG(5, 6)))
	opt := cpu.DefaultBackgroundOptions()
	m, err := cpu.FitBackground(s.pix, w, h, 1, opt)
	require.NoError(t, err)
	opt.Reject = 100 // no box rejected
	loose, err := cpu.FitBackground(s.pix, w, h, 1, opt)
	require.NoError(t, err)
	r, amp := residualSpan(s, m)
	rl, _ := residualSpan(s, loose)
	t.Logf("residual with rejection %.2f ADU, without %.2f ADU (of %.0f)", r, rl, amp)
	assert.Less(t, 3*r, rl, "rejecting the object's boxes matters")
}

func TestBackgroundAchromaticAndPerChannel(t *testing.T) {
	const w, h = 160, 128
	rng := rand.New(rand.NewPCG(7, 8))
	plane := w * h
	src := make([]float32, 3*plane)
	slope := [3]float64{0.8, 0.3, -0.2} // a coloured gradient (orange light pollution)
	for c := range 3 {
		for y := range h {
			for x := range w {
				src[c*plane+y*w+x] = float32(500*float64(c+1) + slope[c]*float64(x) + 0.1*float64(y) + 5*rng.NormFloat64())
			}
		}
	}
	m, err := cpu.FitBackground(src, w, h, 3, cpu.DefaultBackgroundOptions())
	require.NoError(t, err)
	assert.Equal(t, m.Coeffs[0], m.Coeffs[1], "one surface for every channel")
	assert.Equal(t, m.Coeffs[0], m.Coeffs[2])
	// The luminance slope along x is 0.299·0.8 + 0.587·0.3 + 0.114·(−0.2) per px; in u it
	// is that times (w−1)/2.
	assert.InDelta(t, (0.299*0.8+0.587*0.3-0.114*0.2)*(w-1)/2, m.Coeffs[0][1], 0.5)
	out := make([]float32, len(src))
	require.NoError(t, cpu.SubtractBackground(out, src, w, h, 3, m))
	j := 37*w + 91
	assert.Equal(t, src[j]-src[plane+j], out[j]-out[plane+j], "channel differences are kept")

	opt := cpu.DefaultBackgroundOptions()
	opt.PerChannel = true
	pc, err := cpu.FitBackground(src, w, h, 3, opt)
	require.NoError(t, err)
	for c := range 3 {
		assert.InDelta(t, slope[c]*(w-1)/2, pc.Coeffs[c][1], 0.5, "channel %d slope", c)
		assert.InDelta(t, 500*float64(c+1)+slope[c]*(w-1)/2+0.1*(h-1)/2, pc.Level[c], 2, "channel %d level kept", c)
	}
}

func TestBackgroundPolyMatchesTheFloat64Surface(t *testing.T) {
	for d := 1; d <= cpu.MaxBackgroundDegree; d++ {
		m := cpu.BackgroundModel{Degree: d, Width: 1000, Height: 700}
		cs := make([]float64, len(cpu.BackgroundTerms(d)))
		for k := range cs {
			cs[k] = 37.5 / float64(k+1) * float64(1-2*(k%2))
		}
		m.Coeffs = [][]float64{cs}
		p := m.Poly(0)
		for _, xy := range [][2]int{{0, 0}, {999, 699}, {500, 350}, {13, 600}} {
			got := float64(p.At(xy[0], xy[1]))
			want := m.Evaluate(0, float64(xy[0]), float64(xy[1]))
			assert.InDelta(t, want, got, 1e-4, "degree %d at %v", d, xy)
		}
	}
}

func TestSubtractBackgroundInPlaceAndDeterministic(t *testing.T) {
	const w, h = 97, 61
	s := &gradientScene{w: w, h: h, sky: func(x, y float64) float64 { return 200 + x - 2*y + 0.01*x*y }, noise: 3}
	s.render(rand.New(rand.NewPCG(9, 10)))
	opt := cpu.DefaultBackgroundOptions()
	opt.Degree, opt.Boxes = 2, 8
	m, err := cpu.FitBackground(s.pix, w, h, 1, opt)
	require.NoError(t, err)
	m2, err := cpu.FitBackground(s.pix, w, h, 1, opt)
	require.NoError(t, err)
	assert.Equal(t, m, m2)
	out := make([]float32, len(s.pix))
	require.NoError(t, cpu.SubtractBackground(out, s.pix, w, h, 1, m))
	in := append([]float32(nil), s.pix...)
	require.NoError(t, cpu.SubtractBackground(in, in, w, h, 1, m))
	for i := range out {
		require.Equal(t, math.Float32bits(out[i]), math.Float32bits(in[i]))
	}
}

func TestBackgroundInvalidInputs(t *testing.T) {
	good := cpu.DefaultBackgroundOptions()
	pix := make([]float32, 64*64)
	for i := range pix {
		pix[i] = float32(i % 7)
	}
	nan := make([]float32, 64*64)
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	fits := []struct {
		name  string
		src   []float32
		w, h  int
		ch    int
		opt   func(o *cpu.BackgroundOptions)
		cause error
	}{
		{"degree 0", pix, 64, 64, 1, func(o *cpu.BackgroundOptions) { o.Degree = 0 }, cpu.ErrInvalidOptions},
		{"degree 4", pix, 64, 64, 1, func(o *cpu.BackgroundOptions) { o.Degree = 4 }, cpu.ErrInvalidOptions},
		{"no boxes", pix, 64, 64, 1, func(o *cpu.BackgroundOptions) { o.Boxes = 0 }, cpu.ErrInvalidOptions},
		{"NaN kappa", pix, 64, 64, 1, func(o *cpu.BackgroundOptions) { o.Kappa = math.NaN() }, cpu.ErrInvalidOptions},
		{"wrong length", pix, 64, 63, 1, func(*cpu.BackgroundOptions) {}, cpu.ErrShape},
		{"zero channels", pix, 64, 64, 0, func(*cpu.BackgroundOptions) {}, cpu.ErrShape},
		{"only NaN", nan, 64, 64, 1, func(*cpu.BackgroundOptions) {}, cpu.ErrBackgroundFit},
		{"too small for the degree", pix[:8*8], 8, 8, 1, func(*cpu.BackgroundOptions) {}, cpu.ErrBackgroundFit},
	}
	for _, tt := range fits {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.opt(&o)
			_, err := cpu.FitBackground(tt.src, tt.w, tt.h, tt.ch, o)
			require.ErrorIs(t, err, tt.cause)
		})
	}

	m, err := cpu.FitBackground(pix, 64, 64, 1, good)
	require.NoError(t, err)
	out := make([]float32, len(pix))
	require.ErrorIs(t, cpu.SubtractBackground(out, pix, 32, 128, 1, m), cpu.ErrShape, "model for another shape")
	require.ErrorIs(t, cpu.SubtractBackground(out[:10], pix, 64, 64, 1, m), cpu.ErrShape)
	bad := m
	bad.Coeffs = [][]float64{{math.Inf(1), 0, 0}}
	require.ErrorIs(t, cpu.SubtractBackground(out, pix, 64, 64, 1, bad), cpu.ErrInvalidOptions)
}

// TestSubtractBackgroundIsAt: the column-wise evaluation of SubtractBackground gives, on every
// pixel and for every degree, the bits of src − BackgroundPoly.At (the definition the WGSL
// twin follows).
func TestSubtractBackgroundIsAt(t *testing.T) {
	const w, h = 131, 77
	rng := rand.New(rand.NewPCG(11, 12))
	src := make([]float32, 2*w*h)
	for i := range src {
		src[i] = float32(1000 * rng.NormFloat64())
	}
	for d := 1; d <= cpu.MaxBackgroundDegree; d++ {
		m := cpu.BackgroundModel{Degree: d, Width: w, Height: h}
		for range 2 {
			cs := make([]float64, len(cpu.BackgroundTerms(d)))
			for k := range cs {
				cs[k] = (rng.Float64() - 0.5) * math.Pow(10, 3*rng.Float64())
			}
			m.Coeffs = append(m.Coeffs, cs)
		}
		out := make([]float32, len(src))
		require.NoError(t, cpu.SubtractBackground(out, src, w, h, 2, m))
		for c := range 2 {
			p := m.Poly(c)
			for y := range h {
				for x := range w {
					i := c*w*h + y*w + x
					require.Equal(t, math.Float32bits(src[i]-p.At(x, y)), math.Float32bits(out[i]), "degree %d (%d, %d, %d)", d, x, y, c)
				}
			}
		}
	}
}
