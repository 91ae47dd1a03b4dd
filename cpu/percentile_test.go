package cpu_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zmosaic/zmosaic/cpu"
)

func TestPercentiles(t *testing.T) {
	n := math.NaN()
	tests := []struct {
		name string
		x    []float32
		ps   []float64
		want []float64
	}{
		// np.percentile([1,2,3,4], [0,25,50,75,100]) = [1, 1.75, 2.5, 3.25, 4]
		{"NumPy linear interpolation on [1,2,3,4]", []float32{4, 2, 1, 3}, []float64{0, 25, 50, 75, 100}, []float64{1, 1.75, 2.5, 3.25, 4}},
		// np.percentile([10,20,30,40,50], [90, 10, 33]) = [46, 14, 23.2]
		{"unordered percentiles keep their order", []float32{50, 10, 40, 20, 30}, []float64{90, 10, 33}, []float64{46, 14, 23.2}},
		{"NaN and Inf samples are ignored", []float32{float32(n), 1, float32(math.Inf(1)), 2, 3, 4, float32(n)}, []float64{25}, []float64{1.75}},
		{"a single sample is every percentile", []float32{7}, []float64{0, 50, 100}, []float64{7, 7, 7}},
		{"all-NaN input gives NaN", []float32{float32(n), float32(n)}, []float64{25, 90}, []float64{n, n}},
		{"empty input gives NaN", nil, []float64{50}, []float64{n}},
		{"percentiles outside [0,100] give NaN", []float32{1, 2}, []float64{-1, 101, n, 50}, []float64{n, n, n, 1.5}},
		{"ties are handled", []float32{5, 5, 5, 1, 5}, []float64{10, 50}, []float64{2.6, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDeltaSlice(t, tc.want, cpu.Percentiles(tc.x, tc.ps...), 1e-12)
		})
	}
}

// TestPercentilesMatchSorting compares quickselect with a sorted reference on
// large random data with many duplicates.
func TestPercentilesMatchSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 100001)
	for i := range x {
		x[i] = float32(rng.IntN(5000)) + float32(rng.NormFloat64())
		if i%97 == 0 {
			x[i] = float32(math.NaN())
		}
	}
	orig := slices.Clone(x)
	ps := []float64{99.9, 0, 1, 25, 50, 90, 100, 37.5}
	got := cpu.Percentiles(x, ps...)
	assert.Equal(t, bits(orig), bits(x), "input is not modified")
	var s []float64
	for _, v := range x {
		if !math.IsNaN(float64(v)) {
			s = append(s, float64(v))
		}
	}
	slices.Sort(s)
	for i, p := range ps {
		vi := float64(len(s)-1) * p / 100
		lo := int(math.Floor(vi))
		hi := min(lo+1, len(s)-1)
		want := s[lo] + (vi-float64(lo))*(s[hi]-s[lo])
		assert.InDelta(t, want, got[i], 1e-9, "p=%v", p)
	}
}

func TestSigmaClippedStats(t *testing.T) {
	t.Run("outliers are clipped away", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, 20000)
		for i := range x {
			x[i] = float32(100 + 5*rng.NormFloat64())
		}
		for i := 0; i < len(x); i += 50 { // 2% hot pixels
			x[i] = 60000
		}
		x[1] = float32(math.NaN())
		mean, median, std, n := cpu.SigmaClippedStats(x, 3, 5)
		assert.InDelta(t, 100, mean, 0.2)
		assert.InDelta(t, 100, median, 0.2)
		assert.InDelta(t, 5, std, 0.2)
		assert.Less(t, n, 20000-400)
		assert.Greater(t, n, 19000)
	})
	t.Run("hand-computed clip removes the single outlier", func(t *testing.T) {
		// [1,2,3,4,5,6,7,8,9,10,1000]: median 6, std 285.9, so 1000 is 3.5 std
		// out and goes at κ 3; [1..10] (5.5 ± 3·2.87) then stays. At κ 1 the
		// second pass (median 5.5, std √8.25) also drops 1, 2, 9, 10, leaving
		// [3..8]: mean 5.5, std √(35/12).
		x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000}
		_, _, _, n := cpu.SigmaClippedStats(x, 3, 5)
		assert.Equal(t, 10, n)
		mean, median, std, n := cpu.SigmaClippedStats(x, 1, 2)
		assert.Equal(t, 6, n)
		assert.InDelta(t, 5.5, mean, 1e-12)
		assert.InDelta(t, 5.5, median, 1e-12)
		assert.InDelta(t, math.Sqrt(35.0/12), std, 1e-12)
	})
	t.Run("maxIters 1 clips once", func(t *testing.T) {
		x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000}
		_, _, _, n := cpu.SigmaClippedStats(x, 1, 1)
		assert.Equal(t, 10, n)
	})
	t.Run("all-NaN gives NaN and n 0", func(t *testing.T) {
		mean, median, std, n := cpu.SigmaClippedStats([]float32{float32(math.NaN())}, 3, 5)
		assert.True(t, math.IsNaN(mean) && math.IsNaN(median) && math.IsNaN(std))
		assert.Zero(t, n)
	})
}
