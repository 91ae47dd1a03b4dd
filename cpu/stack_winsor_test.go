package cpu_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// winsorReference is an independent float64 transcription of rejectWinsor's
// documented algorithm (PixInsight winsorized sigma clipping) for one pixel:
// sort-based median and MAD, plain loops, mean of the kept originals in frame
// order. Its Huber sums are plain per-sample sums, not huberSigma's partial
// sums from the median outwards: σ differs by rounding only, and the value
// depends only on which samples are kept, so the two agree bit for bit
// unless a sample sits within rounding of a bound.
func winsorReference(xs []float32, ws []float32, kl, kh float64, iters int) (value float64, low, high int) {
	var v, w []float64
	for i, x := range xs {
		if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			v = append(v, float64(x))
			wt := 1.0
			if ws != nil {
				wt = float64(ws[i])
			}
			w = append(w, wt)
		}
	}
	if len(v) == 0 {
		return math.NaN(), 0, 0
	}
	median := func(a []float64) float64 {
		s := slices.Clone(a)
		slices.Sort(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return 0.5 * (s[n/2-1] + s[n/2])
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	kept := func() []float64 {
		var k []float64
		for _, x := range v {
			if x >= lo && x <= hi {
				k = append(k, x)
			}
		}
		slices.Sort(k)
		return k
	}
	for range iters {
		k := kept()
		n := float64(len(k))
		if len(k) < 3 {
			break
		}
		m := median(k)
		dev := make([]float64, len(k))
		for i := range k {
			dev[i] = math.Abs(k[i] - m)
		}
		sigma := 1.4826 * median(dev)
		if sigma <= 0 {
			mean, ss := 0.0, 0.0
			for _, x := range k {
				mean += x
			}
			mean /= n
			for _, x := range k {
				ss += (x - mean) * (x - mean)
			}
			sigma = math.Sqrt(ss / n)
			if sigma <= 0 {
				break
			}
		}
		for range 50 {
			var s1, s2 float64
			for _, x := range k {
				d := math.Min(math.Max(x, m-2*sigma), m+2*sigma) - m
				s1 += d
				s2 += d * d
			}
			mu := s1 / n
			sNew := 1.0422680 * math.Sqrt(math.Max(0, (s2/n-mu*mu)*(n/(n-1))))
			conv := math.Abs(sNew-sigma) <= 5e-4*sigma
			sigma = sNew
			if conv || sigma <= 0 {
				break
			}
		}
		if sigma <= 0 {
			break
		}
		nlo, nhi := math.Max(lo, m-kl*sigma), math.Min(hi, m+kh*sigma)
		cnt := 0
		for _, x := range k {
			if x >= nlo && x <= nhi {
				cnt++
			}
		}
		if cnt == len(k) || cnt == 0 {
			break
		}
		lo, hi = nlo, nhi
	}
	var sw, swx float64
	for i, x := range v {
		switch {
		case x < lo:
			low++
		case x > hi:
			high++
		default:
			sw += w[i]
			swx += w[i] * x
		}
	}
	return swx / sw, low, high
}

func TestStackBandWinsorMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name     string
		frames   int
		weighted bool
		kl, kh   float32
	}{
		{"few frames, unweighted", 5, false, 3, 3},
		{"32 frames, weighted", 32, true, 3, 3},
		{"asymmetric kappa", 24, true, 2, 4},
		{"more frames than the insertion-sort limit", 90, true, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rows, width = 6, 50
			src, _, w := randomBand(tc.frames, rows, width, uint64(tc.frames))
			if !tc.weighted {
				w = nil
			}
			opt := opts(cpu.RejectWinsor, cpu.CombineMean)
			opt.KappaLow, opt.KappaHigh = tc.kl, tc.kh
			dst := make([]float32, rows*width)
			kept := make([]uint32, rows*width)
			st := cpu.StackBand(dst, kept, src, nil, w, width, opt)
			require.NoError(t, st.Err)
			var low, high int64
			for j := range dst {
				xs := make([]float32, tc.frames)
				valid := 0
				for i := range xs {
					xs[i] = src[i][j]
					if !math.IsNaN(float64(xs[i])) {
						valid++
					}
				}
				want, l, h := winsorReference(xs, w, float64(tc.kl), float64(tc.kh), opt.Iterations)
				require.Equal(t, math.Float32bits(float32(want)), math.Float32bits(dst[j]), "pixel %d: want %v got %v", j, want, dst[j])
				require.Equal(t, uint32(valid-l-h), kept[j], "pixel %d", j)
				low += int64(l)
				high += int64(h)
			}
			assert.Equal(t, low, st.RejectedLow)
			assert.Equal(t, high, st.RejectedHigh)
			assert.Positive(t, st.RejectedHigh, "the random band has high outliers")
		})
	}
}

func TestStackBandWinsorCases(t *testing.T) {
	opt := opts(cpu.RejectWinsor, cpu.CombineMean)
	t.Run("a single valid sample is returned as is", func(t *testing.T) {
		v, k, _ := stackPixel(t, []float32{nan, 42, nan}, nil, opt)
		assert.Equal(t, float32(42), v)
		assert.Equal(t, uint32(1), k)
	})
	t.Run("two samples are never rejected", func(t *testing.T) {
		v, k, _ := stackPixel(t, []float32{1, 1000}, nil, opt)
		assert.Equal(t, float32(500.5), v)
		assert.Equal(t, uint32(2), k)
	})
	t.Run("identical samples give that value, all kept", func(t *testing.T) {
		v, k, st := stackPixel(t, []float32{7, 7, 7, 7}, nil, opt)
		assert.Equal(t, float32(7), v)
		assert.Equal(t, uint32(4), k)
		assert.Zero(t, st.RejectedLow+st.RejectedHigh)
	})
	t.Run("an outlier is rejected and leaves no pull", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10, 12, 8, 10, 11, 9, 1e6}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(10), v, "mean of the nine kept samples")
		assert.Equal(t, uint32(9), k)
		assert.Equal(t, int64(1), st.RejectedHigh)
	})
	t.Run("a low outlier is rejected low", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10, 12, 8, -3000, 10, 11, 9}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(10), v)
		assert.Equal(t, uint32(9), k)
		assert.Equal(t, int64(1), st.RejectedLow)
		assert.Zero(t, st.RejectedHigh)
	})
	t.Run("a third of the samples as outliers are all rejected", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10, 12, 8, 1e6, 1e6, 1e6}
		mean, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(10), mean)
		assert.Equal(t, uint32(6), k)
		assert.Equal(t, int64(3), st.RejectedHigh)
		med, _, _ := stackPixel(t, xs, nil, opts(cpu.RejectWinsor, cpu.CombineMedian))
		assert.Equal(t, float32(10), med)
	})
	t.Run("max combine excludes rejected samples", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10, 12, 8, 10, 11, 9, 1e6}
		v, _, _ := stackPixel(t, xs, nil, opts(cpu.RejectWinsor, cpu.CombineMax))
		assert.Equal(t, float32(12), v)
	})
}

// TestStackBandWinsorTwoOutliersOfTwelve is the case that broke the former
// winsorized mean (spec §2.5, Huber update at c = κ = 3): with 2 outliers in
// 12 frames its σ grew to the outlier level and the result was pulled far off.
// Every pixel must now reject both and land within 4σ/√10 of the truth.
func TestStackBandWinsorTwoOutliersOfTwelve(t *testing.T) {
	const frames, pixels, truth, sigma = 12, 500, 1000.0, 10.0
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([][]float32, frames)
	for i := range src {
		src[i] = make([]float32, pixels)
		for j := range src[i] {
			src[i][j] = float32(truth + sigma*rng.NormFloat64())
		}
	}
	for j := range pixels {
		a := rng.IntN(frames)
		b := (a + 1 + rng.IntN(frames-1)) % frames
		src[a][j] += 5000
		src[b][j] += 5000
	}
	dst := make([]float32, pixels)
	kept := make([]uint32, pixels)
	st := cpu.StackBand(dst, kept, src, nil, nil, pixels, opts(cpu.RejectWinsor, cpu.CombineMean))
	require.NoError(t, st.Err)
	limit := 4 * sigma / math.Sqrt(10)
	worst := 0.0
	full := 0
	for j, v := range dst {
		require.InDelta(t, truth, v, limit, "pixel %d", j)
		// Both hits go. A few pixels also lose clean samples: with 10
		// samples, a chance cluster gives a small MAD and the clip erodes
		// (pixel 26 keeps 5); that costs noise, not bias.
		require.LessOrEqual(t, kept[j], uint32(10), "pixel %d rejects both hits", j)
		if kept[j] == 10 {
			full++
		}
		worst = max(worst, math.Abs(float64(v)-truth))
	}
	t.Logf("worst error %.2f (limit %.2f); %d of %d pixels keep all 10 clean samples", worst, limit, full, pixels)
	assert.Greater(t, full, pixels*9/10)
	assert.GreaterOrEqual(t, st.RejectedHigh, int64(2*pixels))
}

// TestStackBandWeightsShiftWinsor checks that per-frame weights enter the
// combination of the kept samples: a heavier high frame raises the result.
func TestStackBandWeightsShiftWinsor(t *testing.T) {
	xs := []float32{10, 11, 9, 10, 12, 8, 10, 11}
	plain, _, _ := stackPixel(t, xs, nil, opts(cpu.RejectWinsor, cpu.CombineMean))
	w := []float32{1, 1, 1, 1, 4, 1, 1, 1}
	weighted, _, _ := stackPixel(t, xs, w, opts(cpu.RejectWinsor, cpu.CombineMean))
	assert.Greater(t, weighted, plain)
	assert.InDelta(t, 10.125, plain, 1e-5)
	assert.InDelta(t, (81+36)/11.0, weighted, 1e-5)
}
