package gpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

func TestFaultsReturnTheirSentinel(t *testing.T) {
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 4)
	stack := func(d *Device) error {
		return d.StackMean(context.Background(), make([]float32, b.pixels()), make([]uint32, b.pixels()), b.src, b.norm, b.weights, b.width)
	}
	tests := []struct {
		name     string
		faults   Faults
		want     error
		lost     bool // the device stays unusable
		recovers bool // a second call succeeds
	}{
		{"oom at first allocation", Faults{OOMAt: 1}, ErrOutOfMemory, false, true},
		{"oom at third allocation", Faults{OOMAt: 3}, ErrOutOfMemory, false, true},
		{"device lost at first submit", Faults{LostAt: 1}, ErrDeviceLost, true, false},
		{"compile failure", Faults{Compile: true}, ErrCompile, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions()
			opt.Faults = tt.faults
			d := openDevice(t, opt)
			err := stack(d)
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, tt.lost, d.Lost())
			if tt.faults.OOMAt > 0 {
				assert.Zero(t, d.Stats().PooledBytes, "an allocation failure empties the pool")
			}
			err2 := stack(d)
			switch {
			case tt.recovers:
				require.NoError(t, err2)
			case tt.lost:
				require.ErrorIs(t, err2, ErrDeviceLost, "later calls fail fast")
			default:
				require.ErrorIs(t, err2, tt.want)
			}
		})
	}
}

func TestLostDeviceAtLaterSubmitKeepsEarlierResults(t *testing.T) {
	opt := testOptions()
	opt.Faults.LostAt = 2
	d := openDevice(t, opt)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 20, 2, 4)
	dst := make([]float32, b.pixels())
	kept := make([]uint32, b.pixels())
	require.NoError(t, d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width))
	checkAgainstCPU(t, b, cpu.CombineMean, dst, kept)
	require.ErrorIs(t, d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width), ErrDeviceLost)
	require.True(t, d.Lost())
}

func TestCompileErrorCarriesCompilerMessage(t *testing.T) {
	opt := testOptions()
	opt.Faults.Compile = true
	d := openDevice(t, opt)
	err := d.StackMean(context.Background(), make([]float32, 2), nil, [][]float32{{1, 2}}, nil, nil, 2)
	require.ErrorIs(t, err, ErrCompile)
	assert.Contains(t, err.Error(), "stack_none")
	assert.False(t, d.Lost(), "a compile failure leaves the device usable for other kernels")
}

func TestBandAboveBufferLimitIsTooLarge(t *testing.T) {
	opt := testOptions()
	opt.MaxBufferSize = 4096
	d := openDevice(t, opt)
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 200, 1, 8) // 6400 bytes of frames
	err := d.StackMean(context.Background(), make([]float32, 200), nil, b.src, b.norm, b.weights, b.width)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.False(t, d.Lost())
}
