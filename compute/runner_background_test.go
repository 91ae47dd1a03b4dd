package compute

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// backgroundFake adds SubtractBackground to fakeDevice: the CPU result marked (+1 on every
// finite sample), or, with fail set, garbage written to dst followed by fail (a GPU that
// breaks part-way through).
type backgroundFake struct {
	*fakeDevice
	fail  error
	calls int
}

func (f *backgroundFake) SubtractBackground(_ context.Context, dst, src []float32, w, h, ch int, m cpu.BackgroundModel) error {
	f.calls++
	if f.fail != nil {
		for i := range dst[:len(dst)/2] {
			dst[i] = -12345
		}
		return f.fail
	}
	err := cpu.SubtractBackground(dst, src, w, h, ch, m)
	mark(dst)
	return err
}

// gradientImage is a 3-channel 48×32 frame with a gradient, noise and NaN, and its model.
func gradientImage(t *testing.T) (w, h int, pix []float32, m cpu.BackgroundModel) {
	rng := rand.New(rand.NewPCG(33, 34))
	w, h = 48, 32
	pix = make([]float32, 3*w*h)
	for i := range pix {
		x, y := i%w, (i/w)%h
		pix[i] = float32(500 + 3*float64(x) - 2*float64(y) + 4*rng.NormFloat64())
		if rng.IntN(25) == 0 {
			pix[i] = float32(math.NaN())
		}
	}
	opt := cpu.DefaultBackgroundOptions()
	opt.Boxes = 4
	m, err := cpu.FitBackground(pix, w, h, 3, opt)
	require.NoError(t, err)
	return w, h, pix, m
}

func cpuBackground(t *testing.T) []float32 {
	w, h, pix, m := gradientImage(t)
	out := make([]float32, len(pix))
	require.NoError(t, cpu.SubtractBackground(out, pix, w, h, 3, m))
	return out
}

func TestSubtractBackgroundUsesTheDeviceKernel(t *testing.T) {
	var rec recorder
	fake := &backgroundFake{fakeDevice: newFake(hardware())}
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(),
		func(context.Context, gpu.Options) (Device, error) { return fake, nil })
	defer r.Close()
	w, h, pix, m := gradientImage(t)
	out := make([]float32, len(pix))
	require.NoError(t, r.SubtractBackground(t.Context(), out, pix, w, h, 3, m))
	want := cpuBackground(t)
	mark(want)
	assert.Equal(t, bitsKey32(want), bitsKey32(out), "the device answered")
	assert.Equal(t, 1, fake.calls)
	rep := r.Report()
	require.Len(t, rep, 1)
	assert.Equal(t, "background", rep[0].Op)
	assert.Equal(t, "gpu", rep[0].Backend)
}

func TestSubtractBackgroundFallsBackToTheCPU(t *testing.T) {
	tests := []struct {
		name    string
		dev     func() Device
		inPlace bool
		key     string
	}{
		{"device without the kernel", func() Device { return newFake(hardware()) }, false, "gpu_fallback_runtime_error"},
		{"allocation failure", func() Device {
			return &backgroundFake{fakeDevice: newFake(hardware()), fail: fmt.Errorf("fake: %w", gpu.ErrOutOfMemory)}
		}, false, "gpu_fallback_insufficient_memory"},
		{"failure part-way, in place", func() Device {
			return &backgroundFake{fakeDevice: newFake(hardware()), fail: fmt.Errorf("fake: %w", gpu.ErrOutOfMemory)}
		}, true, "gpu_fallback_insufficient_memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			dev := tt.dev()
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(),
				func(context.Context, gpu.Options) (Device, error) { return dev, nil })
			defer r.Close()
			w, h, pix, m := gradientImage(t)
			out := make([]float32, len(pix))
			if tt.inPlace {
				out = pix
			}
			require.NoError(t, r.SubtractBackground(t.Context(), out, pix, w, h, 3, m))
			assert.Equal(t, bitsKey32(cpuBackground(t)), bitsKey32(out), "the CPU's result, subtracted once")
			assert.Len(t, rec.find(tt.key), 1)
			rep := r.Report()
			require.Len(t, rep, 1)
			assert.Equal(t, "cpu", rep[0].Backend)
		})
	}
}

func TestSubtractBackgroundRejectsBadArguments(t *testing.T) {
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, failOpen(gpu.ErrNoAdapter))
	defer r.Close()
	ctx := t.Context()
	w, h, pix, m := gradientImage(t)
	assert.ErrorIs(t, r.SubtractBackground(ctx, make([]float32, len(pix)-1), pix, w, h, 3, m), cpu.ErrShape)
	assert.ErrorIs(t, r.SubtractBackground(ctx, make([]float32, len(pix)), pix, h, w, 3, m), cpu.ErrShape)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, r.SubtractBackground(cancelled, make([]float32, len(pix)), pix, w, h, 3, m), context.Canceled)
}

func TestSubtractBackgroundOnARealGPUEqualsTheCPU(t *testing.T) {
	var rec recorder
	r := realRunner(t, gpu.Faults{}, &rec)
	w, h, pix, m := gradientImage(t)
	out := make([]float32, len(pix))
	require.NoError(t, r.SubtractBackground(t.Context(), out, pix, w, h, 3, m))
	want := cpuBackground(t)
	assert.Equal(t, bitsKey32(want), bitsKey32(out))
	require.NoError(t, r.SubtractBackground(t.Context(), pix, pix, w, h, 3, m))
	assert.Equal(t, bitsKey32(want), bitsKey32(pix), "in place")
	for _, rep := range r.Report() {
		assert.Equal(t, "gpu", rep.Backend, rep.Op)
	}
}
