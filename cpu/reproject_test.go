package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

var allInterps = []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3}

// affineGrid samples the mapping (x, y) → (a·x + b·y + c, d·x + e·y + f).
func affineGrid(w, h, step int, m [6]float64) *cpu.CoordGrid {
	return cpu.NewCoordGrid(w, h, step, func(x, y float64) (float64, float64, bool) {
		return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5], true
	})
}

// shiftGrid maps output (x, y) to input (x+dx, y+dy).
func shiftGrid(w, h int, dx, dy float64) *cpu.CoordGrid {
	return affineGrid(w, h, 16, [6]float64{1, 0, dx, 0, 1, dy})
}

// reproject runs cpu.Reproject over a whole w × h output image.
func reproject(t testing.TB, src []float32, sw, sh int, grid *cpu.CoordGrid, w, h int, interp cpu.Interp) []float32 {
	t.Helper()
	dst := make([]float32, w*h)
	opt := cpu.DefaultReprojectOptions()
	opt.Interp = interp
	require.NoError(t, cpu.Reproject(dst, w, 0, h, src, sw, sh, grid, opt))
	return dst
}

// fillImage fills a w × h image with f(x, y).
func fillImage(w, h int, f func(x, y float64) float64) []float32 {
	img := make([]float32, w*h)
	for y := range h {
		for x := range w {
			img[y*w+x] = float32(f(float64(x), float64(y)))
		}
	}
	return img
}

// gaussian returns a circular Gaussian of the given total flux and σ centred on (cx, cy).
func gaussian(flux, sigma, cx, cy float64) func(x, y float64) float64 {
	return func(x, y float64) float64 {
		r2 := (x-cx)*(x-cx) + (y-cy)*(y-cy)
		return flux / (2 * math.Pi * sigma * sigma) * math.Exp(-r2/(2*sigma*sigma))
	}
}

func TestReprojectIdentityCopiesInputBitForBit(t *testing.T) {
	const w, h = 37, 29
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 1000)
	}
	src[5*w+7] = float32(math.NaN()) // a NaN neighbour has weight 0 at integer positions
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			dst := reproject(t, src, w, h, shiftGrid(w, h, 0, 0), w, h, interp)
			for i := range src {
				if math.IsNaN(float64(src[i])) {
					assert.True(t, math.IsNaN(float64(dst[i])), "pixel %d", i)
					continue
				}
				require.Equal(t, math.Float32bits(src[i]), math.Float32bits(dst[i]), "pixel %d", i)
			}
		})
	}
}

func TestReprojectHalfPixelShiftOfRampIsExact(t *testing.T) {
	const w, h = 64, 48
	ramp := func(x, y float64) float64 { return 3*x + 2*y + 100 }
	src := fillImage(w, h, ramp)
	for _, interp := range []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic} {
		t.Run(string(interp), func(t *testing.T) {
			dst := reproject(t, src, w, h, shiftGrid(w, h, 0.5, 0), w, h, interp)
			// Away from the edges, where clamped taps bend the ramp.
			for y := 2; y < h-3; y++ {
				for x := 2; x < w-3; x++ {
					require.Equal(t, float32(ramp(float64(x)+0.5, float64(y))), dst[y*w+x], "(%d, %d)", x, y)
				}
			}
		})
	}
}

// Lanczos-3 does not reproduce a ramp exactly: its normalised weights have a
// first moment of up to ~0.018 px (t = 0.3), so the error is about
// 0.018·|f′|, 1e-3 of the peak for a Gaussian of σ ≈ 11 px and 3e-3 for
// σ = 2…4 px (bicubic is 0.7…6e-3 there). σ = 20 is the smooth case.
func TestReprojectLanczos3ShiftsSmoothGaussianWithin1e3(t *testing.T) {
	const w, h = 160, 160
	star := gaussian(1, 20, 79.6, 80.2)
	peak := star(79.6, 80.2)
	src := fillImage(w, h, star)
	dst := reproject(t, src, w, h, shiftGrid(w, h, 0.3, 0.3), w, h, cpu.InterpLanczos3)
	var worst float64
	for y := 3; y < h-4; y++ {
		for x := 3; x < w-4; x++ {
			want := star(float64(x)+0.3, float64(y)+0.3)
			worst = max(worst, math.Abs(float64(dst[y*w+x])-want)/peak)
		}
	}
	t.Logf("max error / peak = %.2e", worst)
	assert.Less(t, worst, 1e-3)
}

func TestReprojectNaNPoisonsOnlyItsSupport(t *testing.T) {
	const w, h, bad = 40, 40, 20
	src := fillImage(w, h, func(x, y float64) float64 { return 1 })
	src[bad*w+bad] = float32(math.NaN())
	// Shift by 0.25: output x samples input x+0.25, whose taps start at
	// x+lo and span n pixels, so it touches pixel 20 iff x ∈ [20−lo−n+1, 20−lo].
	for _, tc := range []struct {
		interp cpu.Interp
		lo, hi int // NaN outputs along each axis
	}{
		{cpu.InterpBilinear, 19, 20},
		{cpu.InterpBicubic, 18, 21},
		{cpu.InterpLanczos3, 17, 22},
	} {
		t.Run(string(tc.interp), func(t *testing.T) {
			dst := reproject(t, src, w, h, shiftGrid(w, h, 0.25, 0.25), w, h, tc.interp)
			for y := range h - 1 {
				for x := range w - 1 {
					v := float64(dst[y*w+x])
					if x >= tc.lo && x <= tc.hi && y >= tc.lo && y <= tc.hi {
						assert.True(t, math.IsNaN(v), "(%d, %d) = %v, want NaN", x, y, v)
					} else {
						assert.InDelta(t, 1, v, 1e-6, "(%d, %d)", x, y)
					}
				}
			}
		})
	}
}

func TestReprojectOutsideFootprintIsNaN(t *testing.T) {
	const w, h = 20, 10
	src := fillImage(w, h, func(x, y float64) float64 { return 10 + x })
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			// Output x samples input x−2.5: x = 2 hits the footprint's edge −0.5
			// (inside), x = 1 lies a pixel outside.
			dst := reproject(t, src, w, h, shiftGrid(w, h, -2.5, 0), w, h, interp)
			for y := range h {
				assert.True(t, math.IsNaN(float64(dst[y*w+0])))
				assert.True(t, math.IsNaN(float64(dst[y*w+1])))
				// Clamped taps replicate pixel 0; only bilinear ignores pixel 1 there.
				assert.InDelta(t, 10, dst[y*w+2], 0.1)
			}
			// Every output below the input (y+11 > 9.5) is NaN, never 0.
			dst = reproject(t, src, w, h, shiftGrid(w, h, 0, 11), w, h, interp)
			for i, v := range dst {
				require.True(t, math.IsNaN(float64(v)), "pixel %d = %v", i, v)
			}
		})
	}
}

func TestReprojectUndefinedMappingIsNaN(t *testing.T) {
	const w, h = 40, 40
	src := fillImage(w, h, func(x, y float64) float64 { return 5 })
	grid := cpu.NewCoordGrid(w, h, 8, func(x, y float64) (float64, float64, bool) {
		return x, y, x < 20 // behind the projection on the right half
	})
	dst := reproject(t, src, w, h, grid, w, h, cpu.InterpLanczos3)
	for y := range h {
		// Samples at x = 0, 8, 16 are finite: x < 8 is bicubic, [8, 16) falls
		// back to bilinear, and the cells touching x = 24 are NaN.
		for x := range 16 {
			assert.Equal(t, float32(5), dst[y*w+x], "(%d, %d)", x, y)
		}
		for x := 16; x < w; x++ {
			assert.True(t, math.IsNaN(float64(dst[y*w+x])), "(%d, %d)", x, y)
		}
	}
}

// rotationGrid maps the output onto a 1.15× finer input grid rotated by 23°.
func rotationGrid(w, h, step int) *cpu.CoordGrid {
	s, c := math.Sincos(23 * math.Pi / 180)
	k := 1.15
	return affineGrid(w, h, step, [6]float64{k * c, -k * s, 40, k * s, k * c, -30})
}

func TestReprojectIsBitIdenticalForAnyWorkersAndBands(t *testing.T) {
	const w, h = 150, 70 // wider than one 128-column strip
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(rng.Float64() * 500)
		if rng.Float64() < 0.01 {
			src[i] = float32(math.NaN())
		}
	}
	grid := rotationGrid(w, h, 16)
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			run := func(y0, rows, workers int) []float32 {
				dst := make([]float32, w*rows)
				require.NoError(t, cpu.Reproject(dst, w, y0, rows, src, w, h, grid, cpu.ReprojectOptions{Interp: interp, Workers: workers}))
				return dst
			}
			one := run(0, h, 1)
			three := run(0, h, 3)
			four := run(0, h, 4)
			bands := append(run(0, 13, 3), run(13, h-13, 2)...)
			finite := 0
			for i := range one {
				require.Equal(t, math.Float32bits(one[i]), math.Float32bits(three[i]), "pixel %d", i)
				require.Equal(t, math.Float32bits(one[i]), math.Float32bits(four[i]), "pixel %d", i)
				require.Equal(t, math.Float32bits(one[i]), math.Float32bits(bands[i]), "pixel %d", i)
				if !math.IsNaN(float64(one[i])) {
					finite++
				}
			}
			assert.Greater(t, finite, w*h/4, "the test must exercise real samples")
		})
	}
}

func TestReprojectConservesStarFluxWithFluxScale(t *testing.T) {
	const sw, sh = 128, 128
	const scale = 1.5 // output pixels are 1.5× larger
	star := gaussian(1e4, 2.2, 63.3, 64.6)
	src := fillImage(sw, sh, star)
	var in float64
	for _, v := range src {
		in += float64(v)
	}
	const w, h = 84, 84
	grid := affineGrid(w, h, 16, [6]float64{scale, 0, 0.25, 0, scale, 0.25})
	fs := cpu.FluxScale(1, scale)
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			dst := reproject(t, src, sw, sh, grid, w, h, interp)
			var out float64
			for _, v := range dst {
				if !math.IsNaN(float64(v)) {
					out += float64(v) * fs
				}
			}
			t.Logf("flux in %.3f out %.3f (%+.4f%%)", in, out, 100*(out/in-1))
			assert.InEpsilon(t, in, out, 0.005)
			// Without FluxScale the sum is off by 1.5² : the output keeps surface brightness.
			assert.InEpsilon(t, in/(scale*scale), out/fs, 0.005)
		})
	}
}

func TestFluxScale(t *testing.T) {
	assert.Equal(t, 2.25, cpu.FluxScale(1, 1.5))
	assert.Equal(t, 0.25, cpu.FluxScale(2, 1))
	for _, bad := range [][2]float64{{0, 1}, {1, -1}, {math.Inf(1), 1}, {1, math.NaN()}} {
		assert.True(t, math.IsNaN(cpu.FluxScale(bad[0], bad[1])), "%v", bad)
	}
}

// tanProject maps sky (ra, dec) in radians to gnomonic plane coordinates
// (radians) about the tangent point (ra0, dec0).
func tanProject(ra, dec, ra0, dec0 float64) (xi, eta float64) {
	sd, cd := math.Sincos(dec)
	sd0, cd0 := math.Sincos(dec0)
	sa, ca := math.Sincos(ra - ra0)
	den := sd*sd0 + cd*cd0*ca
	return cd * sa / den, (sd*cd0 - cd*sd0*ca) / den
}

// tanDeproject is the inverse of tanProject.
func tanDeproject(xi, eta, ra0, dec0 float64) (ra, dec float64) {
	sd0, cd0 := math.Sincos(dec0)
	den := cd0 - eta*sd0
	ra = ra0 + math.Atan2(xi, den)
	dec = math.Atan2(sd0+eta*cd0, math.Hypot(xi, den))
	return ra, dec
}

// tanToTan returns the pixel mapping from an output TAN grid (20"/px, tangent
// point RA 150°, Dec 60° at pixel (1024, 1024)) to an input TAN grid of
// 26"/px, rotated by 30°, whose tangent point is 3° away in RA, 2° in Dec.
func tanToTan() func(x, y float64) (float64, float64, bool) {
	const arcsec = 20 * math.Pi / 180 / 3600 // 20": an 11° wide field, to make the distortion count
	ra0, dec0 := 150*math.Pi/180, 60*math.Pi/180
	ra1, dec1 := ra0+3*math.Pi/180, dec0+2*math.Pi/180
	s, c := math.Sincos(30 * math.Pi / 180)
	return func(x, y float64) (float64, float64, bool) {
		ra, dec := tanDeproject((x-1024)*arcsec, (y-1024)*arcsec, ra0, dec0)
		xi, eta := tanProject(ra, dec, ra1, dec1)
		u, v := xi/(1.3*arcsec), eta/(1.3*arcsec)
		return c*u - s*v + 800, s*u + c*v + 800, true
	}
}

func TestCoordGridAccuracy(t *testing.T) {
	t.Run("affine mapping is reproduced exactly", func(t *testing.T) {
		g := rotationGrid(101, 67, 16)
		s, c := math.Sincos(23 * math.Pi / 180)
		for _, p := range [][2]float64{{0, 0}, {100, 66}, {3.7, 60.2}, {55, 12.5}} {
			ix, iy := g.At(p[0], p[1])
			assert.InDelta(t, 1.15*(c*p[0]-s*p[1])+40, ix, 1e-9)
			assert.InDelta(t, 1.15*(s*p[0]+c*p[1])-30, iy, 1e-9)
		}
	})
	t.Run("rotation+scale TAN to TAN with step 16 within 1e-3 px", func(t *testing.T) {
		const w, h = 2048, 2048
		fn := tanToTan()
		g := cpu.NewCoordGrid(w, h, 16, fn)
		var worst, worstLinear float64
		for y := 0; y < h; y += 3 {
			for x := 0; x < w; x += 3 {
				wx, wy, _ := fn(float64(x), float64(y))
				ix, iy := g.At(float64(x), float64(y))
				worst = max(worst, math.Hypot(ix-wx, iy-wy))
			}
		}
		// The same mapping on a bilinear grid, to show the test has teeth.
		for y := 8; y < h; y += 16 {
			for x := 8; x < w; x += 16 {
				wx, wy, _ := fn(float64(x), float64(y))
				x0, y0 := float64(x-8), float64(y-8)
				var lx, ly float64
				for _, d := range [][3]float64{{0, 0, 0.25}, {16, 0, 0.25}, {0, 16, 0.25}, {16, 16, 0.25}} {
					px, py, _ := fn(x0+d[0], y0+d[1])
					lx += d[2] * px
					ly += d[2] * py
				}
				worstLinear = max(worstLinear, math.Hypot(lx-wx, ly-wy))
			}
		}
		t.Logf("max error: bicubic %.2e px, bilinear %.2e px", worst, worstLinear)
		assert.Less(t, worst, 1e-3)
		assert.Greater(t, worstLinear, worst)
	})
	t.Run("NaN samples fall back to bilinear then NaN", func(t *testing.T) {
		g := cpu.NewCoordGrid(64, 64, 16, func(x, y float64) (float64, float64, bool) {
			return 2 * x, y, x != 48
		})
		ix, iy := g.At(8, 8) // cell 0: samples −1…2 (x ≤ 32) are finite, bicubic
		assert.InDelta(t, 16, ix, 1e-12)
		assert.InDelta(t, 8, iy, 1e-12)
		ix, _ = g.At(24, 8) // cell 1: samples 0..3 include x = 48 → bilinear of x = 16, 32
		assert.InDelta(t, 48, ix, 1e-12)
		ix, iy = g.At(40, 8) // cell 2 touches x = 48 itself
		assert.True(t, math.IsNaN(ix) && math.IsNaN(iy))
	})
}

func TestReprojectRejectsInvalidArguments(t *testing.T) {
	src := make([]float32, 10*10)
	grid := shiftGrid(10, 10, 0, 0)
	for _, tc := range []struct {
		name   string
		dst    []float32
		w, y0  int
		rows   int
		src    []float32
		sw, sh int
		grid   *cpu.CoordGrid
		opt    cpu.ReprojectOptions
		want   error
	}{
		{"unknown interp", make([]float32, 100), 10, 0, 10, src, 10, 10, grid, cpu.ReprojectOptions{Interp: "nearest"}, cpu.ErrInvalidOptions},
		{"empty interp", make([]float32, 100), 10, 0, 10, src, 10, 10, grid, cpu.ReprojectOptions{}, cpu.ErrInvalidOptions},
		{"negative workers", make([]float32, 100), 10, 0, 10, src, 10, 10, grid, cpu.ReprojectOptions{Interp: cpu.InterpBicubic, Workers: -1}, cpu.ErrInvalidOptions},
		{"dst too short", make([]float32, 99), 10, 0, 10, src, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"zero width", nil, 0, 0, 0, src, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"negative y0", make([]float32, 10), 10, -1, 1, src, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"src shape", make([]float32, 100), 10, 0, 10, src, 9, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"nil grid", make([]float32, 100), 10, 0, 10, src, 10, 10, nil, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"grid too short", make([]float32, 10), 10, 17, 1, src, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"grid too narrow", make([]float32, 20), 20, 0, 1, src, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"negative source row offset", make([]float32, 100), 10, 0, 10, src, 10, 10, grid, cpu.ReprojectOptions{Interp: cpu.InterpBicubic, SrcRow0: -1}, cpu.ErrInvalidOptions},
		{"empty src", make([]float32, 100), 10, 0, 10, nil, 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"src not whole rows", make([]float32, 100), 10, 0, 10, src[:55], 10, 10, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"src taller than the image", make([]float32, 100), 10, 0, 10, src, 10, 9, grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"window past the image's bottom", make([]float32, 100), 10, 0, 10, src[:50], 10, 10, grid, cpu.ReprojectOptions{Interp: cpu.InterpBicubic, SrcRow0: 6}, cpu.ErrShape},
		{"grid inconsistent", make([]float32, 100), 10, 0, 10, src, 10, 10, &cpu.CoordGrid{Step: 16, NX: 2, NY: 2, X: make([]float64, 3), Y: make([]float64, 4)}, cpu.DefaultReprojectOptions(), cpu.ErrShape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cpu.Reproject(tc.dst, tc.w, tc.y0, tc.rows, tc.src, tc.sw, tc.sh, tc.grid, tc.opt)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	assert.Nil(t, cpu.NewCoordGrid(10, 10, 0, nil))
	assert.NoError(t, cpu.DefaultReprojectOptions().Validate())
}
