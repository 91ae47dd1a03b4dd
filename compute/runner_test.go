package compute

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

func TestRunnerWithoutUsableGPUStacksOnTheCPU(t *testing.T) {
	b := newBand(6, 40, 10)
	want := b.cpu(t, noneOpt())
	tests := []struct {
		name        string
		backend     Backend
		open        func() OpenFunc
		wantKey     string
		wantLevel   Level
		wantParams  map[string]any
		wantWhy     string // reason_key of stack_using_cpu
		forced      int
		closedFakes bool
	}{
		{"no adapter in auto is a note", BackendAuto, func() OpenFunc { return failOpen(gpu.ErrNoAdapter) },
			"gpu_fallback_unavailable", Info, map[string]any{"reason": gpu.ErrNoAdapter.Error(), "reason_key": "reason_no_adapter"},
			"reason_no_adapter", 0, false},
		{"no adapter with --backend gpu is a counted warning", BackendGPU, func() OpenFunc { return failOpen(gpu.ErrNoAdapter) },
			"gpu_fallback_unavailable", Warn, map[string]any{"reason": gpu.ErrNoAdapter.Error(), "reason_key": "reason_no_adapter"},
			"reason_no_adapter", 1, false},
		{"the driver's words stay as they are, apart from ours", BackendAuto, func() OpenFunc {
			return failOpen(fmt.Errorf("%w: wgpu: no suitable GPU adapter found", gpu.ErrNoAdapter))
		}, "gpu_fallback_unavailable", Info, map[string]any{
			"reason":     "gpu: no usable adapter: wgpu: no suitable GPU adapter found",
			"reason_key": "reason_no_adapter_detail", "detail": "wgpu: no suitable GPU adapter found",
		}, "reason_no_adapter_detail", 0, false},
		{"--backend cpu never opens a GPU", BackendCPU, func() OpenFunc {
			return func(context.Context, gpu.Options) (Device, error) { panic("opened a GPU with --backend cpu") }
		}, "gpu_fallback_unavailable", Info, map[string]any{"reason": "--backend cpu", "reason_key": "reason_backend_cpu"},
			"reason_backend_cpu", 0, false},
		{"auto skips a CPU-emulated adapter", BackendAuto, func() OpenFunc { return newFake(software()).opener() },
			"gpu_adapter_skipped_software", Info, map[string]any{"name": "llvmpipe (fake)", "device_type": "CPU"},
			"reason_software_adapter", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			opt := DefaultOptions()
			opt.Backend = tc.backend
			r := NewRunnerWith(t.Context(), opt, rec.sink(), tc.open())
			defer r.Close()
			got := b.run(t, r, noneOpt())
			requireSame(t, want, got)

			e := rec.one(t, tc.wantKey)
			assert.Equal(t, tc.wantLevel, e.Level)
			assert.Equal(t, tc.wantParams, e.Params)
			use := rec.one(t, "stack_using_cpu")
			assert.Equal(t, Info, use.Level)
			assert.NotEmpty(t, use.Params["reason"])
			assert.Equal(t, tc.wantWhy, use.Params["reason_key"])
			assert.Positive(t, use.Params["workers"])
			assert.Empty(t, rec.find("gpu_info_summary"))
			assert.Len(t, rec.find("gpu_forced_fallback"), tc.forced)
			if tc.forced > 0 {
				f := rec.one(t, "gpu_forced_fallback")
				assert.Equal(t, Warn, f.Level)
				assert.Equal(t, "stack", f.Params["operation"])
				assert.Equal(t, tc.wantWhy, f.Params["reason_key"])
			}
			assert.Equal(t, tc.forced, r.ForcedFallbacks())

			// A second band says nothing new.
			n := len(rec.events)
			b.run(t, r, noneOpt())
			assert.Len(t, rec.events, n)
			rep := r.Report()
			require.Len(t, rep, 1)
			assert.Equal(t, OpReport{Op: "stack", Backend: "cpu", Calls: 2, ChunksCPU: 2, Fallbacks: rep[0].Fallbacks,
				CPUSeconds: rep[0].CPUSeconds, Seconds: rep[0].Seconds}, rep[0])
			require.Len(t, rep[0].Fallbacks, 1)
			assert.Equal(t, tc.wantKey, rep[0].Fallbacks[0].Key)
			assert.Equal(t, tc.forced == 1, rep[0].Fallbacks[0].Forced)
		})
	}
}

func TestRunnerUsesTheGPUAndSummarisesIt(t *testing.T) {
	tests := []struct {
		name     string
		backend  Backend
		info     func() gpu.Info
		software bool // Options.SoftwareInAuto
	}{
		{"auto uses a hardware adapter", BackendAuto, hardware, false},
		{"--backend gpu accepts a CPU-emulated adapter", BackendGPU, software, false},
		{"auto accepts a CPU-emulated adapter when told to (the browser)", BackendAuto, software, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBand(5, 30, 8)
			var rec recorder
			fake := newFake(tc.info())
			opt := DefaultOptions()
			opt.Backend = tc.backend
			opt.SoftwareInAuto = tc.software
			r := NewRunnerWith(t.Context(), opt, rec.sink(), fake.opener())
			requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
			assert.Equal(t, []string{"gpu_info_summary", "stack_using_gpu"}, rec.keys())
			sum := rec.one(t, "gpu_info_summary")
			assert.Equal(t, map[string]any{"name": tc.info().Name, "backend": "Vulkan", "device_type": tc.info().DeviceType.String(),
				"max_buffer_mb": 256.0, "max_binding_mb": 128.0, "budget_mb": 256.0}, sum.Params)
			assert.Equal(t, tc.info().Name, rec.one(t, "stack_using_gpu").Params["adapter"])
			assert.Equal(t, 1, fake.calls, "one chunk fits the budget")
			s := r.Summary()
			assert.Equal(t, int64(256<<20), s.BudgetBytes)
			require.NotNil(t, s.Adapter)
			assert.Equal(t, tc.info().Name, s.Adapter.Name)
			assert.Equal(t, "gpu", s.Ops[0].Backend)
			require.NoError(t, r.Close())
			assert.True(t, fake.closed)
		})
	}
}

func TestRunnerResultsDoNotDependOnTheChunkSize(t *testing.T) {
	b := newBand(7, 50, 23)
	for _, opt := range []cpu.StackOptions{noneOpt(), cpu.DefaultStackOptions()} {
		want := b.cpu(t, opt)
		bytesPerRow := int64(7*50*4 + 50*16)
		for _, rows := range []int{1, 2, 5, 22, 23} {
			t.Run(fmt.Sprintf("%s/%d rows per chunk", opt.Reject, rows), func(t *testing.T) {
				var rec recorder
				fake := newFake(hardware())
				r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto, GPUBudget: MinGPUBudget}, rec.sink(), fake.opener())
				r.budget = int64(rows) * bytesPerRow // below MinGPUBudget: set directly to force tiny chunks
				requireSame(t, want, b.run(t, r, opt))
				chunks := (23 + rows - 1) / rows
				assert.Equal(t, chunks, fake.calls)
				if chunks > 1 {
					e := rec.one(t, "gpu_chunking_rows")
					assert.Equal(t, map[string]any{"rows": rows, "chunks": chunks, "frame_blocks": 1, "budget_mb": mib(r.budget)}, e.Params)
				} else {
					assert.Empty(t, rec.find("gpu_chunking_rows"))
				}
				assert.Equal(t, chunks, r.Report()[0].ChunksGPU)
			})
		}
	}
}

func TestRunnerInsufficientMemoryFallsBackBeforeAnyGPUWork(t *testing.T) {
	b := newBand(10, 64, 4)
	tests := []struct {
		name      string
		opt       cpu.StackOptions
		maxFrames int
		capBytes  uint64
		reason    string
		reasonKey string
	}{
		{"a single row exceeds the buffer cap", noneOpt(), 64, 1000, "one row of 10 frames × 64 pixels", "reason_row_over_budget"},
		{"more frames than the rejection kernel holds", cpu.DefaultStackOptions(), 8, 128 << 20, "at most 8 samples per pixel, 10 frames given", "reason_too_many_frames"},
		{"a linear-fit clip over more frames than the kernel holds", linearOpt(), 8, 128 << 20, "at most 8 samples per pixel, 10 frames given", "reason_too_many_frames"},
		{"more frames than the median kernel holds", medianOpt(), 8, 128 << 20, "at most 8 samples per pixel, 10 frames given", "reason_too_many_frames"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			fake := newFake(hardware())
			fake.maxFrames, fake.lim = tc.maxFrames, capLimits(tc.capBytes)
			r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
			requireSame(t, b.cpu(t, tc.opt), b.run(t, r, tc.opt))
			assert.Zero(t, fake.calls, "nothing was sent to the GPU")
			e := rec.one(t, "gpu_fallback_insufficient_memory")
			assert.Equal(t, Warn, e.Level)
			assert.Contains(t, e.Params["reason"], tc.reason)
			assert.Positive(t, e.Params["estimated_mb"])
			assert.Greater(t, e.Params["estimated_mb"], e.Params["allowed_mb"])
			assert.Equal(t, tc.reasonKey, e.Params["reason_key"])
			assert.Equal(t, 10, e.Params["frames"], "the reason's own placeholders travel with it")
			use := rec.one(t, "stack_using_cpu")
			assert.Contains(t, use.Params["reason"], tc.reason)
			assert.Equal(t, tc.reasonKey, use.Params["reason_key"])
			f := rec.one(t, "gpu_forced_fallback")
			assert.Equal(t, Warn, f.Level)
			assert.Equal(t, tc.reasonKey, f.Params["reason_key"])
			b.run(t, r, tc.opt)
			assert.Len(t, rec.find("gpu_fallback_insufficient_memory"), 1, "said once per kernel and shape")
			assert.Equal(t, 1, r.ForcedFallbacks())
		})
	}
}

func TestRunnerStreamsFrameBlocksWhenARowDoesNotFit(t *testing.T) {
	// 40 frames × 16 px: a row of all frames is 2560 bytes, over a 1000-byte buffer cap, but
	// one row's accumulators (768 bytes) and blocks of 15 frames (960 bytes) fit.
	b := newBand(40, 16, 4)
	var rec recorder
	fake := newFake(hardware())
	fake.lim = capLimits(1000)
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
	assert.Equal(t, []int{15, 15, 15, 15}, fake.blockCalls, "one call per row chunk, 15 frames per block")
	assert.Empty(t, rec.find("gpu_fallback_insufficient_memory"))
	e := rec.one(t, "gpu_chunking_rows")
	assert.Equal(t, 3, e.Params["frame_blocks"])
	assert.Equal(t, 4, r.Report()[0].ChunksGPU)

	// A rejection cannot stream: the same shape goes to the CPU, saying why.
	rec = recorder{}
	fake = newFake(hardware())
	fake.lim = capLimits(1000)
	r = NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	requireSame(t, b.cpu(t, cpu.DefaultStackOptions()), b.run(t, r, cpu.DefaultStackOptions()))
	assert.Empty(t, fake.blockCalls)
	rec.one(t, "gpu_fallback_insufficient_memory")
}

func TestRunnerStreamsWinsorAboveTheSortLimit(t *testing.T) {
	// 300 frames: more than cpu.MaxSortFrames, so winsor follows the streamed rule, which the
	// GPU runs too (a device sorting exactly cpu.MaxSortFrames samples per pixel).
	b := newBand(cpu.MaxSortFrames+44, 8, 2)
	var rec recorder
	fake := newFake(hardware())
	fake.maxFrames = cpu.MaxSortFrames
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	requireSame(t, b.cpu(t, cpu.DefaultStackOptions()), b.run(t, r, cpu.DefaultStackOptions()))
	assert.Positive(t, fake.calls, "the GPU did the work")
	assert.Empty(t, rec.find("gpu_fallback_insufficient_memory"))

	// Linear-fit clipping has no streamed rule: the CPU keeps it exact.
	rec = recorder{}
	fake = newFake(hardware())
	fake.maxFrames = cpu.MaxSortFrames
	r = NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	requireSame(t, b.cpu(t, linearOpt()), b.run(t, r, linearOpt()))
	assert.Zero(t, fake.calls)
	rec.one(t, "gpu_fallback_insufficient_memory")
}

func TestRunnerOOMBacksOffThreeTimesThenUsesTheCPU(t *testing.T) {
	b := newBand(4, 16, 40)
	want := b.cpu(t, noneOpt())
	var rec recorder
	fake := newFake(hardware())
	fake.fail = oomAlways
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
	requireSame(t, want, b.run(t, r, noneOpt()))
	assert.Equal(t, []int{40, 20, 10, 5}, fake.rows, "the first try and three halvings")
	backoffs := rec.find("gpu_oom_backoff")
	require.Len(t, backoffs, 3)
	for i, e := range backoffs {
		assert.Equal(t, Warn, e.Level)
		assert.Equal(t, []int{20, 10, 5}[i], e.Params["rows"])
		assert.Equal(t, i+1, e.Params["attempt"])
		assert.Equal(t, 3, e.Params["max_attempts"])
		assert.Contains(t, e.Params["error"], "out of memory")
	}
	e := rec.one(t, "gpu_fallback_insufficient_memory")
	assert.Equal(t, Warn, e.Level)
	assert.Contains(t, e.Params["reason"], "4 times")
	assert.Equal(t, "reason_allocation_failed", e.Params["reason_key"])
	assert.Equal(t, 4, e.Params["attempts"])
	assert.Equal(t, 5, e.Params["rows"])
	assert.Empty(t, rec.find("gpu_forced_fallback"), "auto does not count forced fallbacks")

	b.run(t, r, noneOpt())
	assert.Len(t, fake.rows, 4, "the GPU stays off for the run")
	rep := r.Report()[0]
	assert.Equal(t, "cpu", rep.Backend)
	assert.Equal(t, 3, rep.Retries)
	assert.Equal(t, 2, rep.ChunksCPU)
}

func TestRunnerOOMOnceShrinksTheChunksAndStaysOnTheGPU(t *testing.T) {
	b := newBand(4, 16, 40)
	var rec recorder
	fake := newFake(hardware())
	fake.fail = failAt(1, gpu.ErrOutOfMemory)
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
	assert.Equal(t, []int{40, 20, 20}, fake.rows)
	assert.Equal(t, 20, rec.one(t, "gpu_oom_backoff").Params["rows"])
	assert.Empty(t, rec.find("gpu_forced_fallback"))
	assert.Equal(t, int64(20*(4*16*4+16*16)), r.Budget(), "the budget stays halved")
	assert.Equal(t, "gpu", r.Report()[0].Backend)
}

func TestRunnerRuntimeErrorRunsTheKernelOnTheCPU(t *testing.T) {
	for _, sentinel := range []error{gpu.ErrCompile, gpu.ErrUnsupported, fmt.Errorf("validation: binding size")} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			b := newBand(4, 16, 40)
			var rec recorder
			fake := newFake(hardware())
			fake.fail = func(int, int) error { return fmt.Errorf("fake: pipeline stack_none: %w", sentinel) }
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
			r.budget = 10 * (4*16*4 + 16*16)
			requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
			e := rec.one(t, "gpu_fallback_runtime_error")
			assert.Equal(t, Warn, e.Level)
			assert.Contains(t, e.Params["error"], sentinel.Error())
			b.run(t, r, noneOpt())
			assert.Equal(t, 1, fake.calls, "the failing kernel is not tried again")
			// Another kernel may still use the GPU.
			fake.fail = nil
			requireSame(t, b.cpu(t, cpu.DefaultStackOptions()), b.run(t, r, cpu.DefaultStackOptions()))
			assert.Equal(t, 5, fake.calls)
		})
	}
}

func TestRunnerDeviceLostKeepsFinishedChunksAndRunsTheRestOnTheCPU(t *testing.T) {
	b := newBand(4, 16, 40)
	want := b.cpu(t, noneOpt())
	var rec recorder
	fake := newFake(hardware())
	fake.fail = lostAt(2)
	fake.mark = 1 << 20 // rows the fake did carry the mark; rows the CPU did do not
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	r.budget = 10 * (4*16*4 + 16*16) // 4 chunks of 10 rows
	got := b.run(t, r, noneOpt())
	for j := range got.kept {
		if j < 10*16 {
			require.Equal(t, want.kept[j]+fake.mark, got.kept[j], "chunk 1 kept from the GPU, not recomputed (pixel %d)", j)
			got.kept[j] -= fake.mark
		} else {
			require.Equal(t, want.kept[j], got.kept[j], "pixel %d from the CPU", j)
		}
	}
	requireSame(t, want, got)
	assert.Equal(t, []int{10, 10}, fake.rows)
	e := rec.one(t, "gpu_device_lost")
	assert.Equal(t, Warn, e.Level)
	assert.Equal(t, 2, e.Params["chunk"])
	assert.Contains(t, e.Params["error"], "device lost")
	f := rec.one(t, "gpu_forced_fallback")
	assert.Equal(t, Warn, f.Level)
	assert.Equal(t, "stack", f.Params["operation"])
	assert.Equal(t, "reason_device_lost", f.Params["reason_key"])

	b.run(t, r, noneOpt())
	assert.Equal(t, 2, fake.calls, "a lost device is never called again")
	assert.Equal(t, 1, r.ForcedFallbacks())
	rep := r.Report()[0]
	assert.Equal(t, "gpu+cpu", rep.Backend)
	assert.Equal(t, 1, rep.ChunksGPU)
	assert.Equal(t, 2, rep.ChunksCPU)
	require.Len(t, rep.Fallbacks, 1)
	assert.Equal(t, Fallback{Key: "gpu_device_lost", Reason: rep.Fallbacks[0].Reason, Call: 1, Chunk: 2, Forced: true}, rep.Fallbacks[0])
	assert.Contains(t, r.Summary().GPUOff, "device lost")
}

func TestRunnerStopsBetweenChunksWhenCancelled(t *testing.T) {
	b := newBand(3, 8, 10)
	fake := newFake(hardware())
	ctx, cancel := context.WithCancel(t.Context())
	fake.fail = func(call, _ int) error {
		cancel()
		return nil
	}
	r := NewRunnerWith(ctx, Options{Backend: BackendAuto}, nil, fake.opener())
	r.budget = 2 * (3*8*4 + 8*16)
	_, err := r.StackBand(ctx, make([]float32, 80), nil, b.src, b.norm, b.weights, 8, noneOpt())
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, fake.calls)
}

func TestRunnerRejectsBadArguments(t *testing.T) {
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, nil)
	_, err := r.StackBand(t.Context(), make([]float32, 10), nil, [][]float32{make([]float32, 9)}, nil, nil, 5, noneOpt())
	require.ErrorIs(t, err, cpu.ErrShape)
	bad := noneOpt()
	bad.Iterations = 0
	_, err = r.StackBand(t.Context(), make([]float32, 10), nil, nil, nil, nil, 5, bad)
	require.ErrorIs(t, err, cpu.ErrInvalidOptions)
}

func medianOpt() cpu.StackOptions {
	o := noneOpt()
	o.Combine = cpu.CombineMedian
	return o
}

func TestRunnerDoesNotReleaseADeviceLostInAReadbackTimeout(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		released bool
	}{
		{"submit failure", gpu.ErrDeviceLost, true},
		{"readback timeout", fmt.Errorf("%w: %w", gpu.ErrDeviceLost, context.DeadlineExceeded), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBand(3, 8, 4)
			fake := newFake(hardware())
			fake.fail = failAt(1, tc.err)
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, nil, fake.opener())
			requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
			require.NoError(t, r.Close())
			assert.Equal(t, tc.released, fake.closed)
		})
	}
}

func linearOpt() cpu.StackOptions {
	o := cpu.DefaultStackOptions()
	o.Reject = cpu.RejectLinear
	return o
}
