package gpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gogpu/wgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

// streamOpt is opt with reject and combine set.
func streamOpt(reject cpu.Reject, combine cpu.Combine) cpu.StackOptions {
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = reject, combine
	return opt
}

// subsample returns the band's cpu.SubsampleFrames frames and their
// normalisations, the input of cpu.RejectBounds.
func subsample(b band) ([][]float32, []cpu.Affine) {
	idx := cpu.SubsampleFrames(len(b.src))
	src := make([][]float32, len(idx))
	var norm []cpu.Affine
	if b.norm != nil {
		norm = make([]cpu.Affine, len(idx))
	}
	for k, i := range idx {
		src[k] = b.src[i]
		if norm != nil {
			norm[k] = b.norm[i]
		}
	}
	return src, norm
}

// gpuBounds runs the bounds pass alone and reads its (lo, hi) pairs back.
func gpuBounds(t testing.TB, d *Device, b band, opt cpu.StackOptions) (lo, hi []float32) {
	t.Helper()
	px := uint64(b.pixels())
	pairs := make([]float32, 2*px)
	require.NoError(t, d.do(context.Background(), func(ctx context.Context, e *engine) error {
		buf, err := e.createBuffer("test bounds", 8*px, wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc|wgpu.BufferUsageCopyDst)
		if err != nil {
			return err
		}
		defer e.releaseBuffer(buf)
		if err := e.rejectBounds(ctx, buf, b.src, b.norm, opt, px); err != nil {
			return err
		}
		if err := e.ensureStaging(8 * px); err != nil {
			return err
		}
		enc, err := e.dev.CreateCommandEncoder(nil)
		if err != nil {
			return err
		}
		enc.CopyBufferToBuffer(buf, 0, e.staging, 0, 8*px)
		cb, err := enc.Finish()
		if err != nil {
			return err
		}
		if err := e.submit(cb); err != nil {
			return err
		}
		return e.readback(ctx, 8*px, func(p []byte) { copy(f32bytes(pairs), p) })
	}))
	lo, hi = make([]float32, px), make([]float32, px)
	for j := range lo {
		lo[j], hi[j] = pairs[2*j], pairs[2*j+1]
	}
	return lo, hi
}

// boundsTolUlps is the documented agreement of the GPU's float32 bounds
// with cpu.RejectBounds' float64 ones, in ulps (float32) of the largest
// |v| among the pixel's subsample samples: the median is a float32 sample
// (or a correctly rounded half sum), σ comes from float32 statistics of
// float32-rounded samples; κσ then carries a few ulps of the samples.
const boundsTolUlps = 8

// boundsComparison summarises GPU bounds against the CPU's.
type boundsComparison struct {
	pixels, differ, finite int
	worst                  float64 // worst |Δ| in ulps of the largest |v|
}

// compareBounds checks every pixel's bounds: the same infinite bound, or
// finite bounds within boundsTolUlps; other pixels (a Huber loop stopping an
// iteration apart, a sample at a threshold) are counted in differ.
func compareBounds(t *testing.T, b band, opt cpu.StackOptions, lo, hi []float32) boundsComparison {
	t.Helper()
	sub, subNorm := subsample(b)
	want := boundsRef(t, b, opt)
	c := boundsComparison{pixels: b.pixels()}
	for j := range lo {
		scale := 0.0
		for k, f := range sub {
			if isFinite(f[j]) {
				a := cpu.Identity
				if subNorm != nil {
					a = subNorm[k]
				}
				scale = max(scale, math.Abs(float64(a.Gain)*float64(f[j])+float64(a.Offset)))
			}
		}
		unit := ulp32(float32(scale))
		ok := true
		for _, p := range [][2]float64{{want.lo[j], float64(lo[j])}, {want.hi[j], float64(hi[j])}} {
			switch {
			case math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
				ok = ok && p[0] == p[1]
			default:
				dv := math.Abs(p[1]-p[0]) / unit
				if dv > boundsTolUlps {
					ok = false
				} else {
					c.worst = max(c.worst, dv)
				}
			}
		}
		if !math.IsInf(want.lo[j], 0) {
			c.finite++
		}
		if !ok {
			c.differ++
			t.Logf("pixel %d: cpu bounds [%v, %v], gpu [%v, %v] (ulp %.3g)", j, want.lo[j], want.hi[j], lo[j], hi[j], unit)
		}
	}
	return c
}

type bounds64 struct{ lo, hi []float64 }

// boundsRef is cpu.RejectBounds on the band's subsample.
func boundsRef(t testing.TB, b band, opt cpu.StackOptions) bounds64 {
	t.Helper()
	sub, subNorm := subsample(b)
	r := bounds64{make([]float64, b.pixels()), make([]float64, b.pixels())}
	require.NoError(t, cpu.RejectBounds(r.lo, r.hi, sub, subNorm, b.width, opt))
	return r
}

// gpuStreamDetail runs the streamed stack with fpb frames per block and
// returns the per-pixel counts.
func gpuStreamDetail(t testing.TB, d *Device, b band, opt cpu.StackOptions, fpb int) (dst []float32, kept, low, high []uint32) {
	t.Helper()
	px := b.pixels()
	dst, kept, rej := make([]float32, px), make([]uint32, px), make([]uint32, 2*px)
	require.NoError(t, d.do(context.Background(), func(ctx context.Context, e *engine) error {
		return e.stackStreamed(ctx, dst, kept, rej, b.src, b.norm, b.weights, opt, fpb)
	}))
	low, high = make([]uint32, px), make([]uint32, px)
	for j := range low {
		low[j], high[j] = rej[2*j], rej[2*j+1]
	}
	return dst, kept, low, high
}

// compareStream checks the streamed stack against cpu.StackBand pixel by
// pixel: with the same (low, kept, high), NaN where the CPU is NaN, else
// |Δ| ≤ 2 ulp of the pixel's largest |v|; with different counts, both values
// within the spread of the pixel's valid samples (counted in differ).
func compareStream(t *testing.T, d *Device, b band, opt cpu.StackOptions) comparison {
	t.Helper()
	got, kept, low, high := gpuStreamDetail(t, d, b, opt, len(b.src))
	c := comparison{pixels: b.pixels()}
	for j := range got {
		r := cpuPixel(t, b, opt, j)
		g := got[j]
		n := len(r.sorted)
		require.Equal(t, n, int(kept[j]+low[j]+high[j]), "pixel %d: every valid sample is kept or rejected", j)
		if math.Float32bits(g) == math.Float32bits(r.value) || (math.IsNaN(float64(g)) && math.IsNaN(float64(r.value))) {
			c.exact++
		}
		if r.kept == int(kept[j]) && r.low == int(low[j]) && r.high == int(high[j]) {
			if r.kept == 0 {
				require.True(t, math.IsNaN(float64(g)), "pixel %d: nothing kept must be NaN, got %v", j, g)
				continue
			}
			tol := 2 * ulp32(float32(max(math.Abs(r.sorted[0]), math.Abs(r.sorted[n-1]))))
			dv := math.Abs(float64(g) - float64(r.value))
			require.LessOrEqual(t, dv, tol, "pixel %d (%d/%d/%d of %d): cpu %v gpu %v", j, r.low, r.kept, r.high, n, r.value, g)
			c.worstSame = max(c.worstSame, dv/tol)
			continue
		}
		c.differ++
		t.Logf("pixel %d: cpu low/kept/high %d/%d/%d, gpu %d/%d/%d, values %v / %v", j, r.low, r.kept, r.high, low[j], kept[j], high[j], r.value, g)
		for _, v := range []float32{r.value, g} {
			if math.IsNaN(float64(v)) {
				continue // kappa emptied the kept set on one side
			}
			slack := ulp32(v)
			assert.True(t, float64(v) >= r.sorted[0]-slack && float64(v) <= r.sorted[n-1]+slack,
				"pixel %d: %v outside the samples' spread [%v, %v]", j, v, r.sorted[0], r.sorted[n-1])
		}
	}
	return c
}

func TestStreamedBoundsMatchCPU(t *testing.T) {
	d := sharedDevice(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var total boundsComparison
	for _, n := range []int{257, 300, 1000} {
		b := outlierBand(rng, 37, 2, n)
		if n == 257 {
			// Identity: pixel 3 is then constant (σ = 0, no test).
			b.norm, b.weights = nil, nil
		}
		for _, rej := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
			t.Run(fmt.Sprintf("%d frames, %s", n, rej), func(t *testing.T) {
				opt := streamOpt(rej, cpu.CombineMean)
				lo, hi := gpuBounds(t, d, b, opt)
				c := compareBounds(t, b, opt, lo, hi)
				assert.LessOrEqual(t, c.differ, 1, "at most one pixel of %d may end with other bounds", c.pixels)
				assert.Greater(t, c.finite, c.pixels/2, "most pixels must have finite bounds")
				noBounds := []int{0} // no data
				if b.norm == nil {
					noBounds = append(noBounds, 3)
				}
				for _, j := range noBounds {
					assert.True(t, math.IsInf(float64(lo[j]), -1) && math.IsInf(float64(hi[j]), 1), "pixel %d: no test, no bounds; got [%v, %v]", j, lo[j], hi[j])
				}
				total.pixels += c.pixels
				total.differ += c.differ
				total.worst = max(total.worst, c.worst)
			})
		}
	}
	t.Logf("%d pixels, %d with other bounds, worst |Δ| %.3g ulp of the largest |sample| (tolerance %d)",
		total.pixels, total.differ, total.worst, boundsTolUlps)
}

func TestStreamedStackMatchesCPU(t *testing.T) {
	d := sharedDevice(t)
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name           string
		frames         int
		width, rows    int
		nilNormWeights bool
	}{
		{"257 frames", 257, 37, 2, false},
		{"300 frames, identity norm and unit weights", 300, 29, 2, true},
		{"1000 frames", 1000, 23, 3, false},
	}
	var total comparison
	for _, tt := range tests {
		b := outlierBand(rng, tt.width, tt.rows, tt.frames)
		if tt.nilNormWeights {
			b.norm, b.weights = nil, nil
		}
		for _, rej := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
			for _, comb := range []cpu.Combine{cpu.CombineMean, cpu.CombineMin, cpu.CombineMax} {
				t.Run(fmt.Sprintf("%s/%s/%s", tt.name, rej, comb), func(t *testing.T) {
					opt := streamOpt(rej, comb)
					c := compareStream(t, d, b, opt)
					assert.LessOrEqual(t, c.differ, 1, "at most one pixel of %d may be judged differently", c.pixels)
					total.pixels += c.pixels
					total.differ += c.differ
					total.exact += c.exact
					total.worstSame = max(total.worstSame, c.worstSame)

					// StackBand's totals are the CPU's when every pixel agrees.
					want := cpu.StackBand(make([]float32, b.pixels()), nil, b.src, b.norm, b.weights, b.width, opt)
					require.NoError(t, want.Err)
					got, err := d.StackBand(context.Background(), make([]float32, b.pixels()), nil, b.src, b.norm, b.weights, b.width, opt)
					require.NoError(t, err)
					if c.differ == 0 {
						assert.Equal(t, want, got)
					}
					assert.Positive(t, got.RejectedHigh, "the cosmic rays must be rejected")
				})
			}
		}
	}
	t.Logf("%d pixels, %d bit-identical to the CPU, %d with different kept counts (%.2g), worst |Δ| %.3g × tolerance",
		total.pixels, total.exact, total.differ, float64(total.differ)/float64(total.pixels), total.worstSame)
	assert.LessOrEqual(t, float64(total.differ), math.Max(1, 1e-3*float64(total.pixels)))
}

// A kappa clip with a tiny κ rejects whole pixels: NaN with kept 0, as the
// CPU (kappa applies a test that empties the kept set).
func TestStreamedKappaMayEmptyAPixel(t *testing.T) {
	d := sharedDevice(t)
	b := outlierBand(rand.New(rand.NewPCG(5, 6)), 19, 2, 300)
	opt := streamOpt(cpu.RejectKappa, cpu.CombineMean)
	opt.KappaLow, opt.KappaHigh = 0.02, 0.02
	c := compareStream(t, d, b, opt)
	assert.LessOrEqual(t, c.differ, 1)
	dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	_, err := d.StackBand(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, err)
	emptied := 0
	for j := 1; j < len(dst); j++ { // pixel 0 has no data at all
		if kept[j] == 0 {
			emptied++
			assert.True(t, math.IsNaN(float64(dst[j])))
		}
	}
	assert.Positive(t, emptied, "κ = 0.02 must empty some pixels")
}

// Winsor never applies a test that empties the kept set: when the bounds
// reject every valid sample of a pixel, all of them are combined, none
// rejected. Bounds from the subsample keep its last kept run, so this needs
// hand-made bounds (lo > hi: every sample is below lo).
func TestStreamedWinsorUnrejectsAnEmptiedPixel(t *testing.T) {
	d := sharedDevice(t)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 13, 2, 300)
	px := b.pixels()
	for _, comb := range []cpu.Combine{cpu.CombineMean, cpu.CombineMin, cpu.CombineMax} {
		t.Run(string(comb), func(t *testing.T) {
			want, wantKept := cpuStack(t, b, comb)
			dst, kept, rej := make([]float32, px), make([]uint32, px), make([]uint32, 2*px)
			pairs := make([]float32, 2*px)
			for j := range px {
				pairs[2*j], pairs[2*j+1] = 3e38, -3e38
				if j%2 == 1 {
					pairs[2*j], pairs[2*j+1] = float32(math.Inf(-1)), float32(math.Inf(1))
				}
			}
			require.NoError(t, d.do(context.Background(), func(ctx context.Context, e *engine) error {
				buf, err := e.createBuffer("test bounds", uint64(8*px), wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
				if err != nil {
					return err
				}
				defer e.releaseBuffer(buf)
				if err := e.q.WriteBuffer(buf, 0, f32bytes(pairs)); err != nil {
					return err
				}
				combine := combineCode[comb]
				if err := e.stackBlocks(ctx, combine, dst, kept, b.src, b.norm, b.weights, 64, &blockBounds{buf: buf, rej: rej}); err != nil {
					return err
				}
				for j := 2; j < px; j += 2 { // pixel 0 has no valid sample
					require.Zero(t, kept[j], "pixel %d: all rejected before the rule", j)
					require.Equal(t, wantKept[j], rej[2*j], "pixel %d: all rejected low", j)
				}
				return e.unrejectEmptied(ctx, combine, dst, kept, rej, b.src, b.norm, b.weights, 64)
			}))
			assert.Equal(t, wantKept, kept)
			assert.Equal(t, make([]uint32, 2*px), rej, "nothing rejected")
			assert.Equal(t, f32bits(want), f32bits(dst), "first difference at %s", firstDiff(want, dst))
		})
	}
}

func TestStreamedBlocksAreBitIdenticalToOneBlock(t *testing.T) {
	d := sharedDevice(t)
	b := outlierBand(rand.New(rand.NewPCG(1, 2)), 31, 2, 300)
	for _, rej := range []cpu.Reject{cpu.RejectWinsor, cpu.RejectKappa} {
		for _, comb := range []cpu.Combine{cpu.CombineMean, cpu.CombineMin, cpu.CombineMax} {
			opt := streamOpt(rej, comb)
			for _, fpb := range []int{7, 64, len(b.src)} {
				t.Run(fmt.Sprintf("%s/%s/%d per block", rej, comb, fpb), func(t *testing.T) {
					band, blocks, bandKept, blocksKept := stackBlocksAndBand(t, d, b, opt, fpb)
					require.Equal(t, bandKept, blocksKept, "kept")
					require.Equal(t, f32bits(band), f32bits(blocks), "first difference at %s", firstDiff(band, blocks))
				})
			}
		}
	}
}

// When not even the subsample fits one binding, the bounds pass goes in
// pixel chunks, and StackBandBlocks still gives StackBand's bits.
func TestStreamedBlocksOnASmallDevice(t *testing.T) {
	b := outlierBand(rand.New(rand.NewPCG(1, 2)), 37, 2, 300) // 74 px: 75 776 bytes of subsample
	opt := streamOpt(cpu.RejectWinsor, cpu.CombineMean)
	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	wantSt, err := sharedDevice(t).StackBand(context.Background(), want, wantKept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, err)

	o := testOptions()
	o.MaxBufferSize = 64 << 10 // 64 pixels of subsample per chunk
	small := openDevice(t, o)
	dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	_, err = small.StackBand(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, opt)
	require.ErrorIs(t, err, ErrTooLarge, "300 frames of 74 px exceed 64 KiB")
	fpb := small.MaxBlockFrames(b.pixels())
	require.Less(t, fpb, cpu.MaxSortFrames)
	st, err := small.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, opt, fpb)
	require.NoError(t, err)
	assert.Equal(t, wantSt, st)
	assert.Equal(t, wantKept, kept)
	assert.Equal(t, f32bits(want), f32bits(dst), "first difference at %s", firstDiff(want, dst))
}

func TestStreamedOnA2DGrid(t *testing.T) {
	o := testOptions()
	o.WorkgroupSize = 8
	o.MaxWorkgroupsPerDim = 3
	d := openDevice(t, o)
	b := outlierBand(rand.New(rand.NewPCG(1, 2)), 23, 3, 260) // 69 px = 9 groups = 3×3 grid
	c := compareStream(t, d, b, streamOpt(cpu.RejectWinsor, cpu.CombineMean))
	assert.LessOrEqual(t, c.differ, 1)
}

func TestStackBeyondMaxFramesWithoutStreamIsUnsupported(t *testing.T) {
	d := sharedDevice(t)
	require.Equal(t, cpu.MaxSortFrames, d.MaxFrames())
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 5, 1, cpu.MaxSortFrames+1)
	tests := []struct {
		name    string
		opt     cpu.StackOptions
		wantErr error
	}{
		{"winsor with median", streamOpt(cpu.RejectWinsor, cpu.CombineMedian), ErrUnsupported},
		{"kappa with median", streamOpt(cpu.RejectKappa, cpu.CombineMedian), ErrUnsupported},
		{"linear", streamOpt(cpu.RejectLinear, cpu.CombineMean), ErrUnsupported},
		{"median without rejection", streamOpt(cpu.RejectNone, cpu.CombineMedian), ErrUnsupported},
		{"winsor with mean streams", streamOpt(cpu.RejectWinsor, cpu.CombineMean), nil},
		{"kappa with max streams", streamOpt(cpu.RejectKappa, cpu.CombineMax), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float32, b.pixels())
			_, err := d.StackBand(context.Background(), dst, nil, b.src, b.norm, b.weights, b.width, tt.opt)
			_, err2 := d.StackBandBlocks(context.Background(), dst, nil, b.src, b.norm, b.weights, b.width, tt.opt, 16)
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.NoError(t, err2)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorIs(t, err2, tt.wantErr)
		})
	}
	// At MaxFrames, rejection is the exact kernel's and does not stream.
	at := randomBand(rand.New(rand.NewPCG(1, 2)), 5, 1, cpu.MaxSortFrames)
	_, err := d.StackBandBlocks(context.Background(), make([]float32, 5), nil, at.src, at.norm, at.weights, at.width, streamOpt(cpu.RejectWinsor, cpu.CombineMean), 16)
	require.ErrorIs(t, err, ErrUnsupported)
}

// A fault in either pass surfaces as its sentinel: an allocation failure
// leaves the device usable (the next call is right), a lost submit -- the
// bounds pass, a middle block or the last one -- loses it.
func TestStreamedFaultsReturnTheirSentinel(t *testing.T) {
	b := outlierBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 300)
	opt := streamOpt(cpu.RejectWinsor, cpu.CombineMean)
	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	_, err := sharedDevice(t).StackBand(context.Background(), want, wantKept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, err)
	// 100 frames per block: submits are 1 (bounds), 2, 3, 4 (blocks).
	stack := func(d *Device) ([]float32, []uint32, error) {
		dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
		_, err := d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, opt, 100)
		return dst, kept, err
	}
	clean := openDevice(t, testOptions())
	_, _, err = stack(clean)
	require.NoError(t, err)
	allocs := clean.Stats().Allocations
	require.Equal(t, 4, clean.Stats().Submits)
	require.Greater(t, allocs, 7, "the blocks pass allocates after the bounds pass's 6 buffers")
	tests := []struct {
		name   string
		faults Faults
		want   error
	}{
		{"oom at the bounds buffer", Faults{OOMAt: 1}, ErrOutOfMemory},
		{"oom in the bounds pass", Faults{OOMAt: 3}, ErrOutOfMemory},
		{"oom in the blocks pass", Faults{OOMAt: allocs - 1}, ErrOutOfMemory},
		{"oom at the last allocation", Faults{OOMAt: allocs}, ErrOutOfMemory},
		{"lost at the bounds pass", Faults{LostAt: 1}, ErrDeviceLost},
		{"lost at a middle block", Faults{LostAt: 3}, ErrDeviceLost},
		{"lost at the last block", Faults{LostAt: 4}, ErrDeviceLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			o.Faults = tt.faults
			d := openDevice(t, o)
			_, _, err := stack(d)
			require.ErrorIs(t, err, tt.want)
			if tt.want == ErrOutOfMemory {
				assert.Zero(t, d.Stats().PooledBytes, "an allocation failure empties the pool")
			}
			dst, kept, err2 := stack(d)
			if tt.want == ErrDeviceLost {
				assert.True(t, d.Lost())
				require.ErrorIs(t, err2, ErrDeviceLost, "later calls fail fast")
				return
			}
			assert.False(t, d.Lost())
			require.NoError(t, err2, "the device recovers from an allocation failure")
			assert.Equal(t, wantKept, kept)
			assert.Equal(t, f32bits(want), f32bits(dst))
		})
	}
}

func TestStreamedStopsWhenCancelled(t *testing.T) {
	d := sharedDevice(t)
	b := outlierBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 300)
	ctx := &cancelAfter{Context: context.Background()}
	ctx.n.Store(2) // the bounds pass and the first block run
	_, err := d.StackBandBlocks(ctx, make([]float32, b.pixels()), nil, b.src, b.norm, b.weights, b.width, streamOpt(cpu.RejectKappa, cpu.CombineMean), 100)
	require.ErrorIs(t, err, context.Canceled)
	assert.Negative(t, ctx.n.Load(), "cancelled at the second block, not before")
	assert.False(t, d.Lost())
}

// The bound test compares the exact gain·x + offset, as the CPU compares
// its float64 v: a bound equal to the rounded float32 value rejects the
// sample when the exact value lies below (lo) or above (hi) it.
func TestBoundedKernelJudgesTheExactValue(t *testing.T) {
	d := sharedDevice(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const px = 200
	x := make([]float32, px)
	norm := []cpu.Affine{{Gain: 1.1, Offset: 0.3}}
	pairs := make([]float32, 2*px)
	wantRej, wantHigh := make([]uint32, 2*px), 0
	for j := range px {
		x[j] = float32(1000 + 100*rng.Float64())
		v := float64(norm[0].Gain)*float64(x[j]) + float64(norm[0].Offset)
		r := float32(v)
		pairs[2*j], pairs[2*j+1] = r, r // lo = hi = the rounded value
		switch {
		case v < float64(r):
			wantRej[2*j] = 1
		case v > float64(r):
			wantRej[2*j+1] = 1
			wantHigh++
		}
	}
	rej := make([]uint32, 2*px)
	require.NoError(t, d.do(context.Background(), func(ctx context.Context, e *engine) error {
		buf, err := e.createBuffer("test bounds", 8*px, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
		if err != nil {
			return err
		}
		defer e.releaseBuffer(buf)
		if err := e.q.WriteBuffer(buf, 0, f32bytes(pairs)); err != nil {
			return err
		}
		return e.stackBlocks(ctx, combineCode[cpu.CombineMean], make([]float32, px), make([]uint32, px), [][]float32{x}, norm, nil, 1, &blockBounds{buf: buf, rej: rej})
	}))
	assert.Equal(t, wantRej, rej)
	assert.Greater(t, wantHigh, 20, "both sides of the rounding must be covered")
	assert.Less(t, wantHigh, px-20)
}
