package session

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// testBand draws frames × (width × rows) samples with NaN, ±Inf and outliers, a gain/offset
// and a weight per frame (one of them 0).
func testBand(frames, width, rows int) (src [][]float32, norm []cpu.Affine, weights []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range frames {
		s := make([]float32, width*rows)
		for i := range s {
			v := float32(1000 + 30*rng.NormFloat64())
			switch r := rng.Float64(); {
			case r < 0.05:
				v = float32(math.NaN())
			case r < 0.07:
				v = float32(math.Inf(1 - 2*rng.IntN(2)))
			case r < 0.1:
				v += 4000
			}
			s[i] = v
		}
		src = append(src, s)
		norm = append(norm, cpu.Affine{Gain: float32(0.9 + 0.2*rng.Float64()), Offset: float32(10 * rng.NormFloat64())})
		weights = append(weights, float32(rng.Float64()))
	}
	weights[1] = 0
	return src, norm, weights
}

// encodeBand lays a band out as zmosaic.stackBand receives it.
func encodeBand(src [][]float32, norm []cpu.Affine, weights []float32, width int) Band {
	b := Band{NFrames: len(src), Width: width, Weights: float32Bytes(weights)}
	for _, s := range src {
		b.Frames = append(b.Frames, float32Bytes(s)...)
	}
	for _, a := range norm {
		b.Norm = append(b.Norm, float32Bytes([]float32{a.Gain, a.Offset})...)
	}
	return b
}

func TestStackBandGivesTheBitsOfTheCPUKernel(t *testing.T) {
	src, norm, weights := testBand(9, 17, 3)
	tests := []struct {
		name    string
		norm    []cpu.Affine
		weights []float32
		options map[string]any
	}{
		{"winsor mean with normalisation and weights", norm, weights, map[string]any{"backend": "cpu"}},
		{"kappa median with numeric strings", norm, weights, map[string]any{"backend": "cpu", "reject": "kappa", "combine": "median", "kappa_low": "2.5", "iterations": 4.0}},
		{"linear max without normalisation or weights", nil, nil, map[string]any{"backend": "cpu", "reject": "linear", "combine": "max", "kappa_high": 2.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, "en", Env{Open: func(context.Context, gpu.Options) (compute.Device, error) {
				panic("backend cpu opened a GPU")
			}})
			in := encodeBand(src, tt.norm, tt.weights, 17)
			if tt.weights == nil {
				in.Weights = nil
			}
			got, err := s.StackBand(t.Context(), in, tt.options)
			require.NoError(t, err)

			opt, _, err := parseBandOptions(tt.options)
			require.NoError(t, err)
			want := make([]float32, 17*3)
			kept := make([]uint32, 17*3)
			stats := cpu.StackBand(want, kept, src, tt.norm, tt.weights, 17, opt)
			require.NoError(t, stats.Err)
			assert.Equal(t, float32Bytes(want), float32Bytes(got.Value), "same bits, NaN included")
			assert.Equal(t, kept, got.Kept)
			assert.Equal(t, stats, got.Stats)
			assert.Equal(t, "cpu", got.Backend)
			assert.Positive(t, stats.RejectedLow+stats.RejectedHigh, "the outliers gave the rejection work")

			js := got.JS()
			assert.Equal(t, float32Bytes(want), js["valueBytes"])
			assert.Equal(t, uint32Bytes(kept), js["keptBytes"])
			assert.Equal(t, stats.RejectedLow, js["rejected_low"])
			assert.Equal(t, stats.RejectedHigh, js["rejected_high"])
			assert.Equal(t, stats.Samples, js["samples"])
			assert.Equal(t, "cpu", js["backend"])
			assert.Equal(t, []any{}, js["gpu_errors"])
		})
	}
}

func TestStackBandRunsOnTheWebGPUAdapterInAuto(t *testing.T) {
	src, norm, weights := testBand(5, 11, 2)
	s := newSession(t, "en", Env{Open: func(context.Context, gpu.Options) (compute.Device, error) { return fakeGPU{}, nil }})
	got, err := s.StackBand(t.Context(), encodeBand(src, norm, weights, 11), nil)
	require.NoError(t, err)
	assert.Equal(t, "webgpu", got.Backend, "auto takes a CPU-emulated adapter, as the page's stacks do")
	want := make([]float32, 22)
	cpu.StackBand(want, nil, src, norm, weights, 11, cpu.DefaultStackOptions())
	assert.Equal(t, float32Bytes(want), float32Bytes(got.Value))
}

func TestStackBandRedoesOnTheCPUWhenTheBrowserReportedGPUErrors(t *testing.T) {
	src, norm, weights := testBand(4, 8, 2)
	drains := 0
	s := newSession(t, "en", Env{
		Open: func(context.Context, gpu.Options) (compute.Device, error) { return garbageGPU{}, nil },
		GPUErrors: func() []string {
			drains++
			if drains == 2 { // after the GPU run; the first drain clears stale errors
				return []string{"GPUValidationError: bad shader"}
			}
			return []string{"stale"}
		},
	})
	got, err := s.StackBand(t.Context(), encodeBand(src, norm, weights, 8), map[string]any{"backend": "gpu"})
	require.NoError(t, err)
	assert.Equal(t, "cpu", got.Backend)
	assert.Equal(t, []string{"GPUValidationError: bad shader"}, got.GPUErrors)
	want := make([]float32, 16)
	cpu.StackBand(want, nil, src, norm, weights, 8, cpu.DefaultStackOptions())
	assert.Equal(t, float32Bytes(want), float32Bytes(got.Value), "the CPU redo replaced the GPU's zeros")
	assert.Equal(t, []any{"GPUValidationError: bad shader"}, got.JS()["gpu_errors"])
}

func TestStackBandRejectsBadInputWithReasons(t *testing.T) {
	src, norm, weights := testBand(3, 4, 2)
	good := encodeBand(src, norm, weights, 4)
	with := func(edit func(*Band)) Band { b := good; edit(&b); return b }
	tests := []struct {
		name    string
		in      Band
		options map[string]any
		wantErr string
	}{
		{"no frame", with(func(b *Band) { b.NFrames = 0 }), nil, "at least one frame"},
		{"no width", with(func(b *Band) { b.Width = 0 }), nil, "width must be > 0"},
		{"frames bytes not a multiple of the frame count", with(func(b *Band) { b.Frames = b.Frames[:len(b.Frames)-4] }), nil, "not a positive multiple of 3 frames"},
		{"no frame bytes", with(func(b *Band) { b.Frames = nil }), nil, "got 0 bytes of frames"},
		{"pixels not a multiple of the width", with(func(b *Band) { b.Width = 3 }), nil, "not a multiple of width 3"},
		{"normalisation of the wrong length", with(func(b *Band) { b.Norm = b.Norm[:8] }), nil, "want 24 (gain, offset float32 per frame)"},
		{"weights of the wrong length", with(func(b *Band) { b.Weights = b.Weights[:4] }), nil, "want 12 (one float32 per frame)"},
		{"a negative weight", with(func(b *Band) { b.Weights = float32Bytes([]float32{1, -1, 1}) }), nil, "must be finite and >= 0"},
		{"an option of the page that is not the kernel's", good, map[string]any{"norm": "linear"}, "invalid option norm"},
		{"an unknown reject", good, map[string]any{"reject": "sometimes"}, "sometimes"},
		{"a bad backend", good, map[string]any{"backend": "tpu"}, "tpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, "en", Env{})
			opts := map[string]any{"backend": "cpu"}
			for k, v := range tt.options {
				opts[k] = v
			}
			_, err := s.StackBand(t.Context(), tt.in, opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestStackBandWaitsForNoStack(t *testing.T) {
	s := newSession(t, "fr", Env{})
	s.running = true // a stack is in progress
	src, norm, weights := testBand(2, 4, 1)
	_, err := s.StackBand(t.Context(), encodeBand(src, norm, weights, 4), map[string]any{"backend": "cpu"})
	assert.EqualError(t, err, s.T("wasm_busy", nil))
	assert.True(t, s.running, "a refused call leaves the running stack's flag alone")
}
