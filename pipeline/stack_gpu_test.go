package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/locales"
	_ "github.com/zmosaic/zmosaic/native/gpu" // registers Vulkan (lavapipe in CI)
)

// requireGPU skips when no adapter opens (set ZMOSAIC_REQUIRE_GPU=1 to fail instead, as CI
// with lavapipe does).
func requireGPU(t *testing.T) {
	t.Helper()
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // the Vulkan loader complains on stderr without it
	}
	o := gpu.DefaultOptions()
	o.AllowSoftware = true
	d, err := gpu.Open(t.Context(), o)
	if errors.Is(err, gpu.ErrNoAdapter) {
		if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
			t.Fatalf("no adapter and ZMOSAIC_REQUIRE_GPU is set: %v", err)
		}
		t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe): %v", err)
	}
	require.NoError(t, err)
	require.NoError(t, d.Close())
}

// collect is a Hooks whose events land in a slice.
type collect struct{ events []compute.Event }

func (c *collect) hooks() Hooks {
	return Hooks{Events: func(e compute.Event) { c.events = append(c.events, e) }}
}

func (c *collect) find(key string) []compute.Event {
	var out []compute.Event
	for _, e := range c.events {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

// requireGPUParity checks a GPU stack against the CPU one: kept counts equal, pixels within the
// mean kernel's stated bound (|Δ| ≤ 2⁻²²·|m| + 2⁻³⁶·S; with these positive samples S ≈ |m|,
// so 2⁻²¹·|m| covers both terms), NaN where the CPU has NaN.
func requireGPUParity(t *testing.T, want, got *StackResult) {
	t.Helper()
	require.Equal(t, want.Kept, got.Kept, "kept counts agree exactly")
	require.Equal(t, len(want.Image.Pix), len(got.Image.Pix))
	worst := 0.0
	for i, w := range want.Image.Pix {
		g := got.Image.Pix[i]
		if w != w {
			require.True(t, g != g, "pixel %d: want NaN, got %v", i, g)
			continue
		}
		d := math.Abs(float64(w) - float64(g))
		require.LessOrEqual(t, d, math.Ldexp(math.Abs(float64(w)), -21), "pixel %d: cpu %v gpu %v", i, w, g)
		worst = max(worst, d/math.Abs(float64(w)))
	}
	t.Logf("max relative difference GPU vs CPU: %.3g", worst)
	assert.Equal(t, want.Stats, got.Stats)
}

// requireLocalised renders events in en and fr and checks that every placeholder got a value.
func requireLocalised(t *testing.T, events []compute.Event, wantEN, wantFR string) {
	t.Helper()
	cat, err := locales.Load()
	require.NoError(t, err)
	en, err := locales.Raw("en")
	require.NoError(t, err)
	require.NotEmpty(t, events)
	for _, e := range events {
		for _, p := range locales.Placeholders(en[e.Key]) {
			require.Contains(t, e.Params, p, "event %s lacks parameter %s", e.Key, p)
		}
	}
	assert.Contains(t, cat.Localizer("en").T(events[0].Key, events[0].Params), wantEN)
	assert.Contains(t, cat.Localizer("fr").T(events[0].Key, events[0].Params), wantFR)
}

func gpuStackOptions(reject cpu.Reject, budget int64, faults gpu.Faults) StackOptions {
	opt := DefaultStackOptions()
	opt.Reject = reject
	opt.Compute = compute.Options{Backend: compute.BackendGPU, GPUBudget: budget, Faults: faults}
	return opt
}

func TestStackOnTheGPUMatchesTheCPUAndRecordsTheBackend(t *testing.T) {
	requireGPU(t)
	srcs := noisyFrames(t, 9, 300, 200, 1)
	for _, reject := range []cpu.Reject{cpu.RejectNone, cpu.RejectWinsor} {
		t.Run(string(reject), func(t *testing.T) {
			cpuOpt := DefaultStackOptions()
			cpuOpt.Reject = reject
			cpuOpt.Compute.Backend = compute.BackendCPU
			want, err := Stack(t.Context(), srcs, cpuOpt, Hooks{})
			require.NoError(t, err)
			assert.Equal(t, "cpu", backendKey(want))

			var c collect
			got, err := Stack(t.Context(), srcs, gpuStackOptions(reject, compute.MinGPUBudget, gpu.Faults{}), c.hooks())
			require.NoError(t, err)
			requireGPUParity(t, want, got)
			require.Len(t, got.Compute.Ops, 1)
			op := got.Compute.Ops[0]
			// 1 MiB / (9·300·4 + 300·16 bytes per row) = 67 rows: 200 rows in 3 chunks.
			if op.ChunksCPU == 0 {
				assert.Equal(t, 3, op.ChunksGPU)
				assert.Equal(t, "gpu", backendKey(got))
				assert.Len(t, c.find("gpu_chunking_rows"), 1)
				assert.Len(t, c.find("stack_using_gpu"), 1)
			} else {
				// A kernel the device does not have yet: a counted, explained fallback.
				require.NotEmpty(t, op.Fallbacks)
				assert.Equal(t, got.Compute.ForcedFallbacks, len(c.find("gpu_forced_fallback")))
				t.Logf("%s ran on the CPU: %s", reject, op.Fallbacks[0].Reason)
			}
			require.NotNil(t, got.Compute.Adapter)
			requireLocalised(t, c.find("gpu_info_summary"), "GPU: "+got.Compute.Adapter.Name, "GPU : "+got.Compute.Adapter.Name)
		})
	}
}

func TestStackOnTheGPUSurvivesEveryInjectedFault(t *testing.T) {
	requireGPU(t)
	srcs := noisyFrames(t, 9, 300, 200, 1)
	cpuOpt := gpuStackOptions(cpu.RejectNone, 0, gpu.Faults{})
	cpuOpt.Compute.Backend = compute.BackendCPU
	want, err := Stack(t.Context(), srcs, cpuOpt, Hooks{})
	require.NoError(t, err)
	tests := []struct {
		name           string
		faults         gpu.Faults
		key            string
		wantEN, wantFR string
		backend        string
		forced         int
	}{
		{"oom at the first allocation backs off", gpu.Faults{OOMAt: 1}, "gpu_oom_backoff",
			"GPU allocation failed", "échec d'allocation GPU", "gpu", 0},
		{"oom at a later allocation backs off", gpu.Faults{OOMAt: 3}, "gpu_oom_backoff",
			"GPU allocation failed", "échec d'allocation GPU", "gpu", 0},
		{"device lost at the first submission", gpu.Faults{LostAt: 1}, "gpu_device_lost",
			"GPU device lost", "périphérique GPU perdu", "cpu", 1},
		{"device lost at the second submission", gpu.Faults{LostAt: 2}, "gpu_device_lost",
			"GPU device lost", "périphérique GPU perdu", "gpu+cpu", 1},
		{"compile failure", gpu.Faults{Compile: true}, "gpu_fallback_runtime_error",
			"GPU processing error", "erreur de traitement GPU", "cpu", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c collect
			got, err := Stack(t.Context(), srcs, gpuStackOptions(cpu.RejectNone, compute.MinGPUBudget, tc.faults), c.hooks())
			require.NoError(t, err)
			requireGPUParity(t, want, got)
			ev := c.find(tc.key)
			require.Len(t, ev, 1, "events: %v", keysOf(c.events))
			assert.Equal(t, compute.Warn, ev[0].Level)
			requireLocalised(t, ev, tc.wantEN, tc.wantFR)
			assert.Equal(t, tc.backend, got.Compute.Ops[0].Backend)
			assert.Equal(t, tc.backend, backendKey(got))
			assert.Equal(t, tc.forced, got.Compute.ForcedFallbacks)
			if tc.forced > 0 {
				requireLocalised(t, c.find("gpu_forced_fallback"), "--backend gpu was requested", "--backend gpu était demandé")
			}
		})
	}
}

// backendKey is the ZMBACKND card of a stack.
func backendKey(r *StackResult) string {
	v, _ := r.Image.Header.String("ZMBACKND")
	return v
}

func keysOf(ev []compute.Event) string {
	var k []string
	for _, e := range ev {
		k = append(k, e.Key)
	}
	return strings.Join(k, " ")
}

func TestStackOfLargeFramesRunsOnTheGPUInChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("stacks 768 MiB of frames twice")
	}
	requireGPU(t)
	const n, side = 48, 2048
	img := &fits.Image{Width: side, Height: side, Channels: 1, Pix: make([]float32, side*side), Header: fits.NewHeader()}
	rng := rand.New(rand.NewPCG(5, 6))
	srcs := make([]FrameSource, n)
	for f := range n {
		for i := range img.Pix {
			img.Pix[i] = float32(1000 + 30*rng.NormFloat64())
		}
		var buf bytes.Buffer
		require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
		srcs[f] = MemoryFrame{FileName: fmt.Sprintf("f%02d.fits", f), Data: buf.Bytes()}
	}
	opt := gpuStackOptions(cpu.RejectNone, 64<<20, gpu.Faults{})
	opt.Weight, opt.Norm = cpu.WeightNone, cpu.NormNone // the point is the combine, not the measuring
	var c collect
	got, err := Stack(t.Context(), srcs, opt, c.hooks())
	require.NoError(t, err)
	op := got.Compute.Ops[0]
	assert.Equal(t, "gpu", op.Backend)
	// 64 MiB / (48·2048·4 + 2048·16 bytes per row) = 157 rows per chunk.
	assert.Equal(t, 157, op.RowsPerChunk)
	assert.GreaterOrEqual(t, op.ChunksGPU, 14)
	require.NotEmpty(t, c.find("gpu_chunking_rows"))
	t.Logf("48 × 2048² on the GPU: %d chunks of %d rows, %.1f s on the GPU", op.ChunksGPU, op.RowsPerChunk, op.GPUSeconds)

	opt.Compute.Backend = compute.BackendCPU
	want, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	requireGPUParity(t, want, got)
	t.Logf("same stack on the CPU: %.1f s", want.Compute.Ops[0].CPUSeconds)
}
