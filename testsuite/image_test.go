package testsuite

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// randomImage is sky-like data with stars, NaN holes and a few ±Inf, in CHW order.
func randomImage(rng *rand.Rand, w, h, c int) []float32 {
	pix := make([]float32, w*h*c)
	for i := range pix {
		v := 1000 + 25*rng.NormFloat64()
		switch r := rng.Float64(); {
		case r < 0.01:
			v += 30000 * rng.Float64()
		case r < 0.02:
			v = math.NaN()
		case r < 0.021:
			v = math.Inf(1)
		}
		pix[i] = float32(v)
	}
	return pix
}

// TestPercentilesAreExactOnEveryBackend: the GPU selects the exact order statistics and the
// interpolation runs in float64 on the CPU, so the tolerance is zero (±0 may differ in sign).
func TestPercentilesAreExactOnEveryBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("GPU cross-check")
	}
	d := openGPU(t)
	rng := rand.New(rand.NewPCG(11, 12))
	ps := []float64{0, 1, 25, 50, 90, 99.9, 100}
	for _, n := range []int{1, 2, 257, 10007} {
		x := randomImage(rng, n, 1, 1)
		want := cpu.Percentiles(x, ps...)
		got, err := d.Percentiles(t.Context(), x, ps...)
		require.NoError(t, err)
		for i := range want {
			if want[i] == 0 && got[i] == 0 {
				continue
			}
			assert.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "n=%d P%v: %v vs %v", n, ps[i], got[i], want[i])
		}
	}
}

// TestStretchIsExactOnEveryBackend: the GPU compares samples with 255 thresholds found on the
// CPU from cpu.StretchChannel itself, so the 8-bit output is identical.
func TestStretchIsExactOnEveryBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("GPU cross-check")
	}
	d := openGPU(t)
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []int{1, 3} {
		w, h := 97, 41
		pix := randomImage(rng, w, h, c)
		opt := cpu.DefaultStretchOptions()
		want := cpu.StretchNRGBA(pix, w, h, c, opt)
		got, err := d.StretchNRGBA(t.Context(), pix, w, h, c, opt)
		require.NoError(t, err)
		assert.Equal(t, want.Pix, got.Pix, "%d channel(s)", c)
	}
}
