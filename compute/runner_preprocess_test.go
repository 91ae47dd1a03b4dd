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

// preprocFake adds the optional preprocessing kernels to fakeDevice, computed by package cpu
// with the output marked (+1 on every finite sample) so tests see which backend answered.
type preprocFake struct {
	*fakeDevice
	fail  error // returned by every preprocessing call when set
	calls int
}

func (f *preprocFake) Debayer(_ context.Context, dst, src []float32, w, h int, p cpu.BayerPattern) error {
	f.calls++
	if f.fail != nil {
		return f.fail
	}
	err := cpu.Debayer(dst, src, w, h, p)
	mark(dst)
	return err
}

func (f *preprocFake) HotPixels(_ context.Context, dst, src []float32, w, h int, opt cpu.HotPixelOptions) (int, error) {
	f.calls++
	if f.fail != nil {
		return 0, f.fail
	}
	n, err := cpu.HotPixels(dst, src, w, h, opt)
	mark(dst)
	return n, err
}

func mark(x []float32) {
	for i := range x {
		x[i]++
	}
}

// rawImage is a small mosaic with NaN holes and hot pixels.
func rawImage() (w, h int, pix []float32) {
	rng := rand.New(rand.NewPCG(31, 32))
	w, h = 29, 17
	pix = make([]float32, w*h)
	for i := range pix {
		pix[i] = float32(800 + 20*rng.NormFloat64())
		if rng.IntN(20) == 0 {
			pix[i] = float32(math.NaN())
		}
		if rng.IntN(30) == 0 {
			pix[i] += 20000
		}
	}
	return w, h, pix
}

// preprocess runs both operations through r and returns their outputs.
func preprocess(t *testing.T, r *Runner) (rgb, clean []float32, n int) {
	w, h, pix := rawImage()
	rgb = make([]float32, 3*w*h)
	require.NoError(t, r.Debayer(t.Context(), rgb, pix, w, h, cpu.BayerGRBG))
	clean = make([]float32, w*h)
	n, err := r.HotPixels(t.Context(), clean, pix, w, h, cpu.DefaultHotPixelOptions())
	require.NoError(t, err)
	return rgb, clean, n
}

func cpuPreprocess(t *testing.T) (rgb, clean []float32, n int) {
	w, h, pix := rawImage()
	rgb = make([]float32, 3*w*h)
	require.NoError(t, cpu.Debayer(rgb, pix, w, h, cpu.BayerGRBG))
	clean = make([]float32, w*h)
	n, err := cpu.HotPixels(clean, pix, w, h, cpu.DefaultHotPixelOptions())
	require.NoError(t, err)
	return rgb, clean, n
}

func TestPreprocessUsesTheDeviceKernels(t *testing.T) {
	var rec recorder
	fake := &preprocFake{fakeDevice: newFake(hardware())}
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(),
		func(context.Context, gpu.Options) (Device, error) { return fake, nil })
	defer r.Close()
	rgb, clean, n := preprocess(t, r)
	wrgb, wclean, wn := cpuPreprocess(t)
	mark(wrgb)
	mark(wclean)
	assert.Equal(t, bitsKey32(wrgb), bitsKey32(rgb), "the device answered")
	assert.Equal(t, bitsKey32(wclean), bitsKey32(clean))
	assert.Equal(t, wn, n)
	assert.Positive(t, n)
	assert.Equal(t, 2, fake.calls)
	for _, rep := range r.Report() {
		assert.Equal(t, "gpu", rep.Backend, rep.Op)
	}
}

func TestPreprocessFallsBackToTheCPU(t *testing.T) {
	tests := []struct {
		name     string
		dev      func() Device
		key      string
		gpuCalls int
	}{
		{"device without the kernels", func() Device { return newFake(hardware()) }, "gpu_fallback_runtime_error", 0},
		{"allocation failure", func() Device {
			return &preprocFake{fakeDevice: newFake(hardware()), fail: fmt.Errorf("fake: %w", gpu.ErrOutOfMemory)}
		}, "gpu_fallback_insufficient_memory", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			dev := tt.dev()
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(),
				func(context.Context, gpu.Options) (Device, error) { return dev, nil })
			defer r.Close()
			rgb, clean, n := preprocess(t, r)
			wrgb, wclean, wn := cpuPreprocess(t)
			assert.Equal(t, bitsKey32(wrgb), bitsKey32(rgb))
			assert.Equal(t, bitsKey32(wclean), bitsKey32(clean))
			assert.Equal(t, wn, n)
			// A second round stays on the CPU without asking the device again.
			preprocess(t, r)
			if f, ok := dev.(*preprocFake); ok {
				assert.Equal(t, tt.gpuCalls, f.calls)
			}
			assert.Len(t, rec.find(tt.key), 2, "one fallback per operation")
			rep := r.Report()
			require.Len(t, rep, 2)
			for _, o := range rep {
				assert.Equal(t, "cpu", o.Backend, o.Op)
				assert.Equal(t, 2, o.ChunksCPU, o.Op)
			}
		})
	}
}

func TestPreprocessWithoutAGPURunsOnTheCPU(t *testing.T) {
	var rec recorder
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, rec.sink(), failOpen(gpu.ErrNoAdapter))
	defer r.Close()
	rgb, clean, n := preprocess(t, r)
	wrgb, wclean, wn := cpuPreprocess(t)
	assert.Equal(t, bitsKey32(wrgb), bitsKey32(rgb))
	assert.Equal(t, bitsKey32(wclean), bitsKey32(clean))
	assert.Equal(t, wn, n)
}

func TestPreprocessRejectsBadArguments(t *testing.T) {
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, failOpen(gpu.ErrNoAdapter))
	defer r.Close()
	ctx := t.Context()
	src := make([]float32, 12)
	assert.ErrorIs(t, r.Debayer(ctx, make([]float32, 36), src, 4, 3, 0), cpu.ErrInvalidOptions)
	assert.ErrorIs(t, r.Debayer(ctx, make([]float32, 35), src, 4, 3, cpu.BayerRGGB), cpu.ErrShape)
	_, err := r.HotPixels(ctx, make([]float32, 12), src, 4, 3, cpu.HotPixelOptions{})
	assert.ErrorIs(t, err, cpu.ErrInvalidOptions)
	_, err = r.HotPixels(ctx, src, src, 4, 3, cpu.DefaultHotPixelOptions())
	assert.ErrorIs(t, err, cpu.ErrShape)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, r.Debayer(cancelled, make([]float32, 36), src, 4, 3, cpu.BayerRGGB), context.Canceled)
}

func TestPreprocessOnARealGPUEqualsTheCPU(t *testing.T) {
	var rec recorder
	r := realRunner(t, gpu.Faults{}, &rec)
	rgb, clean, n := preprocess(t, r)
	wrgb, wclean, wn := cpuPreprocess(t)
	assert.Equal(t, bitsKey32(wrgb), bitsKey32(rgb))
	assert.Equal(t, bitsKey32(wclean), bitsKey32(clean))
	assert.Equal(t, wn, n)
	for _, rep := range r.Report() {
		assert.Equal(t, "gpu", rep.Backend, rep.Op)
	}
}

// bitsKey32 is the bits of x as text, every NaN spelled the same.
func bitsKey32(x []float32) string {
	b := make([]byte, 0, 9*len(x))
	for _, v := range x {
		if math.IsNaN(float64(v)) {
			b = append(b, "nan,"...)
			continue
		}
		b = fmt.Appendf(b, "%x,", math.Float32bits(v))
	}
	return string(b)
}
