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

func TestSubsampleFrames(t *testing.T) {
	for _, n := range []int{257, 300, 1000, 2000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			idx := cpu.SubsampleFrames(n)
			require.Len(t, idx, cpu.MaxSortFrames)
			assert.Equal(t, 0, idx[0], "starts at the first frame")
			for k, i := range idx {
				assert.Equal(t, k*n/cpu.MaxSortFrames, i, "index %d", k)
				if k > 0 {
					assert.Greater(t, i, idx[k-1], "strictly increasing at %d", k)
					// evenly spaced: gaps are ⌊n/S⌋ or ⌈n/S⌉
					gap := i - idx[k-1]
					assert.True(t, gap == n/cpu.MaxSortFrames || gap == (n+cpu.MaxSortFrames-1)/cpu.MaxSortFrames, "gap %d at %d", gap, k)
				}
			}
			assert.Less(t, idx[len(idx)-1], n)
			assert.GreaterOrEqual(t, idx[len(idx)-1], n-(n+cpu.MaxSortFrames-1)/cpu.MaxSortFrames, "reaches the last frames")
		})
	}
	t.Run("exact values for 257 and 1000", func(t *testing.T) {
		idx := cpu.SubsampleFrames(257)
		assert.Equal(t, []int{0, 1, 2}, idx[:3])
		assert.Equal(t, 255, idx[255], "only the last frame is left out")
		idx = cpu.SubsampleFrames(1000)
		assert.Equal(t, []int{0, 3, 7, 11, 15, 19, 23, 27, 31, 35}, idx[:10])
		assert.Equal(t, 996, idx[255])
	})
	t.Run("small stacks use every frame", func(t *testing.T) {
		assert.Equal(t, []int{0, 1, 2}, cpu.SubsampleFrames(3))
		assert.Len(t, cpu.SubsampleFrames(cpu.MaxSortFrames), cpu.MaxSortFrames)
		assert.Empty(t, cpu.SubsampleFrames(0))
		assert.Empty(t, cpu.SubsampleFrames(-4))
	})
}

// boundsOf runs RejectBounds on one pixel.
func boundsOf(t *testing.T, xs []float32, opt cpu.StackOptions) (float64, float64) {
	t.Helper()
	src := make([][]float32, len(xs))
	for i, x := range xs {
		src[i] = []float32{x}
	}
	lo, hi := []float64{7}, []float64{7}
	require.NoError(t, cpu.RejectBounds(lo, hi, src, nil, 1, opt))
	return lo[0], hi[0]
}

func TestRejectBoundsHandCases(t *testing.T) {
	inf := math.Inf(1)
	kappa1 := opts(cpu.RejectKappa, cpu.CombineMean)
	kappa1.Iterations = 1
	kappa2 := kappa1
	kappa2.KappaLow, kappa2.KappaHigh = 1, 2
	tests := []struct {
		name   string
		xs     []float32
		opt    cpu.StackOptions
		lo, hi float64
	}{
		{"winsor: fewer than 3 samples, no test", []float32{1, 100}, opts(cpu.RejectWinsor, cpu.CombineMean), -inf, inf},
		{"winsor: NaNs do not count as samples", []float32{nan, 1, nan, 100}, opts(cpu.RejectWinsor, cpu.CombineMean), -inf, inf},
		{"winsor: constant pixel (σ 0), no test", []float32{5, 5, 5, 5, 5}, opts(cpu.RejectWinsor, cpu.CombineMean), -inf, inf},
		{"kappa: constant pixel (s 0), no test", []float32{5, 5, 5, 5, 5}, opts(cpu.RejectKappa, cpu.CombineMean), -inf, inf},
		{"kappa: no samples", []float32{nan, nan}, opts(cpu.RejectKappa, cpu.CombineMean), -inf, inf},
		// {0, 2, 4}: median 2, population std sqrt(8/3): one test, nothing rejected.
		{"kappa: one test that rejects nothing", []float32{4, 0, 2}, opts(cpu.RejectKappa, cpu.CombineMean),
			2 - 3*math.Sqrt(8.0/3), 2 + 3*math.Sqrt(8.0/3)},
		{"kappa: asymmetric kappa", []float32{4, 0, 2}, kappa2, 2 - math.Sqrt(8.0/3), 2 + 2*math.Sqrt(8.0/3)},
		// {0, 0, 0, 0, 10}: median 0, std 4: 10 > 0+1·4 is rejected, then
		// {0, 0, 0, 0} has s = 0: no second test, the first one's bounds stay.
		{"kappa: a rejecting test, then a constant kept set", []float32{0, 0, 10, 0, 0},
			func() cpu.StackOptions { o := kappa1; o.Iterations = 10; o.KappaLow, o.KappaHigh = 1, 1; return o }(), -4, 4},
		{"kappa: the iteration limit stops after the first test", []float32{0, 0, 10, 0, 0},
			func() cpu.StackOptions { o := kappa1; o.KappaLow, o.KappaHigh = 1, 1; return o }(), -4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := boundsOf(t, tc.xs, tc.opt)
			assert.Equal(t, tc.lo, lo, "lo")
			assert.Equal(t, tc.hi, hi, "hi")
		})
	}
	t.Run("kappa: a test that rejects everything gives the final bounds", func(t *testing.T) {
		// {0, 0, 10, 10}: median 5, std 5; κ 0.5 → [2.5, 7.5] rejects all.
		o := kappa1
		o.Iterations = 10
		o.KappaLow, o.KappaHigh = 0.5, 0.5
		lo, hi := boundsOf(t, []float32{0, 10, 0, 10}, o)
		assert.Equal(t, 2.5, lo)
		assert.Equal(t, 7.5, hi)
	})
	t.Run("winsor: a test that would reject everything is not applied", func(t *testing.T) {
		// Same pixel: the first winsor test would empty K, so no test stands.
		o := opts(cpu.RejectWinsor, cpu.CombineMean)
		o.KappaLow, o.KappaHigh = 0.1, 0.1
		lo, hi := boundsOf(t, []float32{0, 10, 0, 10}, o)
		assert.Equal(t, math.Inf(-1), lo)
		assert.Equal(t, math.Inf(1), hi)
	})
	t.Run("winsor: an outlier is outside the final bounds, the good samples inside", func(t *testing.T) {
		xs := []float32{10, 11, 9, 10.5, 9.5, 10.2, 9.8, 500}
		lo, hi := boundsOf(t, xs, opts(cpu.RejectWinsor, cpu.CombineMean))
		assert.Greater(t, hi, 11.0)
		assert.Less(t, hi, 500.0)
		assert.Less(t, lo, 9.0)
		assert.Greater(t, lo, 0.0)
	})
	t.Run("bounds equal the reference's", func(t *testing.T) {
		src, norm, _ := randomBand(40, 3, 5, 9)
		for _, r := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
			opt := opts(r, cpu.CombineMean)
			lo, hi := make([]float64, 15), make([]float64, 15)
			require.NoError(t, cpu.RejectBounds(lo, hi, src, norm, 5, opt))
			for j := range lo {
				rlo, rhi := refBounds(validNormalised(src, norm, allFrames(40), j), opt)
				assert.Equal(t, rlo, lo[j], "%s lo %d", r, j)
				assert.Equal(t, rhi, hi[j], "%s hi %d", r, j)
			}
		}
	})
}

func TestRejectBoundsRejectsBadArguments(t *testing.T) {
	src := [][]float32{{1, 2}, {3, 4}}
	tests := []struct {
		name   string
		lo, hi []float64
		src    [][]float32
		norm   []cpu.Affine
		width  int
		opt    cpu.StackOptions
		target error
	}{
		{"linear is not a streamed method", make([]float64, 2), make([]float64, 2), src, nil, 2, opts(cpu.RejectLinear, cpu.CombineMean), cpu.ErrInvalidOptions},
		{"none is not a streamed method", make([]float64, 2), make([]float64, 2), src, nil, 2, opts(cpu.RejectNone, cpu.CombineMean), cpu.ErrInvalidOptions},
		{"invalid options", make([]float64, 2), make([]float64, 2), src, nil, 2, cpu.StackOptions{}, cpu.ErrInvalidOptions},
		{"zero width", make([]float64, 2), make([]float64, 2), src, nil, 0, opts(cpu.RejectWinsor, cpu.CombineMean), cpu.ErrShape},
		{"hi of another length", make([]float64, 2), make([]float64, 1), src, nil, 2, opts(cpu.RejectWinsor, cpu.CombineMean), cpu.ErrShape},
		{"not whole rows", make([]float64, 2), make([]float64, 2), src, nil, 3, opts(cpu.RejectWinsor, cpu.CombineMean), cpu.ErrShape},
		{"short frame", make([]float64, 2), make([]float64, 2), [][]float32{{1, 2}, {3}}, nil, 2, opts(cpu.RejectKappa, cpu.CombineMean), cpu.ErrShape},
		{"norm of the wrong length", make([]float64, 2), make([]float64, 2), src, []cpu.Affine{cpu.Identity}, 2, opts(cpu.RejectKappa, cpu.CombineMean), cpu.ErrShape},
		{"NaN gain", make([]float64, 2), make([]float64, 2), src, []cpu.Affine{cpu.Identity, {Gain: nan}}, 2, opts(cpu.RejectKappa, cpu.CombineMean), cpu.ErrInvalidOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo0 := slices.Clone(tc.lo)
			err := cpu.RejectBounds(tc.lo, tc.hi, tc.src, tc.norm, tc.width, tc.opt)
			assert.ErrorIs(t, err, tc.target)
			assert.Equal(t, lo0, tc.lo, "nothing written")
		})
	}
}

var streamCombines = []cpu.Combine{cpu.CombineMean, cpu.CombineMin, cpu.CombineMax}

// TestStackBandStreamedMatchesReference: for stacks of more than 256 frames,
// winsor and kappa with mean, min and max follow the streamed rule bit for
// bit, on the golden test's pixel kinds (noise with outliers and NaNs,
// integers with ties, constants, ±0, mostly NaN, ±Inf), raw and with
// normalisation and weights (a fifth of them 0).
func TestStackBandStreamedMatchesReference(t *testing.T) {
	for _, n := range []int{300, 2000} {
		src := goldenBand(n, uint64(n))
		norm, w := goldenNormWeights(n, uint64(n))
		for _, r := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
			for _, c := range streamCombines {
				for _, nw := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%s/%d/norm+weights=%v", r, c, n, nw), func(t *testing.T) {
						opt := opts(r, c)
						nrm, wts := norm, w
						if !nw {
							nrm, wts = nil, nil
						}
						dst := make([]float32, len(src[0]))
						kept := make([]uint32, len(dst))
						st := cpu.StackBand(dst, kept, src, nrm, wts, 64, opt)
						require.NoError(t, st.Err)
						var low, high, samples int64
						for j := range dst {
							val, k, l, h := streamReference(src, nrm, wts, j, opt)
							require.Equal(t, math.Float32bits(float32(val)), math.Float32bits(dst[j]), "pixel %d: got %v want %v", j, dst[j], val)
							require.Equal(t, uint32(k), kept[j], "kept at pixel %d", j)
							low += int64(l)
							high += int64(h)
							samples += int64(len(validNormalised(src, nrm, allFrames(n), j)))
						}
						assert.Equal(t, low, st.RejectedLow)
						assert.Equal(t, high, st.RejectedHigh)
						assert.Equal(t, samples, st.Samples)
						assert.Equal(t, int64(len(dst)), st.Pixels)
						assert.Positive(t, st.RejectedLow+st.RejectedHigh, "something was rejected")
					})
				}
			}
		}
	}
}

// TestStackBandStreamedBoundsComeFromTheSubsample: a pixel whose subsample
// frames are clean and whose other frames hold an outlier rejects it with
// bounds taken from the subsample alone, and RejectBounds on the subsample
// frames gives the bounds that StackBand applied.
func TestStackBandStreamedBoundsComeFromTheSubsample(t *testing.T) {
	const n = 300
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([][]float32, n)
	for i := range src {
		src[i] = []float32{float32(100 + rng.NormFloat64())}
	}
	sub := cpu.SubsampleFrames(n)
	require.NotContains(t, sub, 6)
	src[6][0] = 130 // 30σ, in a frame outside the subsample
	for _, r := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
		opt := opts(r, cpu.CombineMax)
		v, k, st := stackPixel(t, flatten(src), nil, opt)
		assert.Less(t, v, float32(110), "%s: the outlier is not the max", r)
		assert.Equal(t, int64(1), st.RejectedHigh, "%s", r)
		assert.Equal(t, uint32(n-1), k+uint32(st.RejectedLow), "%s", r)
		subSrc := make([][]float32, len(sub))
		for i, f := range sub {
			subSrc[i] = src[f]
		}
		lo, hi := []float64{0}, []float64{0}
		require.NoError(t, cpu.RejectBounds(lo, hi, subSrc, nil, 1, opt))
		assert.Less(t, hi[0], 130.0)
		assert.LessOrEqual(t, float64(v), hi[0])
		for i := range src {
			x := float64(src[i][0])
			if x >= lo[0] && x <= hi[0] {
				assert.LessOrEqual(t, x, float64(v), "%s: a kept sample above the max", r)
			}
		}
	}
}

func flatten(src [][]float32) []float32 {
	out := make([]float32, len(src))
	for i, f := range src {
		out[i] = f[0]
	}
	return out
}

// TestStackBandStreamedMedianAndLinearStayExact: median, and the linear-fit
// clip, keep the exact algorithm over all samples beyond 256 frames: it sorts
// every sample, so reversing the frame order changes no output bit (the
// streamed rule would take its bounds from other frames).
func TestStackBandStreamedMedianAndLinearStayExact(t *testing.T) {
	const n, rows, width = 300, 4, 8
	src, norm, _ := randomBand(n, rows, width, 5)
	rsrc, rnorm := slices.Clone(src), slices.Clone(norm)
	slices.Reverse(rsrc)
	slices.Reverse(rnorm)
	stack := func(src [][]float32, norm []cpu.Affine, opt cpu.StackOptions) ([]float32, []uint32) {
		dst := make([]float32, rows*width)
		kept := make([]uint32, rows*width)
		require.NoError(t, cpu.StackBand(dst, kept, src, norm, nil, width, opt).Err)
		return dst, kept
	}
	for _, tc := range []struct {
		r cpu.Reject
		c cpu.Combine
	}{{cpu.RejectWinsor, cpu.CombineMedian}, {cpu.RejectKappa, cpu.CombineMedian}, {cpu.RejectLinear, cpu.CombineMean}, {cpu.RejectLinear, cpu.CombineMax}} {
		d, k := stack(src, norm, opts(tc.r, tc.c))
		rd, rk := stack(rsrc, rnorm, opts(tc.r, tc.c))
		assert.Equal(t, bits(d), bits(rd), "%s/%s: exact, independent of frame order", tc.r, tc.c)
		assert.Equal(t, k, rk)
	}
}

// TestStackBandStreamedRejectsCosmicRays: 2000 frames of σ-10 noise on a
// known field with 5% cosmic rays; the streamed winsor and kappa come close
// to the clean mean's error σ/√N, far below no rejection.
func TestStackBandStreamedRejectsCosmicRays(t *testing.T) {
	const n, rows, width, sigma = 2000, 8, 64, 10.0
	rng := rand.New(rand.NewPCG(1, 2))
	truth := make([]float64, rows*width)
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
			}
			src[i][j] = float32(x)
		}
	}
	floor := sigma / math.Sqrt(n)
	rms := func(r cpu.Reject) (float64, cpu.StackStats) {
		dst := make([]float32, rows*width)
		st := cpu.StackBand(dst, nil, src, nil, nil, width, opts(r, cpu.CombineMean))
		require.NoError(t, st.Err)
		s := 0.0
		for j, v := range dst {
			d := float64(v) - truth[j]
			s += d * d
		}
		return math.Sqrt(s / float64(len(dst))), st
	}
	for _, tc := range []struct {
		reject cpu.Reject
		limit  float64
	}{
		{cpu.RejectWinsor, 1.1 * floor},
		{cpu.RejectKappa, 1.1 * floor},
	} {
		t.Run(string(tc.reject), func(t *testing.T) {
			got, st := rms(tc.reject)
			t.Logf("%s RMS %.4f (floor %.4f), rejected %.2f%% high, %.2f%% low", tc.reject, got, floor,
				100*float64(st.RejectedHigh)/float64(st.Samples), 100*float64(st.RejectedLow)/float64(st.Samples))
			assert.Less(t, got, tc.limit)
			hitRate := float64(st.RejectedHigh) / float64(st.Samples)
			assert.InDelta(t, 0.05, hitRate, 0.01, "about every cosmic ray is rejected")
		})
	}
	t.Run("none is far off", func(t *testing.T) {
		got, _ := rms(cpu.RejectNone)
		assert.Greater(t, got, 100*floor)
	})
}

// TestStackBandStreamedDeterministic: bit-identical for any Workers value and
// any row split with 300 and 2000 frames.
func TestStackBandStreamedDeterministic(t *testing.T) {
	const rows, width = 9, 7
	for _, n := range []int{300, 2000} {
		src, norm, w := randomBand(n, rows, width, 11)
		for _, r := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
			for _, c := range streamCombines {
				t.Run(fmt.Sprintf("%s/%s/%d", r, c, n), func(t *testing.T) {
					run := func(workers, row0, row1 int) ([]float32, []uint32, cpu.StackStats) {
						opt := opts(r, c)
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
					d4, k4, s4 := run(4, 0, rows)
					assert.Equal(t, bits(d1), bits(d4), "Workers=1 vs Workers=4")
					assert.Equal(t, k1, k4)
					assert.Equal(t, s1, s4)
					a, ka, sa := run(2, 0, 4)
					b, kb, sb := run(3, 4, rows)
					assert.Equal(t, bits(d1), bits(append(a, b...)), "split at row 4")
					assert.Equal(t, k1, append(ka, kb...))
					assert.Equal(t, s1.RejectedLow, sa.RejectedLow+sb.RejectedLow)
					assert.Equal(t, s1.RejectedHigh, sa.RejectedHigh+sb.RejectedHigh)
				})
			}
		}
	}
	t.Run("RejectBounds", func(t *testing.T) {
		src, norm, _ := randomBand(256, rows, width, 12)
		opt := opts(cpu.RejectWinsor, cpu.CombineMean)
		opt.Workers = 1
		lo1, hi1 := make([]float64, rows*width), make([]float64, rows*width)
		require.NoError(t, cpu.RejectBounds(lo1, hi1, src, norm, width, opt))
		opt.Workers = 5
		lo5, hi5 := make([]float64, rows*width), make([]float64, rows*width)
		require.NoError(t, cpu.RejectBounds(lo5, hi5, src, norm, width, opt))
		assert.Equal(t, lo1, lo5)
		assert.Equal(t, hi1, hi5)
	})
}

func TestStackBandStreamedRejectsBadArguments(t *testing.T) {
	const n = 300
	src := make([][]float32, n)
	for i := range src {
		src[i] = make([]float32, 4)
	}
	src[7] = src[7][:3]
	dst := []float32{1, 2, 3, 4}
	st := cpu.StackBand(dst, nil, src, nil, nil, 2, cpu.DefaultStackOptions())
	assert.ErrorIs(t, st.Err, cpu.ErrShape)
	assert.Equal(t, []float32{1, 2, 3, 4}, dst, "dst untouched")
	src[7] = make([]float32, 4)
	w := make([]float32, n)
	w[3] = -1
	st = cpu.StackBand(dst, nil, src, nil, w, 2, cpu.DefaultStackOptions())
	assert.ErrorIs(t, st.Err, cpu.ErrInvalidOptions)
	assert.Zero(t, st.Pixels)
}

// TestStackBandStreamedEmptyKeptSet: 300 frames alternating 0 and 10 with
// κ 0.5: kappa's test [2.5, 7.5] rejects every sample, as it does on a full
// sort (NaN, kept 0); winsor does not apply a test that would empty the kept
// set, so it keeps everything.
func TestStackBandStreamedEmptyKeptSet(t *testing.T) {
	xs := make([]float32, 300)
	for i := range xs {
		xs[i] = float32(10 * (i % 2))
	}
	o := opts(cpu.RejectKappa, cpu.CombineMean)
	o.KappaLow, o.KappaHigh = 0.5, 0.5
	v, k, st := stackPixel(t, xs, nil, o)
	assert.True(t, math.IsNaN(float64(v)), "kappa: %v", v)
	assert.Zero(t, k)
	assert.Equal(t, int64(150), st.RejectedLow)
	assert.Equal(t, int64(150), st.RejectedHigh)
	o.Reject = cpu.RejectWinsor
	v, k, st = stackPixel(t, xs, nil, o)
	assert.Equal(t, float32(5), v)
	assert.Equal(t, uint32(300), k)
	assert.Zero(t, st.RejectedLow+st.RejectedHigh)
}
