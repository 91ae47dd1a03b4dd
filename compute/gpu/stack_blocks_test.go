package gpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

// f32bits returns the bit patterns of s, so that equality is bit for bit
// (NaN included, −0 apart from +0).
func f32bits(s []float32) []uint32 {
	b := make([]uint32, len(s))
	for i, v := range s {
		b[i] = math.Float32bits(v)
	}
	return b
}

// firstDiff describes the first pixel where two outputs differ, for failure
// messages of million-pixel comparisons.
func firstDiff(want, got []float32) string {
	for j := range want {
		if math.Float32bits(want[j]) != math.Float32bits(got[j]) {
			return fmt.Sprintf("pixel %d: want %v, got %v", j, want[j], got[j])
		}
	}
	return "none"
}

// stackBlocksAndBand runs StackBand and StackBandBlocks on b and returns both
// outputs, asserting equal stats.
func stackBlocksAndBand(t *testing.T, d *Device, b band, opt cpu.StackOptions, fpb int) (band, blocks []float32, bandKept, blocksKept []uint32) {
	t.Helper()
	px := b.pixels()
	band, blocks = make([]float32, px), make([]float32, px)
	bandKept, blocksKept = make([]uint32, px), make([]uint32, px)
	st1, err := d.StackBand(context.Background(), band, bandKept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, err)
	st2, err := d.StackBandBlocks(context.Background(), blocks, blocksKept, b.src, b.norm, b.weights, b.width, opt, fpb)
	require.NoError(t, err)
	assert.Equal(t, st1, st2, "stats")
	return band, blocks, bandKept, blocksKept
}

func TestStackBandBlocksIsBitIdenticalToStackBandAndCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name                string
		width, rows, frames int
		nilNorm, nilWeights bool
	}{
		{"band not a multiple of the workgroup", 37, 3, 20, false, false},
		{"identity norm and unit weights", 29, 2, 15, true, true},
		{"more frames than MaxFrames", 45, 2, 300, false, false},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		b := randomBand(rng, tt.width, tt.rows, tt.frames)
		if tt.nilNorm {
			b.norm = nil
		}
		if tt.nilWeights {
			b.weights = nil
		}
		for _, combine := range []cpu.Combine{cpu.CombineMean, cpu.CombineMin, cpu.CombineMax} {
			opt := noneOpt(combine)
			want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
			require.NoError(t, cpu.StackBand(want, wantKept, b.src, b.norm, b.weights, b.width, opt).Err)
			for _, fpb := range []int{1, 2, 7, tt.frames, tt.frames + 5} {
				t.Run(fmt.Sprintf("%s/%s/%d per block", tt.name, combine, fpb), func(t *testing.T) {
					band, blocks, bandKept, blocksKept := stackBlocksAndBand(t, d, b, opt, fpb)
					require.Equal(t, bandKept, blocksKept, "kept")
					require.Equal(t, f32bits(band), f32bits(blocks), "StackBand vs StackBandBlocks, first difference at %s", firstDiff(band, blocks))
					require.Equal(t, wantKept, blocksKept, "kept vs cpu")
					require.Equal(t, f32bits(want), f32bits(blocks), "cpu vs StackBandBlocks, first difference at %s", firstDiff(want, blocks))
				})
			}
		}
	}
}

func TestStackBandBlocksCoversSpecialPixels(t *testing.T) {
	d := sharedDevice(t)
	b := randomBand(rand.New(rand.NewPCG(3, 4)), 16, 1, 9)
	dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	st, err := d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), 2)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(float64(dst[0])), "no valid sample gives NaN")
	assert.Zero(t, kept[0])
	assert.False(t, math.IsNaN(float64(dst[1])), "zero-weight frames only: the unweighted mean")
	assert.NotZero(t, kept[1])
	assert.Less(t, math.Abs(float64(dst[2])), 10.0, "cancelling pixel averages near 0")
	var samples int64
	for _, c := range kept {
		samples += int64(c)
	}
	assert.Equal(t, cpu.StackStats{Pixels: int64(b.pixels()), Samples: samples}, st)
}

func TestStackBandBlocksOnA2DGrid(t *testing.T) {
	opt := testOptions()
	opt.WorkgroupSize = 8
	opt.MaxWorkgroupsPerDim = 3
	d := openDevice(t, opt)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 23, 3, 10) // 69 px = 9 groups = 3×3 grid
	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	require.NoError(t, cpu.StackBand(want, wantKept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean)).Err)
	dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	_, err := d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), 3)
	require.NoError(t, err)
	assert.Equal(t, wantKept, kept)
	assert.Equal(t, f32bits(want), f32bits(dst), "first difference at %s", firstDiff(want, dst))
}

// Blocks stack a band whose frames exceed one buffer, which StackBand refuses.
func TestStackBandBlocksFitsWhereStackBandIsTooLarge(t *testing.T) {
	opt := testOptions()
	opt.MaxBufferSize = 4096
	d := openDevice(t, opt)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 17, 5, 40) // 85 px: 340 bytes a frame, 4080 of accumulators
	dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	_, err := d.StackBand(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean))
	require.ErrorIs(t, err, ErrTooLarge)

	fpb := d.MaxBlockFrames(b.pixels())
	require.Equal(t, 4096/340, fpb)
	_, err = d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), fpb+1)
	require.ErrorIs(t, err, ErrTooLarge, "one frame more than MaxBlockFrames")
	_, err = d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), fpb)
	require.NoError(t, err)
	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	require.NoError(t, cpu.StackBand(want, wantKept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean)).Err)
	assert.Equal(t, wantKept, kept)
	assert.Equal(t, f32bits(want), f32bits(dst), "first difference at %s", firstDiff(want, dst))

	wide := randomBand(rand.New(rand.NewPCG(1, 2)), 100, 1, 2) // 4800 bytes of accumulators
	assert.Zero(t, d.MaxBlockFrames(wide.pixels()))
	_, err = d.StackBandBlocks(context.Background(), make([]float32, 100), nil, wide.src, wide.norm, wide.weights, wide.width, noneOpt(cpu.CombineMean), 1)
	require.ErrorIs(t, err, ErrTooLarge, "accumulators above the binding limit")
	assert.False(t, d.Lost())
}

func TestMaxBlockFramesDividesTheBindingLimit(t *testing.T) {
	lim := wgpuLimits{MaxBufferSize: 1 << 30, MaxStorageBufferBindingSize: 128 << 20}
	tests := []struct {
		name   string
		pixels int
		want   int
	}{
		{"16 rows of 1920", 1920 * 16, (128 << 20) / (1920 * 16 * 4)},
		{"accumulators at the limit", (128 << 20) / 48, 12},
		{"accumulators above the limit", (128<<20)/48 + 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, maxBlockFrames(lim, tt.pixels))
		})
	}
}

func TestStackBandBlocksRejectsWhatDoesNotStream(t *testing.T) {
	d := sharedDevice(t)
	src := [][]float32{{1, 2}, {3, 4}}
	call := func(opt cpu.StackOptions, fpb int) error {
		_, err := d.StackBandBlocks(context.Background(), make([]float32, 2), nil, src, nil, nil, 2, opt, fpb)
		return err
	}
	rejectWith := func(r cpu.Reject) cpu.StackOptions {
		opt := cpu.DefaultStackOptions()
		opt.Reject, opt.Combine = r, cpu.CombineMean
		return opt
	}
	tests := []struct {
		name    string
		opt     cpu.StackOptions
		fpb     int
		wantErr error
	}{
		{"winsor", rejectWith(cpu.RejectWinsor), 1, ErrUnsupported},
		{"kappa", rejectWith(cpu.RejectKappa), 1, ErrUnsupported},
		{"linear", rejectWith(cpu.RejectLinear), 1, ErrUnsupported},
		{"median", noneOpt(cpu.CombineMedian), 1, ErrUnsupported},
		{"zero frames per block", noneOpt(cpu.CombineMean), 0, cpu.ErrInvalidOptions},
		{"unknown combine", noneOpt("sum"), 1, cpu.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, call(tt.opt, tt.fpb), tt.wantErr)
		})
	}
	_, err := d.StackBandBlocks(context.Background(), make([]float32, 2), nil, [][]float32{{1}}, nil, nil, 2, noneOpt(cpu.CombineMean), 1)
	require.ErrorIs(t, err, cpu.ErrShape)
}

func TestStackBandBlocksWithoutFramesIsNaN(t *testing.T) {
	d := sharedDevice(t)
	dst, kept := []float32{1, 2, 3}, []uint32{7, 7, 7}
	_, err := d.StackBandBlocks(context.Background(), dst, kept, nil, nil, nil, 3, noneOpt(cpu.CombineMax), 4)
	require.NoError(t, err)
	for _, v := range dst {
		assert.True(t, math.IsNaN(float64(v)))
	}
	assert.Equal(t, []uint32{0, 0, 0}, kept)
}

// A fault between blocks surfaces as its sentinel: an allocation failure
// leaves the device usable (the next call is right), a lost submit -- the
// first, a middle or the last of five blocks -- loses it.
func TestStackBandBlocksFaultsReturnTheirSentinel(t *testing.T) {
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 10)
	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	require.NoError(t, cpu.StackBand(want, wantKept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean)).Err)
	stack := func(d *Device) ([]float32, []uint32, error) {
		dst, kept := make([]float32, b.pixels()), make([]uint32, b.pixels())
		_, err := d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), 2)
		return dst, kept, err
	}
	tests := []struct {
		name   string
		faults Faults
		want   error
	}{
		{"oom at the input buffer", Faults{OOMAt: 1}, ErrOutOfMemory},
		{"oom at the accumulators", Faults{OOMAt: 3}, ErrOutOfMemory},
		{"oom at the readback buffer", Faults{OOMAt: 7}, ErrOutOfMemory},
		{"lost at the first block", Faults{LostAt: 1}, ErrDeviceLost},
		{"lost at the third block", Faults{LostAt: 3}, ErrDeviceLost},
		{"lost at the last block", Faults{LostAt: 5}, ErrDeviceLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions()
			opt.Faults = tt.faults
			d := openDevice(t, opt)
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

// cancelAfter is a context whose Err turns to Canceled at its (n+1)-th
// call: StackBandBlocks checks it once per block, so the cancellation lands
// between two blocks, deterministically.
type cancelAfter struct {
	context.Context
	n atomic.Int32
}

func (c *cancelAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestStackBandBlocksStopsBetweenBlocksWhenCancelled(t *testing.T) {
	d := sharedDevice(t)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 6)
	ctx := &cancelAfter{Context: context.Background()}
	ctx.n.Store(2)
	dst := make([]float32, b.pixels())
	_, err := d.StackBandBlocks(ctx, dst, nil, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), 2)
	require.ErrorIs(t, err, context.Canceled)
	assert.Negative(t, ctx.n.Load(), "cancelled at the third block, not before")
	assert.False(t, d.Lost())

	want, wantKept := make([]float32, b.pixels()), make([]uint32, b.pixels())
	require.NoError(t, cpu.StackBand(want, wantKept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean)).Err)
	kept := make([]uint32, b.pixels())
	_, err = d.StackBandBlocks(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(cpu.CombineMean), 2)
	require.NoError(t, err, "the device stays usable")
	assert.Equal(t, wantKept, kept)
	assert.Equal(t, f32bits(want), f32bits(dst))
}
