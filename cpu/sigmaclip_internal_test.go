package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sigmaClipScan is the former, scan-based SigmaClippedStats (quickselect
// medians, sums in input order, samples compacted each pass): the reference
// that the sort-once implementation must reproduce.
func sigmaClipScan(x []float32, kappa float64, maxIters int) (mean, median, std float64, n int) {
	buf := finiteCopy(x)
	scratch := make([]float32, len(buf))
	median32 := func(b []float32) float64 {
		s := scratch[:len(b)]
		copy(s, b)
		k := (len(s) - 1) / 2
		selectK(s, k)
		if len(s)%2 == 1 {
			return float64(s[k])
		}
		return 0.5 * (float64(s[k]) + float64(minOf(s[k+1:])))
	}
	for it := 0; maxIters <= 0 || it < maxIters; it++ {
		if len(buf) == 0 {
			break
		}
		med := median32(buf)
		_, sd := meanStd(buf)
		lo, hi := med-kappa*sd, med+kappa*sd
		k := 0
		for _, v := range buf {
			if f := float64(v); f >= lo && f <= hi {
				buf[k] = v
				k++
			}
		}
		removed := k != len(buf)
		buf = buf[:k]
		if !removed {
			break
		}
	}
	if len(buf) == 0 {
		nan := math.NaN()
		return nan, nan, nan, 0
	}
	mean, std = meanStd(buf)
	return mean, median32(buf), std, len(buf)
}

func TestSortedSigmaClipMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name    string
		n       int
		outlier float64 // fraction of outliers
		quant   bool    // integer-valued samples (many ties)
		iters   int
	}{
		{"gaussian with 2% hot pixels", 50000, 0.02, false, 5},
		{"heavy one-sided contamination", 20001, 0.2, false, 5},
		{"quantised sky with ties", 40000, 0.05, true, 5},
		{"iterate to convergence", 30000, 0.1, false, 0},
		{"negative values and NaN", 9999, 0.03, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float32, tc.n)
			for i := range x {
				v := 1000 + 30*rng.NormFloat64()
				if tc.name == "negative values and NaN" {
					v -= 1000
					if i%50 == 0 {
						v = math.NaN()
					}
				}
				if rng.Float64() < tc.outlier {
					v += 200 + 5000*rng.Float64()
				}
				if tc.quant {
					v = math.Round(v)
				}
				x[i] = float32(v)
			}
			m1, md1, s1, n1 := SigmaClippedStats(x, 3, tc.iters)
			m2, md2, s2, n2 := sigmaClipScan(x, 3, tc.iters)
			require.Equal(t, n2, n1)
			assert.Equal(t, md2, md1, "medians are exact")
			assert.InEpsilon(t, m2, m1, 1e-9)
			assert.InEpsilon(t, s2, s1, 1e-9)
			p := Percentiles(x, 25, 90)
			st := MeasureFrame(x)
			assert.Equal(t, p[0], st.P25)
			assert.Equal(t, p[1], st.P90)
		})
	}
}

func TestSortedFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 5000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15)))
	}
	x[3], x[4], x[5], x[6] = float32(math.NaN()), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1))
	s := sortedFinite(x)
	require.Len(t, s, len(x)-2)
	for i := 1; i < len(s); i++ {
		require.LessOrEqual(t, s[i-1], s[i], "index %d", i)
	}
	assert.Empty(t, sortedFinite([]float32{float32(math.NaN())}))
}
