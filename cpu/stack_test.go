package cpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

var nan = float32(math.NaN())

// opts returns the default options with reject r and combine c.
func opts(r cpu.Reject, c cpu.Combine) cpu.StackOptions {
	o := cpu.DefaultStackOptions()
	o.Reject, o.Combine = r, c
	return o
}

// stackPixel stacks a single pixel whose frame samples are xs.
func stackPixel(t *testing.T, xs []float32, weights []float32, opt cpu.StackOptions) (float32, uint32, cpu.StackStats) {
	t.Helper()
	src := make([][]float32, len(xs))
	for i, x := range xs {
		src[i] = []float32{x}
	}
	dst := []float32{-1}
	kept := []uint32{999}
	st := cpu.StackBand(dst, kept, src, nil, weights, 1, opt)
	require.NoError(t, st.Err)
	return dst[0], kept[0], st
}

// randomBand makes n frames of rows×width samples around 100 with σ 5, a few
// NaNs and a few outliers, plus random weights and normalisations.
func randomBand(n, rows, width int, seed uint64) ([][]float32, []cpu.Affine, []float32) {
	rng := rand.New(rand.NewPCG(seed, 2))
	src := make([][]float32, n)
	norm := make([]cpu.Affine, n)
	w := make([]float32, n)
	for i := range src {
		f := make([]float32, rows*width)
		for j := range f {
			switch u := rng.Float64(); {
			case u < 0.05:
				f[j] = nan
			case u < 0.08:
				f[j] = float32(1000 + 5000*rng.Float64())
			case u < 0.10:
				f[j] = float32(-500 * rng.Float64())
			default:
				f[j] = float32(100 + 5*rng.NormFloat64())
			}
		}
		src[i] = f
		norm[i] = cpu.Affine{Gain: float32(0.9 + 0.2*rng.Float64()), Offset: float32(rng.NormFloat64())}
		w[i] = float32(0.2 + rng.Float64())
	}
	return src, norm, w
}

var allRejects = []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa, cpu.RejectLinear, cpu.RejectNone}
var allCombines = []cpu.Combine{cpu.CombineMean, cpu.CombineMedian, cpu.CombineMin, cpu.CombineMax}

func TestStackBandNaNHandling(t *testing.T) {
	for _, r := range allRejects {
		for _, c := range allCombines {
			t.Run(fmt.Sprintf("%s/%s", r, c), func(t *testing.T) {
				opt := opts(r, c)
				t.Run("all-NaN pixel gives NaN with kept 0", func(t *testing.T) {
					v, k, st := stackPixel(t, []float32{nan, nan, nan}, nil, opt)
					assert.True(t, math.IsNaN(float64(v)))
					assert.Zero(t, k)
					assert.Zero(t, st.Samples)
				})
				t.Run("Inf samples count as no data", func(t *testing.T) {
					v, k, _ := stackPixel(t, []float32{float32(math.Inf(1)), 7, float32(math.Inf(-1))}, nil, opt)
					assert.Equal(t, float32(7), v)
					assert.Equal(t, uint32(1), k)
				})
				t.Run("NaN samples are ignored, not zero", func(t *testing.T) {
					v, k, st := stackPixel(t, []float32{nan, 10, nan, 10, 10, nan}, nil, opt)
					assert.Equal(t, float32(10), v)
					assert.Equal(t, uint32(3), k)
					assert.Equal(t, int64(3), st.Samples)
				})
			})
		}
	}
}

func TestStackBandNoRejectCombines(t *testing.T) {
	xs := []float32{4, nan, 1, 3, 2, 10}
	tests := []struct {
		name    string
		combine cpu.Combine
		weights []float32
		want    float32
	}{
		{"mean averages valid samples", cpu.CombineMean, nil, 4},
		{"weights pull the mean toward heavy frames", cpu.CombineMean, []float32{1, 1, 1, 1, 1, 5}, (4 + 1 + 3 + 2 + 50) / 9.0},
		{"zero weight removes a frame from the mean", cpu.CombineMean, []float32{1, 1, 1, 1, 1, 0}, 2.5},
		{"all-zero weights fall back to equal weights", cpu.CombineMean, []float32{0, 0, 0, 0, 0, 0}, 4},
		{"median of an odd count is the middle value", cpu.CombineMedian, nil, 3},
		{"median ignores weights", cpu.CombineMedian, []float32{9, 1, 1, 1, 1, 1}, 3},
		{"min is the smallest valid sample", cpu.CombineMin, nil, 1},
		{"max is the largest valid sample", cpu.CombineMax, nil, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, k, _ := stackPixel(t, xs, tc.weights, opts(cpu.RejectNone, tc.combine))
			assert.InDelta(t, tc.want, v, 1e-6)
			assert.Equal(t, uint32(5), k)
		})
	}
	t.Run("median of an even count interpolates the middle values", func(t *testing.T) {
		v, _, _ := stackPixel(t, []float32{4, 1, 3, 2}, nil, opts(cpu.RejectNone, cpu.CombineMedian))
		assert.Equal(t, float32(2.5), v)
	})
}

func TestStackBandAppliesNormalisation(t *testing.T) {
	src := [][]float32{{10, nan}, {20, 5}}
	norm := []cpu.Affine{cpu.Identity, {Gain: 0.5, Offset: 1}}
	dst := make([]float32, 2)
	st := cpu.StackBand(dst, nil, src, norm, nil, 2, opts(cpu.RejectNone, cpu.CombineMean))
	require.NoError(t, st.Err)
	assert.Equal(t, []float32{10.5, 3.5}, dst) // (10 + 0.5·20+1)/2 and 0.5·5+1
}

func TestStackBandKappa(t *testing.T) {
	opt := opts(cpu.RejectKappa, cpu.CombineMean)
	// An outlier inflates the std it is judged by: in 5 samples no z-score
	// can exceed (n−1)/√n ≈ 1.79 around the mean, so κ 3 cannot reject it.
	t.Run("kappa 2 rejects the 100 of [1,2,3,4,100] high", func(t *testing.T) {
		opt := opt
		opt.KappaLow, opt.KappaHigh = 2, 2
		v, k, st := stackPixel(t, []float32{1, 100, 2, 3, 4}, nil, opt)
		assert.Equal(t, float32(2.5), v)
		assert.Equal(t, uint32(4), k)
		assert.Equal(t, int64(1), st.RejectedHigh)
		assert.Zero(t, st.RejectedLow)
	})
	t.Run("low outlier is rejected low", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10, 10, 11, 9, 10, -500, 10}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.InDelta(t, 10, v, 1e-6)
		assert.Equal(t, uint32(9), k)
		assert.Equal(t, int64(1), st.RejectedLow)
	})
	t.Run("fewer than 3 samples are never rejected", func(t *testing.T) {
		v, k, _ := stackPixel(t, []float32{1, 1000}, nil, opt)
		assert.Equal(t, float32(500.5), v)
		assert.Equal(t, uint32(2), k)
	})
	t.Run("identical samples are all kept", func(t *testing.T) {
		v, k, _ := stackPixel(t, []float32{5, 5, 5, 5}, nil, opt)
		assert.Equal(t, float32(5), v)
		assert.Equal(t, uint32(4), k)
	})
}

func TestStackBandLinear(t *testing.T) {
	opt := opts(cpu.RejectLinear, cpu.CombineMean)
	t.Run("outlier on a ramp is rejected high", func(t *testing.T) {
		xs := []float32{7, 3, 100, 1, 9, 5, 2, 8, 4, 6}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(5), v)
		assert.Equal(t, uint32(9), k)
		assert.Equal(t, int64(1), st.RejectedHigh)
		assert.Zero(t, st.RejectedLow)
	})
	t.Run("a clean ramp loses nothing", func(t *testing.T) {
		xs := []float32{7, 3, 1, 9, 5, 2, 8, 4, 6, 10}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(5.5), v)
		assert.Equal(t, uint32(10), k)
		assert.Zero(t, st.RejectedHigh+st.RejectedLow)
	})
	t.Run("low outlier below a ramp is rejected low", func(t *testing.T) {
		xs := []float32{7, 3, 1, 9, 5, 2, 8, 4, 6, 10, -200}
		v, k, st := stackPixel(t, xs, nil, opt)
		assert.Equal(t, float32(5.5), v)
		assert.Equal(t, uint32(10), k)
		assert.Equal(t, int64(1), st.RejectedLow)
	})
	t.Run("fewer than 3 samples are never rejected", func(t *testing.T) {
		_, k, _ := stackPixel(t, []float32{1, 1000}, nil, opt)
		assert.Equal(t, uint32(2), k)
	})
	t.Run("median combine uses the kept samples", func(t *testing.T) {
		xs := []float32{7, 3, 100, 1, 9, 5, 2, 8, 4, 6}
		v, _, _ := stackPixel(t, xs, nil, opts(cpu.RejectLinear, cpu.CombineMedian))
		assert.Equal(t, float32(5), v)
	})
}

// TestStackBandDeterministic checks that results are bit-identical whatever the
// number of workers and wherever the band is split.
func TestStackBandDeterministic(t *testing.T) {
	const n, rows, width = 21, 17, 13
	src, norm, w := randomBand(n, rows, width, 7)
	for _, r := range allRejects {
		for _, c := range allCombines {
			t.Run(fmt.Sprintf("%s/%s", r, c), func(t *testing.T) {
				opt := opts(r, c)
				run := func(workers, row0, row1 int) ([]float32, []uint32, cpu.StackStats) {
					opt := opt
					opt.Workers = workers
					sub := make([][]float32, n)
					for i := range src {
						sub[i] = src[i][row0*width : row1*width]
					}
					dst := make([]float32, (row1-row0)*width)
					kept := make([]uint32, len(dst))
					st := cpu.StackBand(dst, kept, sub, norm, w, width, opt)
					require.NoError(t, st.Err)
					return dst, kept, st
				}
				d1, k1, s1 := run(1, 0, rows)
				d7, k7, s7 := run(7, 0, rows)
				assert.Equal(t, bits(d1), bits(d7), "Workers=1 vs Workers=7")
				assert.Equal(t, k1, k7)
				assert.Equal(t, s1, s7)
				a, ka, sa := run(2, 0, 5)
				b, kb, sb := run(3, 5, rows)
				assert.Equal(t, bits(d1), bits(append(a, b...)), "split at row 5")
				assert.Equal(t, k1, append(ka, kb...))
				assert.Equal(t, s1.RejectedLow, sa.RejectedLow+sb.RejectedLow)
				assert.Equal(t, s1.RejectedHigh, sa.RejectedHigh+sb.RejectedHigh)
				assert.Equal(t, int64(rows*width), s1.Pixels)
			})
		}
	}
}

func bits(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = math.Float32bits(v)
	}
	return out
}

func TestStackBandDoesNotModifyInputs(t *testing.T) {
	src, norm, w := randomBand(9, 4, 6, 3)
	src0 := make([][]uint32, len(src))
	for i := range src {
		src0[i] = bits(src[i])
	}
	norm0, w0 := slices.Clone(norm), slices.Clone(w)
	for _, r := range allRejects {
		dst := make([]float32, 24)
		require.NoError(t, cpu.StackBand(dst, nil, src, norm, w, 6, opts(r, cpu.CombineMedian)).Err)
	}
	for i := range src {
		assert.Equal(t, src0[i], bits(src[i]))
	}
	assert.Equal(t, norm0, norm)
	assert.Equal(t, w0, w)
}

func TestStackBandRejectsBadArguments(t *testing.T) {
	good := func() ([]float32, []uint32, [][]float32, []cpu.Affine, []float32, int) {
		return make([]float32, 4), make([]uint32, 4), [][]float32{make([]float32, 4), make([]float32, 4)},
			[]cpu.Affine{cpu.Identity, cpu.Identity}, []float32{1, 1}, 2
	}
	tests := []struct {
		name   string
		mutate func(*[]float32, *[]uint32, *[][]float32, *[]cpu.Affine, *[]float32, *int)
	}{
		{"zero width", func(_ *[]float32, _ *[]uint32, _ *[][]float32, _ *[]cpu.Affine, _ *[]float32, w *int) { *w = 0 }},
		{"dst not a whole number of rows", func(_ *[]float32, _ *[]uint32, _ *[][]float32, _ *[]cpu.Affine, _ *[]float32, w *int) { *w = 3 }},
		{"short kept", func(_ *[]float32, k *[]uint32, _ *[][]float32, _ *[]cpu.Affine, _ *[]float32, _ *int) { *k = (*k)[:3] }},
		{"short frame", func(_ *[]float32, _ *[]uint32, s *[][]float32, _ *[]cpu.Affine, _ *[]float32, _ *int) {
			(*s)[1] = (*s)[1][:2]
		}},
		{"norm of the wrong length", func(_ *[]float32, _ *[]uint32, _ *[][]float32, n *[]cpu.Affine, _ *[]float32, _ *int) { *n = (*n)[:1] }},
		{"weights of the wrong length", func(_ *[]float32, _ *[]uint32, _ *[][]float32, _ *[]cpu.Affine, ws *[]float32, _ *int) {
			*ws = []float32{1}
		}},
		{"negative weight", func(_ *[]float32, _ *[]uint32, _ *[][]float32, _ *[]cpu.Affine, ws *[]float32, _ *int) { (*ws)[0] = -1 }},
		{"NaN weight", func(_ *[]float32, _ *[]uint32, _ *[][]float32, _ *[]cpu.Affine, ws *[]float32, _ *int) {
			(*ws)[0] = nan
		}},
		{"NaN gain", func(_ *[]float32, _ *[]uint32, _ *[][]float32, n *[]cpu.Affine, _ *[]float32, _ *int) {
			(*n)[1].Gain = nan
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, kept, src, norm, w, width := good()
			tc.mutate(&dst, &kept, &src, &norm, &w, &width)
			assert.Error(t, cpu.CheckBand(dst, kept, src, norm, w, width))
			st := cpu.StackBand(dst, kept, src, norm, w, width, cpu.DefaultStackOptions())
			assert.Error(t, st.Err)
			assert.Zero(t, st.Pixels)
		})
	}
	t.Run("invalid options are reported", func(t *testing.T) {
		dst, kept, src, norm, w, width := good()
		opt := cpu.DefaultStackOptions()
		opt.Iterations = 0
		st := cpu.StackBand(dst, kept, src, norm, w, width, opt)
		assert.ErrorIs(t, st.Err, cpu.ErrInvalidOptions)
	})
	t.Run("nil kept is allowed", func(t *testing.T) {
		dst, _, src, norm, w, width := good()
		assert.NoError(t, cpu.StackBand(dst, nil, src, norm, w, width, cpu.DefaultStackOptions()).Err)
	})
}

// TestStackBandAccuracy: 20 frames of Gaussian noise (σ 10) on a known field,
// 5% of the samples replaced by huge cosmic rays (CR). The floor is the error
// of a clean mean, σ/√N. Limits that the specified algorithms cannot beat
// are asserted as such (measured values in comments):
//   - kappa judges samples by a std that includes them: k equal outliers among
//     N sit 1/√(p(1−p)) std from the median (p = k/N), below 3 once k ≥ 3 of
//     20, so kappa is exact up to 2 CRs per pixel and helpless beyond.
//   - winsor rejects with a robust (median, Huber) scale, so it holds at every
//     hit count here (up to 7 of 20); it pays ~2% over the floor for the
//     clean samples it erodes on small stacks. (The former winsorized mean of
//     spec §2.5 reached 5.9 on pixels with ≤ 2 CRs, 2.6× the floor.)
func TestStackBandAccuracy(t *testing.T) {
	const n, rows, width, sigma = 20, 64, 64, 10.0
	rng := rand.New(rand.NewPCG(1, 2))
	truth := make([]float64, rows*width)
	hits := make([]int, rows*width)
	for j := range truth {
		truth[j] = 500 + 100*math.Sin(float64(j)/50)
	}
	src := make([][]float32, n)
	for i := range src {
		src[i] = make([]float32, rows*width)
		for j := range src[i] {
			x := truth[j] + sigma*rng.NormFloat64()
			if rng.Float64() < 0.05 {
				x = 20000 + 40000*rng.Float64()
				hits[j]++
			}
			src[i][j] = float32(x)
		}
	}
	floor := sigma / math.Sqrt(n)
	// rms returns the RMS error over pixels with at most maxHits CRs.
	rms := func(r cpu.Reject, maxHits int) float64 {
		dst := make([]float32, rows*width)
		require.NoError(t, cpu.StackBand(dst, nil, src, nil, nil, width, opts(r, cpu.CombineMean)).Err)
		s, c := 0.0, 0
		for j, v := range dst {
			if hits[j] <= maxHits {
				d := float64(v) - truth[j]
				s += d * d
				c++
			}
		}
		require.Positive(t, c)
		return math.Sqrt(s / float64(c))
	}
	const all = n
	tests := []struct {
		name    string
		reject  cpu.Reject
		maxHits int
		limit   float64
	}{
		{"winsor is within 5% of the clean floor on pixels without CR", cpu.RejectWinsor, 0, 1.05 * floor}, // 2.285
		{"kappa is at the clean floor on pixels without CR", cpu.RejectKappa, 0, 1.1 * floor},              // 2.23
		{"linear is near the clean floor on pixels without CR", cpu.RejectLinear, 0, 1.2 * floor},          // 2.48
		{"kappa stays within 10% of the floor with up to 2 CRs", cpu.RejectKappa, 2, 1.1 * floor},          // 2.28
		{"linear stays within 20% of the floor with up to 2 CRs", cpu.RejectLinear, 2, 1.2 * floor},
		{"winsor stays within 5% of the floor with up to 2 CRs", cpu.RejectWinsor, 2, 1.05 * floor},  // 2.326
		{"winsor stays within 10% of the floor over all pixels", cpu.RejectWinsor, all, 1.1 * floor}, // 2.342
		{"kappa over all pixels beats none", cpu.RejectKappa, all, rms(cpu.RejectNone, all) / 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rms(tc.reject, tc.maxHits)
			t.Logf("%s RMS %.3f (floor %.3f, limit %.3f)", tc.reject, got, floor, tc.limit)
			assert.Less(t, got, tc.limit)
		})
	}
	t.Run("none is far off", func(t *testing.T) {
		assert.Greater(t, rms(cpu.RejectNone, all), 100*floor)
	})
}

func BenchmarkStackBand(b *testing.B) {
	const n, rows, width = 32, 64, 1920
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([][]float32, n)
	for i := range src {
		src[i] = make([]float32, rows*width)
		for j := range src[i] {
			src[i][j] = float32(1000 + 10*rng.NormFloat64())
			if rng.Float64() < 0.01 {
				src[i][j] = 30000
			}
		}
	}
	dst := make([]float32, rows*width)
	kept := make([]uint32, rows*width)
	for _, r := range allRejects {
		for _, c := range []cpu.Combine{cpu.CombineMean, cpu.CombineMedian} {
			b.Run(fmt.Sprintf("%s/%s", r, c), func(b *testing.B) {
				opt := opts(r, c)
				b.SetBytes(int64(n * rows * width * 4))
				b.ReportAllocs()
				for b.Loop() {
					cpu.StackBand(dst, kept, src, nil, nil, width, opt)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*rows*width), "ns/px-frame")
			})
		}
	}
}
