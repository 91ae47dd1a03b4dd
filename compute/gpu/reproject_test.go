package gpu

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

var reprojectInterps = []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3}

// affineCoordGrid samples (x, y) → (a·x + b·y + c, d·x + e·y + f).
func affineCoordGrid(w, h, step int, m [6]float64) *cpu.CoordGrid {
	return cpu.NewCoordGrid(w, h, step, func(x, y float64) (float64, float64, bool) {
		return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5], true
	})
}

func cpuReproject(t testing.TB, w, y0, rows int, src []float32, sw, sh int, g *cpu.CoordGrid, interp cpu.Interp) []float32 {
	t.Helper()
	dst := make([]float32, w*rows)
	require.NoError(t, cpu.Reproject(dst, w, y0, rows, src, sw, sh, g, cpu.ReprojectOptions{Interp: interp}))
	return dst
}

func TestReprojectIdentityEqualsCPUBitForBit(t *testing.T) {
	d := sharedDevice(t)
	const w, h = 37, 29 // not multiples of the workgroup (64)
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 1000)
	}
	src[5*w+7] = float32(math.NaN())
	g := affineCoordGrid(w, h, 16, [6]float64{1, 0, 0, 0, 1, 0})
	for _, interp := range reprojectInterps {
		t.Run(string(interp), func(t *testing.T) {
			want := cpuReproject(t, w, 0, h, src, w, h, g, interp)
			got := make([]float32, w*h)
			require.NoError(t, d.Reproject(context.Background(), got, w, 0, h, src, w, h, g, cpu.ReprojectOptions{Interp: interp}))
			for i := range want {
				require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "pixel %d", i)
			}
		})
	}
}

// smooth is a smooth test image: a broad Gaussian on a tilted sky. Its
// gradient is below smoothGrad everywhere.
func smooth(x, y float64) float64 {
	r2 := (x-40)*(x-40) + (y-30)*(y-30)
	return 200 + 0.5*x - 0.3*y + 1000*math.Exp(-r2/(2*8*8))
}

// smoothGrad bounds |∇smooth|: 0.59 for the sky plus 1000·e^-½/8 ≈ 76 for the Gaussian.
const smoothGrad = 77.0

// nearEdge reports whether c is within tol of an integer (where the tap set
// changes) or of the footprint edges −0.5 and n−0.5.
func nearEdge(c float64, n int, tol float64) bool {
	return math.Abs(c-math.Round(c)) < tol || math.Abs(c+0.5) < tol || math.Abs(c-float64(n)+0.5) < tol
}

func TestReprojectRotationScaleWithinTolerance(t *testing.T) {
	d := sharedDevice(t)
	const sw, sh = 83, 61
	src := make([]float32, sw*sh)
	rng := rand.New(rand.NewPCG(1, 2))
	for j := range sh {
		for i := range sw {
			src[j*sw+i] = float32(smooth(float64(i), float64(j)))
		}
	}
	for range 25 { // NaN holes
		src[rng.IntN(len(src))] = float32(math.NaN())
	}
	// Rotation 23°, scale 0.83, shifted so that part of the output is off the input.
	c, s := 0.83*math.Cos(0.4), 0.83*math.Sin(0.4)
	const w, h = 101, 77
	g := affineCoordGrid(w, h, 16, [6]float64{c, -s, 10.3, s, c, -8.7})
	// A non-affine mapping too (the grid's cubic interpolation is then not exact).
	warp := cpu.NewCoordGrid(w, h, 8, func(x, y float64) (float64, float64, bool) {
		return 0.7*x + 0.002*x*y + 3.1, 0.75*y - 0.001*x*x + 5.2, true
	})
	for _, tc := range []struct {
		name     string
		g        *cpu.CoordGrid
		y0, rows int
	}{
		{"rotation+scale, full image", g, 0, h},
		{"rotation+scale, band", g, 20, 33},
		{"quadratic warp", warp, 0, h},
	} {
		for _, interp := range reprojectInterps {
			t.Run(tc.name+"/"+string(interp), func(t *testing.T) {
				want := cpuReproject(t, w, tc.y0, tc.rows, src, sw, sh, tc.g, interp)
				got := make([]float32, len(want))
				require.NoError(t, d.Reproject(context.Background(), got, w, tc.y0, tc.rows, src, sw, sh, tc.g, cpu.ReprojectOptions{Interp: interp}))
				var worst float64
				var nanDiff, finite int
				for k := range want {
					x, y := k%w, tc.y0+k/w
					wn, gn := math.IsNaN(float64(want[k])), math.IsNaN(float64(got[k]))
					if wn != gn {
						ix, iy := tc.g.At(float64(x), float64(y))
						nanDiff++
						assert.True(t, nearEdge(ix, sw, CoordTolerance) || nearEdge(iy, sh, CoordTolerance),
							"NaN decision differs at (%d, %d) → (%.7f, %.7f): cpu %v gpu %v", x, y, ix, iy, want[k], got[k])
						continue
					}
					if wn {
						continue
					}
					finite++
					diff := math.Abs(float64(want[k]) - float64(got[k]))
					worst = max(worst, diff)
					bound := 1.5*smoothGrad*CoordTolerance + 1e-5*1300
					require.LessOrEqual(t, diff, bound, "(%d, %d): cpu %v gpu %v", x, y, want[k], got[k])
				}
				t.Logf("%d finite pixels, max |Δ| = %.3g, NaN decisions differing: %d", finite, worst, nanDiff)
				assert.Greater(t, finite, len(want)/4, "the mapping must cover the input")
				assert.LessOrEqual(t, nanDiff, len(want)/1000+1)
			})
		}
	}
}

func TestReprojectRowWindowCoversTheBand(t *testing.T) {
	const sw, sh, w, h = 50, 400, 40, 300
	g := affineCoordGrid(w, h, 16, [6]float64{1, 0, 0, 0, 1.2, 3})
	r0, r1 := reprojectRows(g, extendGrid(g), 100, 20, sh)
	// Band rows 100…119 map to input rows 123…145.8; the window must hold them and their taps.
	assert.LessOrEqual(t, r0, 123-3)
	assert.GreaterOrEqual(t, r1, 146+3)
	assert.Less(t, r1-r0, sh/2, "only part of the source is uploaded")
}

func TestReprojectTooLargeSource(t *testing.T) {
	opt := testOptions()
	opt.MaxBufferSize = 4096
	d := openDevice(t, opt)
	const sw, sh = 64, 64 // 16 KiB > 4 KiB
	src := make([]float32, sw*sh)
	g := affineCoordGrid(sw, sh, 16, [6]float64{1, 0, 0, 0, 1, 0})
	dst := make([]float32, sw*sh)
	err := d.Reproject(context.Background(), dst, sw, 0, sh, src, sw, sh, g, cpu.DefaultReprojectOptions())
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestReprojectRejectsBadArguments(t *testing.T) {
	d := sharedDevice(t)
	src := make([]float32, 16)
	g := affineCoordGrid(4, 4, 2, [6]float64{1, 0, 0, 0, 1, 0})
	ctx := context.Background()
	assert.ErrorIs(t, d.Reproject(ctx, make([]float32, 3), 4, 0, 1, src, 4, 4, g, cpu.DefaultReprojectOptions()), cpu.ErrShape)
	assert.ErrorIs(t, d.Reproject(ctx, make([]float32, 4), 4, 0, 1, src, 4, 4, nil, cpu.DefaultReprojectOptions()), cpu.ErrShape)
	assert.ErrorIs(t, d.Reproject(ctx, make([]float32, 4), 4, 0, 1, src, 4, 4, g, cpu.ReprojectOptions{Interp: "nearest"}), cpu.ErrInvalidOptions)
	assert.ErrorIs(t, d.Reproject(ctx, make([]float32, 40), 4, 0, 10, src, 4, 4, g, cpu.DefaultReprojectOptions()), cpu.ErrShape, "grid too short")
}
