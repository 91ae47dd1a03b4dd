package compute

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// StackBand computes cpu.StackBand (same arguments, same meaning) on the GPU when it is usable,
// cut into chunks of rows that fit the GPU budget, and on the CPU otherwise. Each chunk's
// result goes straight into its rows of dst and kept; a chunk that finished is never
// recomputed. On a GPU failure the failed chunk and the rest of the band run on the CPU:
//
//   - allocation failure (gpu.ErrOutOfMemory, gpu.ErrTooLarge): the chunk is retried with half
//     the rows, up to 3 times (gpu_oom_backoff), and the budget stays halved for later chunks;
//     then the GPU is off for the run (gpu_fallback_insufficient_memory);
//   - device lost or readback timeout (gpu.ErrDeviceLost): the GPU is off for the run
//     (gpu_device_lost);
//   - any other error (gpu.ErrCompile, gpu.ErrUnsupported, validation): this kernel runs on the
//     CPU for the rest of the run (gpu_fallback_runtime_error).
//
// Before any GPU work a band whose single row does not fit the budget, or a rejection with
// more frames than the device's MaxFrames, goes to the CPU (gpu_fallback_insufficient_memory).
// Results do not depend on the chunking: the kernels are per pixel. GPU and CPU agree within
// the tolerance the gpu package states; kept counts and StackStats agree exactly.
//
// Errors are returned only for invalid arguments and a cancelled ctx (checked between chunks).
func (r *Runner) StackBand(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions) (cpu.StackStats, error) {
	if err := opt.Validate(); err != nil {
		return cpu.StackStats{}, fmt.Errorf("compute: %w", err)
	}
	if err := cpu.CheckBand(dst, kept, src, norm, weights, width); err != nil {
		return cpu.StackStats{}, fmt.Errorf("compute: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op("stack")
	o.Calls++
	start := time.Now()
	defer func() { o.Seconds += time.Since(start).Seconds() }()

	b := band{dst: dst, kept: kept, src: src, norm: norm, weights: weights, width: width, opt: opt}
	rows := len(dst) / width
	plan, why := r.stackPlan(o, len(src), width, rows, opt)
	if why.text != "" {
		r.announce(o, "stack_using_cpu", why.into(map[string]any{"workers": workers(opt)}))
		return r.cpuRows(ctx, o, b, 0, rows)
	}
	r.announce(o, "stack_using_gpu", map[string]any{"adapter": r.info.Name})
	r.noteChunking(o, plan)

	var total cpu.StackStats
	rowsPer, retries, chunk := plan.RowsPerChunk, 0, 0
	sub := make([][]float32, len(src))
	for y0 := 0; y0 < rows; {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("compute: stack stopped at row %d of %d: %w", y0, rows, err)
		}
		y1 := min(y0+rowsPer, rows)
		if retries == 0 {
			chunk++
		}
		a, z := y0*width, y1*width
		for i, f := range src {
			sub[i] = f[a:z]
		}
		var k []uint32
		if kept != nil {
			k = kept[a:z]
		}
		t0 := time.Now()
		var st cpu.StackStats
		var err error
		if plan.FrameBlocks > 1 {
			st, err = r.dev.StackBandBlocks(ctx, dst[a:z], k, sub, norm, weights, width, opt, plan.FramesPerBlock)
		} else {
			st, err = r.dev.StackBand(ctx, dst[a:z], k, sub, norm, weights, width, opt)
		}
		o.GPUSeconds += time.Since(t0).Seconds()
		if err == nil {
			addStats(&total, st)
			o.ChunksGPU++
			y0, retries = y1, 0
			continue
		}
		if ctx.Err() != nil {
			return total, fmt.Errorf("compute: stack chunk %d: %w", chunk, err)
		}
		switch {
		case (errors.Is(err, gpu.ErrOutOfMemory) || errors.Is(err, gpu.ErrTooLarge)) && retries < maxOOMRetries && y1-y0 > 1:
			retries++
			rowsPer = (y1 - y0) / 2
			// Later chunks and bands keep the smaller size: the memory that was missing is
			// most likely still missing.
			r.budget = min(r.budget, int64(rowsPer)*plan.BytesPerRow)
			o.Retries++
			r.events.Emit(Warn, "gpu_oom_backoff", map[string]any{
				"error": err.Error(), "rows": rowsPer, "attempt": retries, "max_attempts": maxOOMRetries,
			})
			continue
		case errors.Is(err, gpu.ErrOutOfMemory) || errors.Is(err, gpu.ErrTooLarge):
			r.offKey = "gpu_fallback_insufficient_memory"
			r.off = reasonAllocationFailed(retries+1, y1-y0, err)
			r.fallback(o, "gpu_fallback_insufficient_memory", r.off, chunk, r.off.into(map[string]any{
				"estimated_mb": mib(int64(y1-y0) * plan.BytesPerRow), "allowed_mb": mib(r.budget),
			}))
		case errors.Is(err, gpu.ErrDeviceLost):
			r.off, r.offKey = reasonDeviceLost(err), "gpu_device_lost"
			// A readback that timed out leaves wgpu polling the device in the background;
			// releasing it then crashed wgpu v0.31.5 (DestroyInstance during WaitIdle), so
			// such a device is left unreleased until the process ends.
			r.keepLost = errors.Is(err, context.DeadlineExceeded)
			r.fallback(o, "gpu_device_lost", r.off, chunk, map[string]any{"error": err.Error(), "chunk": chunk})
		default:
			r.disabled[kernelKey(opt)] = reasonGPUError(err)
			r.fallback(o, "gpu_fallback_runtime_error", reasonGPUError(err), chunk, map[string]any{"error": err.Error()})
		}
		st, err = r.cpuRows(ctx, o, b, y0, rows)
		addStats(&total, st)
		return total, err
	}
	return total, nil
}

// band holds StackBand's arguments.
type band struct {
	dst     []float32
	kept    []uint32
	src     [][]float32
	norm    []cpu.Affine
	weights []float32
	width   int
	opt     cpu.StackOptions
}

// stackPlan decides whether a band may go to the GPU: it returns the chunk plan, or why the CPU
// must do the work. Decisions that depend on the band (too many frames, a row over budget)
// are reported once per kernel and shape.
func (r *Runner) stackPlan(o *OpReport, frames, width, rows int, opt cpu.StackOptions) (ChunkPlan, reason) {
	switch {
	case r.dev == nil || r.off.text != "":
		// The event was emitted when the GPU went off; the operation's report still needs it.
		if len(o.Fallbacks) == 0 {
			r.recordOnly(o, r.offKey, r.off)
		}
		return ChunkPlan{}, r.off
	case r.disabled[kernelKey(opt)].text != "":
		return ChunkPlan{}, r.disabled[kernelKey(opt)]
	}
	maxF := r.dev.MaxFrames()
	plan := PlanChunks(frames, width, rows, r.budget, r.bufCap, streams(opt, frames))
	dedup := fmt.Sprintf("insufficient:%s:%d:%d", kernelKey(opt), frames, width)
	// Every rejection and the median sort a pixel's samples in a fixed-size array; above it only
	// the streamed rules (winsor and kappa with mean, min or max) run on the GPU.
	sorting := opt.Reject != cpu.RejectNone || opt.Combine == cpu.CombineMedian
	if sorting && frames > maxF && !(streams(opt, frames) && maxF == cpu.MaxSortFrames) {
		why := reasonTooManyFrames(string(opt.Reject), string(opt.Combine), maxF, frames)
		if r.emitOnceQuiet(dedup) {
			px := int64(width) * int64(rows) * 4
			r.fallback(o, "gpu_fallback_insufficient_memory", why, 0, why.into(map[string]any{
				"estimated_mb": mib(int64(frames) * px), "allowed_mb": mib(int64(maxF) * px),
			}))
		}
		return plan, why
	}
	if !plan.Fits() {
		why := reasonRowOverBudget(frames, width, plan.BytesPerRow, r.budget, r.bufCap)
		if r.emitOnceQuiet(dedup) {
			r.fallback(o, "gpu_fallback_insufficient_memory", why, 0, why.into(map[string]any{
				"estimated_mb": mib(plan.BytesPerRow), "allowed_mb": mib(min(r.budget, r.bufCap)),
			}))
		}
		return plan, why
	}
	return plan, reason{}
}

// recordOnly adds a fallback to the report whose event was already emitted (no GPU at all: the
// event came from NewRunner), and under --backend gpu the counted warning.
func (r *Runner) recordOnly(o *OpReport, key string, why reason) {
	forced := r.opt.Backend == BackendGPU
	o.Fallbacks = append(o.Fallbacks, Fallback{Key: key, Reason: why.text, Call: o.Calls, Forced: forced})
	if forced {
		r.forced++
		r.events.Emit(Warn, "gpu_forced_fallback", why.into(map[string]any{"operation": o.Op}))
	}
}

// emitOnceQuiet marks a dedup key and reports whether it was new.
func (r *Runner) emitOnceQuiet(dedup string) bool {
	if r.once[dedup] {
		return false
	}
	r.once[dedup] = true
	return true
}

// announce says once per operation where it starts running.
func (r *Runner) announce(o *OpReport, key string, params map[string]any) {
	r.emitOnce("announce:"+o.Op, Info, key, params)
}

// noteChunking reports a band cut into several chunks, each time the chunk height changes.
func (r *Runner) noteChunking(o *OpReport, p ChunkPlan) {
	o.RowsPerChunk = p.RowsPerChunk
	if p.Chunks <= 1 || p.RowsPerChunk == r.lastRows {
		return
	}
	r.lastRows = p.RowsPerChunk
	r.events.Emit(Info, "gpu_chunking_rows", map[string]any{
		"rows": p.RowsPerChunk, "chunks": p.Chunks, "frame_blocks": p.FrameBlocks, "budget_mb": mib(p.BudgetBytes),
	})
}

// cpuRows stacks rows [y0, y1) of the band with package cpu.
func (r *Runner) cpuRows(ctx context.Context, o *OpReport, b band, y0, y1 int) (cpu.StackStats, error) {
	if y0 >= y1 {
		return cpu.StackStats{}, nil
	}
	if err := ctx.Err(); err != nil {
		return cpu.StackStats{}, fmt.Errorf("compute: stack stopped at row %d: %w", y0, err)
	}
	a, z := y0*b.width, y1*b.width
	sub := make([][]float32, len(b.src))
	for i, f := range b.src {
		sub[i] = f[a:z]
	}
	var k []uint32
	if b.kept != nil {
		k = b.kept[a:z]
	}
	t0 := time.Now()
	st := cpu.StackBand(b.dst[a:z], k, sub, b.norm, b.weights, b.width, b.opt)
	o.CPUSeconds += time.Since(t0).Seconds()
	o.ChunksCPU++
	if st.Err != nil {
		return st, fmt.Errorf("compute: %w", st.Err)
	}
	return st, nil
}

// streams reports whether the GPU kernel for opt can take the frames in blocks. Without
// rejection, mean, min and max are running sums and extremes carried in frame order. Winsor
// and kappa with more than cpu.MaxSortFrames frames follow cpu's streamed rule (bounds from an
// evenly spaced subsample, then the same running sums over every frame); the device must sort
// exactly that many samples for its rule to be the CPU's.
func streams(opt cpu.StackOptions, frames int) bool {
	if opt.Combine == cpu.CombineMedian {
		return false
	}
	switch opt.Reject {
	case cpu.RejectNone:
		return true
	case cpu.RejectWinsor, cpu.RejectKappa:
		return frames > cpu.MaxSortFrames
	}
	return false
}

// kernelKey names the GPU kernel an option set uses: a compile or unsupported error for it
// says nothing about the others.
func kernelKey(opt cpu.StackOptions) string {
	return "stack:" + string(opt.Reject) + ":" + string(opt.Combine)
}

// workers is the CPU thread count StackBand uses.
func workers(opt cpu.StackOptions) int {
	if opt.Workers > 0 {
		return opt.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func addStats(t *cpu.StackStats, s cpu.StackStats) {
	t.RejectedLow += s.RejectedLow
	t.RejectedHigh += s.RejectedHigh
	t.Pixels += s.Pixels
	t.Samples += s.Samples
}
