package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ulps32 is the distance in float32 units in the last place between a and b
// (finite, same sign region).
func ulps32(a, b float32) int64 {
	ia, ib := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if ia < 0 {
		ia = math.MinInt32 - ia
	}
	if ib < 0 {
		ib = math.MinInt32 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func TestLanczos3WeightsMatchDirectFormula(t *testing.T) {
	direct := func(t float64) [maxTaps]float64 {
		var w [maxTaps]float64
		var sum float64
		for k := range maxTaps {
			px := math.Pi * (t - float64(k-2))
			w[k] = 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
			sum += w[k]
		}
		for k := range w {
			w[k] /= sum
		}
		return w
	}
	rng := rand.New(rand.NewPCG(7, 8))
	ts := []float64{1e-9, 1e-6, 0.001, 0.25, 0.3, 0.5, 0.75, 0.999, 1 - 1e-9, math.Nextafter(1, 0)}
	for range 20000 {
		ts = append(ts, rng.Float64())
	}
	var worst float64
	for _, tt := range ts {
		var w [maxTaps]float64
		lanczos3Weights(&w, tt)
		want := direct(tt)
		for k := range w {
			worst = max(worst, math.Abs(w[k]-want[k]))
		}
	}
	t.Logf("max |Δw| = %.2e", worst)
	assert.Less(t, worst, 1e-15)

	t.Run("tiny t tends to the impulse without overflow", func(t *testing.T) {
		for _, tt := range []float64{1e-160, 1e-300, 5e-324} {
			var w [maxTaps]float64
			lanczos3Weights(&w, tt)
			assert.InDelta(t, 1, w[2], 1e-15, "t=%g", tt)
			for k, v := range w {
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "t=%g w[%d]=%v", tt, k, v)
			}
		}
	})
	t.Run("sinThirdPi is within 3 ulps of math.Sin", func(t *testing.T) {
		for i := range 1001 {
			s := float64(i) / 1000
			want := math.Sin(math.Pi * s / 3)
			assert.InDelta(t, want, sinThirdPi(s), 6.7e-16*want, "s=%g", s)
		}
	})
}

func TestFastPathEqualsClampedSumBitForBit(t *testing.T) {
	const w, h = 40, 30
	rng := rand.New(rand.NewPCG(9, 10))
	pix := make([]float32, w*h)
	for i := range pix {
		pix[i] = float32(rng.NormFloat64() * 100)
		switch rng.IntN(40) {
		case 0:
			pix[i] = float32(math.NaN())
		case 1:
			pix[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		case 2:
			pix[i] = float32(math.Copysign(0, -1))
		}
	}
	img := newSrcImage(pix, w, h, 0)
	for _, kind := range []interpKind{kindBilinear, kindBicubic, kindLanczos3} {
		nan, fast := 0, 0
		for range 20000 {
			ix, iy := rng.Float64()*float64(w+1)-1, rng.Float64()*float64(h+1)-1
			if rng.IntN(10) == 0 {
				ix = math.Floor(ix) // zero weights
			}
			got := reprojectPixel(img, ix, iy, kind)
			if !(ix >= -0.5 && ix <= float64(w)-0.5 && iy >= -0.5 && iy <= float64(h)-0.5) {
				require.True(t, math.IsNaN(float64(got)))
				continue
			}
			fx, fy := math.Floor(ix), math.Floor(iy)
			var wx, wy [maxTaps]float64
			n, lo := kernelWeights(&wx, ix-fx, kind)
			kernelWeights(&wy, iy-fy, kind)
			i0, j0 := int(fx)+lo, int(fy)+lo
			if i0 >= 0 && j0 >= 0 && i0+n <= w && j0+n <= h && nonZero(&wx, n) && nonZero(&wy, n) {
				fast++
			}
			want := clampedSum(img, &wx, &wy, n, i0, j0)
			if math.IsNaN(float64(want)) {
				nan++
				require.True(t, math.IsNaN(float64(got)), "kind %d at (%g, %g)", kind, ix, iy)
				continue
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(got), "kind %d at (%g, %g)", kind, ix, iy)
		}
		assert.Greater(t, fast, 5000, "kind %d: the fast path must be exercised", kind)
		assert.Greater(t, nan, 500, "kind %d: NaN/Inf taps must be exercised", kind)
	}
}

// The speed work changed only rounding: At sums sample columns first and the
// Lanczos weights come from two polynomial sines. Against the kernels before
// it, NaN decisions are identical and values agree within a few float32 ulps.
func TestReprojectMatchesLegacyKernels(t *testing.T) {
	const sw, sh, w, h = 90, 70, 100, 80
	rng := rand.New(rand.NewPCG(11, 12))
	src := make([]float32, sw*sh)
	for i := range src {
		src[i] = float32(500 + 50*rng.NormFloat64())
		if rng.IntN(200) == 0 {
			src[i] = float32(math.NaN())
		}
	}
	s, c := math.Sincos(3 * math.Pi / 180)
	grids := map[string]*CoordGrid{
		"rotation 3°": NewCoordGrid(w, h, 16, func(x, y float64) (float64, float64, bool) {
			return c*x - s*y + 2.3, s*x + c*y - 4.1, true
		}),
		"warp with undefined corner": NewCoordGrid(w, h, 8, func(x, y float64) (float64, float64, bool) {
			return 0.9*x + 0.001*x*y - 3, 0.8*y - 0.0007*x*x + 2, x+y < 150
		}),
	}
	for name, g := range grids {
		for _, interp := range []Interp{InterpBilinear, InterpBicubic, InterpLanczos3} {
			t.Run(name+"/"+string(interp), func(t *testing.T) {
				want := make([]float32, w*h)
				legacyReproject(want, w, 0, h, src, sw, sh, g, interp)
				got := make([]float32, w*h)
				require.NoError(t, Reproject(got, w, 0, h, src, sw, sh, g, ReprojectOptions{Interp: interp, Workers: 3}))
				var worst int64
				finite := 0
				for i := range want {
					wn, gn := math.IsNaN(float64(want[i])), math.IsNaN(float64(got[i]))
					require.Equal(t, wn, gn, "pixel %d: legacy %v, now %v", i, want[i], got[i])
					if !wn {
						finite++
						worst = max(worst, ulps32(want[i], got[i]))
					}
				}
				t.Logf("%d finite pixels, max %d ulp", finite, worst)
				assert.Greater(t, finite, w*h/3)
				assert.LessOrEqual(t, worst, int64(2))
			})
		}
	}
}

func TestGridRowEqualsAtBitForBit(t *testing.T) {
	const w, h = 75, 50
	for _, g := range []*CoordGrid{
		NewCoordGrid(w, h, 16, func(x, y float64) (float64, float64, bool) {
			return 0.9*x + 0.001*x*y - 3, 0.8*y - 0.0007*x*x + 2, x+y < 60
		}),
		NewCoordGrid(w, h, 7, func(x, y float64) (float64, float64, bool) { return y * 1.1, x - 0.3, true }),
		NewCoordGrid(w, h, 100, func(x, y float64) (float64, float64, bool) { return y, x, true }), // 2×2 samples
	} {
		cols := newGridCols(g, w)
		gr := newGridRow(g, cols)
		for y := range h {
			gr.setRow(y)
			for x := range w {
				ix, iy := gr.at(x)
				jx, jy := g.At(float64(x), float64(y))
				require.Equal(t, math.Float64bits(jx), math.Float64bits(ix), "(%d, %d)", x, y)
				require.Equal(t, math.Float64bits(jy), math.Float64bits(iy), "(%d, %d)", x, y)
				lx, ly := legacyAt(g, float64(x), float64(y))
				if math.IsNaN(lx) {
					require.True(t, math.IsNaN(ix))
					continue
				}
				require.InDelta(t, lx, ix, 1e-12)
				require.InDelta(t, ly, iy, 1e-12)
			}
		}
	}
}

func TestFeatherWeightsMatchLegacyOnAFrame(t *testing.T) {
	// A rotated frame's footprint (corners cut by a circle) with bad pixels.
	const w, h = 300, 260
	rng := rand.New(rand.NewPCG(3, 4))
	mask := make([]bool, w*h)
	for y := range h {
		for x := range w {
			dx, dy := float64(x-w/2), float64(y-h/2)
			mask[y*w+x] = dx*dx+dy*dy < 170*170 && rng.Float64() > 1e-3
		}
	}
	want, got := make([]float32, len(mask)), make([]float32, len(mask))
	for _, feather := range []float64{5, 32, 200} {
		legacyFeatherWeights(want, mask, w, h, feather)
		require.NoError(t, FeatherWeights(got, mask, w, h, feather))
		for i := range want {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "feather %g pixel %d", feather, i)
		}
	}
}
