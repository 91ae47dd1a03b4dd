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

// checkAgainstCPU asserts kept equality, NaN placement and the documented
// tolerance, and returns the worst error in units of the tolerance.
func checkAgainstCPU(t *testing.T, b band, combine cpu.Combine, got []float32, gotKept []uint32) float64 {
	t.Helper()
	want, wantKept := cpuStack(t, b, combine)
	require.Equal(t, wantKept, gotKept, "kept counts must be exactly equal")
	worst := 0.0
	for j := range want {
		w, g := want[j], got[j]
		if math.IsNaN(float64(w)) {
			require.True(t, math.IsNaN(float64(g)), "pixel %d: cpu NaN, gpu %v", j, g)
			continue
		}
		var tol float64
		if combine == cpu.CombineMean {
			tol = meanTol(w, meanScale(b, j))
		} else {
			tol = ulp32(w)
		}
		d := math.Abs(float64(g) - float64(w))
		require.LessOrEqual(t, d, tol, "pixel %d (kept %d): cpu %v gpu %v", j, wantKept[j], w, g)
		worst = max(worst, d/tol)
	}
	return worst
}

// noneOpt is the default options with Reject none and the given Combine.
func noneOpt(c cpu.Combine) cpu.StackOptions {
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = cpu.RejectNone, c
	return opt
}

func TestStackBandMatchesCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name                string
		width, rows, frames int
		combine             cpu.Combine
		nilNorm, nilWeights bool
	}{
		{"mean, band not a multiple of the workgroup", 37, 3, 7, cpu.CombineMean, false, false},
		{"mean, one frame", 13, 1, 1, cpu.CombineMean, false, false},
		{"mean, 64 frames", 100, 5, 64, cpu.CombineMean, false, false},
		{"mean, wide band", 997, 9, 16, cpu.CombineMean, false, false},
		{"mean, identity norm and unit weights", 50, 3, 9, cpu.CombineMean, true, true},
		{"min", 37, 3, 11, cpu.CombineMin, false, false},
		{"max", 37, 3, 11, cpu.CombineMax, false, false},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := randomBand(rng, tt.width, tt.rows, tt.frames)
			if tt.nilNorm {
				b.norm = nil
			}
			if tt.nilWeights {
				b.weights = nil
			}
			dst := make([]float32, b.pixels())
			kept := make([]uint32, b.pixels())
			st, err := d.StackBand(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width, noneOpt(tt.combine))
			require.NoError(t, err)
			assert.Equal(t, int64(b.pixels()), st.Pixels)
			assert.Zero(t, st.RejectedLow+st.RejectedHigh, "no rejection")
			if b.norm == nil { // the helpers expect explicit identity and unit weights
				b.norm = make([]cpu.Affine, len(b.src))
				for i := range b.norm {
					b.norm[i] = cpu.Identity
				}
			}
			if b.weights == nil {
				b.weights = make([]float32, len(b.src))
				for i := range b.weights {
					b.weights[i] = 1
				}
			}
			worst := checkAgainstCPU(t, b, tt.combine, dst, kept)
			t.Logf("worst error = %.3g × tolerance", worst)
		})
	}
}

func TestStackBandCoversSpecialPixels(t *testing.T) {
	d := sharedDevice(t)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 16, 1, 6)
	dst := make([]float32, b.pixels())
	kept := make([]uint32, b.pixels())
	require.NoError(t, d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width))
	assert.True(t, math.IsNaN(float64(dst[0])), "no valid sample gives NaN")
	assert.Zero(t, kept[0])
	assert.Less(t, math.Abs(float64(dst[2])), 10.0, "cancelling pixel averages near 0")
	checkAgainstCPU(t, b, cpu.CombineMean, dst, kept)
}

func TestStackBandIsBitIdenticalOnRepeat(t *testing.T) {
	d := sharedDevice(t)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 61, 4, 12)
	run := func() ([]uint32, []uint32) {
		dst := make([]float32, b.pixels())
		kept := make([]uint32, b.pixels())
		require.NoError(t, d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width))
		bits := make([]uint32, len(dst))
		for j, v := range dst {
			bits[j] = math.Float32bits(v)
		}
		return bits, kept
	}
	b1, k1 := run()
	b2, k2 := run()
	assert.Equal(t, b1, b2)
	assert.Equal(t, k1, k2)
}

func TestStackBandUses2DGridBeyondMaxWorkgroups(t *testing.T) {
	opt := testOptions()
	opt.WorkgroupSize = 8
	opt.MaxWorkgroupsPerDim = 3
	d := openDevice(t, opt)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 23, 3, 5) // 69 px = 9 groups = 3×3 grid
	dst := make([]float32, b.pixels())
	kept := make([]uint32, b.pixels())
	require.NoError(t, d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width))
	checkAgainstCPU(t, b, cpu.CombineMean, dst, kept)

	big := randomBand(rand.New(rand.NewPCG(1, 2)), 80, 1, 2) // 10 groups > 3×3
	err := d.StackMean(context.Background(), make([]float32, 80), nil, big.src, big.norm, big.weights, big.width)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.False(t, d.Lost(), "a planning error must not lose the device")
}

func TestGridPicksOneOr2DDispatch(t *testing.T) {
	e := &engine{lim: limitsWithDim(65535)}
	tests := []struct {
		name           string
		n, wg          uint32
		gx, gy, stride uint32
	}{
		{"fits one row", 1000, 64, 16, 1, 16 * 64},
		{"exactly the limit", 65535 * 256, 256, 65535, 1, 65535 * 256},
		{"one past the limit", 65535*256 + 1, 256, 65535, 2, 65535 * 256},
		{"single pixel", 1, 256, 1, 1, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gx, gy, stride, err := e.grid(tt.n, tt.wg)
			require.NoError(t, err)
			assert.Equal(t, []uint32{tt.gx, tt.gy, tt.stride}, []uint32{gx, gy, stride})
			assert.GreaterOrEqual(t, uint64(gx)*uint64(gy)*uint64(tt.wg), uint64(tt.n), "grid covers every pixel")
		})
	}
}

func TestStackBandRejectsBadArguments(t *testing.T) {
	d := sharedDevice(t)
	src := [][]float32{{1, 2}, {3, 4}}
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"median beyond MaxFrames", func() error {
			many := make([][]float32, d.MaxFrames()+1)
			for i := range many {
				many[i] = []float32{1, 2}
			}
			_, err := d.StackBand(context.Background(), make([]float32, 2), nil, many, nil, nil, 2, noneOpt(cpu.CombineMedian))
			return err
		}, ErrUnsupported},
		{"unknown combine", func() error {
			_, err := d.StackBand(context.Background(), make([]float32, 2), nil, src, nil, nil, 2, noneOpt("sum"))
			return err
		}, cpu.ErrInvalidOptions},
		{"zero iterations", func() error {
			opt := cpu.DefaultStackOptions()
			opt.Iterations = 0
			_, err := d.StackBand(context.Background(), make([]float32, 2), nil, src, nil, nil, 2, opt)
			return err
		}, cpu.ErrInvalidOptions},
		{"short frame", func() error {
			return d.StackMean(context.Background(), make([]float32, 2), nil, [][]float32{{1}}, nil, nil, 2)
		}, cpu.ErrShape},
		{"negative weight", func() error {
			return d.StackMean(context.Background(), make([]float32, 2), nil, src, nil, []float32{1, -1}, 2)
		}, cpu.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), tt.wantErr)
		})
	}
}

func TestStackBandWithoutFramesIsNaN(t *testing.T) {
	d := sharedDevice(t)
	dst := []float32{1, 2, 3}
	kept := []uint32{7, 7, 7}
	require.NoError(t, d.StackMean(context.Background(), dst, kept, nil, nil, nil, 3))
	for _, v := range dst {
		assert.True(t, math.IsNaN(float64(v)))
	}
	assert.Equal(t, []uint32{0, 0, 0}, kept)
}
