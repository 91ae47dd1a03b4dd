package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// bruteDT is the squared distance to the nearest invalid or outside pixel,
// by exhaustive search.
func bruteDT(mask []bool, w, h int) []int64 {
	out := make([]int64, w*h)
	for y := range h {
		for x := range w {
			if !mask[y*w+x] {
				continue
			}
			e := int64(min(x+1, w-x, y+1, h-y))
			best := e * e
			for yy := range h {
				for xx := range w {
					if !mask[yy*w+xx] {
						dx, dy := int64(x-xx), int64(y-yy)
						best = min(best, dx*dx+dy*dy)
					}
				}
			}
			out[y*w+x] = best
		}
	}
	return out
}

func TestSquaredDistanceTransformMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		density := []float64{0, 0.002, 0.02, 0.2, 0.7, 1}[trial%6]
		mask := make([]bool, w*h)
		for i := range mask {
			mask[i] = rng.Float64() >= density
		}
		require.Equal(t, bruteDT(mask, w, h), cpu.SquaredDistanceTransform(mask, w, h), "trial %d (%d×%d, density %g)", trial, w, h, density)
	}
}

func TestFeatherWeights(t *testing.T) {
	t.Run("ramps from the image edge over feather pixels", func(t *testing.T) {
		const w, h = 12, 1
		mask := make([]bool, w*h)
		for i := range mask {
			mask[i] = true
		}
		dst := make([]float32, w*h)
		require.NoError(t, cpu.FeatherWeights(dst, mask, w, h, 4))
		// A single row: every pixel is 1 from the top/bottom edge.
		for _, v := range dst {
			assert.Equal(t, float32(0.25), v)
		}
		const w2, h2 = 12, 12
		mask2 := make([]bool, w2*h2)
		for i := range mask2 {
			mask2[i] = true
		}
		dst2 := make([]float32, w2*h2)
		require.NoError(t, cpu.FeatherWeights(dst2, mask2, w2, h2, 4))
		assert.Equal(t, []float32{0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25}, dst2[6*w2:7*w2])
	})
	t.Run("a hole gets weight 0 and a Euclidean ramp around it", func(t *testing.T) {
		const w, h = 21, 21
		mask := make([]bool, w*h)
		for i := range mask {
			mask[i] = true
		}
		mask[10*w+10] = false
		dst := make([]float32, w*h)
		require.NoError(t, cpu.FeatherWeights(dst, mask, w, h, 5))
		assert.Equal(t, float32(0), dst[10*w+10])
		assert.Equal(t, float32(0.2), dst[10*w+11])
		assert.InDelta(t, math.Sqrt2/5, dst[11*w+11], 1e-7)
		assert.InDelta(t, math.Sqrt(13)/5, dst[12*w+13], 1e-7)
	})
	t.Run("feather 0 is the binary mask", func(t *testing.T) {
		dst := make([]float32, 3)
		require.NoError(t, cpu.FeatherWeights(dst, []bool{true, false, true}, 3, 1, 0))
		assert.Equal(t, []float32{1, 0, 1}, dst)
	})
	t.Run("bad shapes and feathers are errors", func(t *testing.T) {
		assert.ErrorIs(t, cpu.FeatherWeights(make([]float32, 2), make([]bool, 3), 3, 1, 1), cpu.ErrShape)
		assert.ErrorIs(t, cpu.FeatherWeights(make([]float32, 3), make([]bool, 3), 3, 1, -1), cpu.ErrInvalidOptions)
		assert.ErrorIs(t, cpu.FeatherWeights(make([]float32, 3), make([]bool, 3), 3, 1, math.NaN()), cpu.ErrInvalidOptions)
	})
}

// FeatherWeights caps the distance transform at ceil(feather): the weights
// must still equal min(1, √d/feather) of the exact distances, bit for bit,
// for feathers below, at and beyond the image size.
func TestFeatherWeightsEqualExactFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 48 {
		w, h := 1+rng.IntN(50), 1+rng.IntN(50)
		density := []float64{0, 0.002, 0.02, 0.2}[trial%4]
		feather := []float64{0.4, 1, 2.5, 3, 7.25, 16, 1e9}[trial%7]
		mask := make([]bool, w*h)
		for i := range mask {
			mask[i] = rng.Float64() >= density
		}
		d2 := bruteDT(mask, w, h)
		got := make([]float32, w*h)
		require.NoError(t, cpu.FeatherWeights(got, mask, w, h, feather))
		for i, ok := range mask {
			want := float32(0)
			if ok {
				want = float32(min(1, math.Sqrt(float64(d2[i]))/feather))
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(got[i]),
				"trial %d (%d×%d, feather %g) pixel %d", trial, w, h, feather, i)
		}
	}
}
