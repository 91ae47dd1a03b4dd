package compute

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	_ "github.com/zmosaic/zmosaic/native/gpu" // registers Vulkan (lavapipe in CI)
)

// realRunner opens a Runner on the real adapter with --backend gpu, or skips when there is none
// (ZMOSAIC_REQUIRE_GPU=1 fails instead).
func realRunner(t *testing.T, faults gpu.Faults, rec *recorder) *Runner {
	t.Helper()
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // the Vulkan loader complains on stderr without it
	}
	var open error
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU, Faults: faults}, rec.sink(),
		func(ctx context.Context, o gpu.Options) (Device, error) {
			d, err := OpenGPU(ctx, o)
			open = err
			return d, err
		})
	if open != nil {
		require.ErrorIs(t, open, gpu.ErrNoAdapter)
		if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
			t.Fatalf("no adapter and ZMOSAIC_REQUIRE_GPU is set: %v", open)
		}
		t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe): %v", open)
	}
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func TestWholeOpsOnARealGPUEqualTheCPU(t *testing.T) {
	im := newImage()
	var rec recorder
	r := realRunner(t, gpu.Faults{}, &rec)
	got, err := r.Percentiles(t.Context(), im.pix, testPs...)
	require.NoError(t, err)
	want := cpu.Percentiles(im.pix, testPs...)
	for i := range want {
		// Bit for bit, except that the GPU may give +0 where the CPU gives −0.
		if want[i] == 0 && got[i] == 0 {
			continue
		}
		assert.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "p%v: cpu %v gpu %v", testPs[i], want[i], got[i])
	}
	img, err := r.StretchNRGBA(t.Context(), im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions())
	require.NoError(t, err)
	assert.Equal(t, cpu.StretchNRGBA(im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions()), img)
	for _, o := range r.Report() {
		assert.Equal(t, "gpu", o.Backend, "%s: %+v", o.Op, o.Fallbacks)
	}
	assert.Zero(t, r.ForcedFallbacks())
}

func TestWholeOpsOnARealGPUSurviveALostDevice(t *testing.T) {
	im := newImage()
	var rec recorder
	r := realRunner(t, gpu.Faults{LostAt: 1}, &rec)
	got, err := r.Percentiles(t.Context(), im.pix, testPs...)
	require.NoError(t, err)
	assert.Equal(t, floatsKey(cpu.Percentiles(im.pix, testPs...)), floatsKey(got))
	assert.Contains(t, rec.one(t, "gpu_device_lost").Params["error"], "injected fault at submit 1")
	img, err := r.StretchNRGBA(t.Context(), im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions())
	require.NoError(t, err)
	assert.Equal(t, cpu.StretchNRGBA(im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions()), img)
	rep := r.Report()
	require.Len(t, rep, 2)
	assert.Equal(t, "cpu", rep[0].Backend)
	assert.Equal(t, "cpu", rep[1].Backend)
	assert.Equal(t, 2, r.ForcedFallbacks(), "the lost device, then the stretch that could not use it")
}
