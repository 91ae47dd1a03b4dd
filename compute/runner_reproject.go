package compute

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// reprojector is a Device that also reprojects. It is optional, so that the fakes of other
// tests need not implement it: a device without it reprojects on the CPU.
type reprojector interface {
	Reproject(ctx context.Context, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error
}

// The real device reprojects.
var _ reprojector = (*gpu.Device)(nil)

// reprojectCPURows is how many rows the CPU computes between two looks at ctx.
const reprojectCPURows = 128

// Reproject computes cpu.Reproject (same arguments, same meaning) on the GPU when it is usable
// and on the CPU otherwise; the operation is reported as "reproject" and announced once by
// reproject_using_gpu or reproject_using_cpu. GPU and CPU agree within the bound that
// gpu.Device.Reproject documents (|Δ| ≤ 1.5·G·gpu.CoordTolerance + 1e-5·M); the CPU path gives
// cpu.Reproject's bits.
//
// The band is cut into chunks of rows whose GPU bytes (the source rows the chunk can read, the
// coordinate grid, the output and its readback copy) fit the budget and each buffer the
// device's buffer cap. A call whose single row does not fit runs on the CPU
// (gpu_fallback_insufficient_memory, once per shape). The fallback policy is Percentiles':
//
//   - allocation failure (gpu.ErrOutOfMemory, gpu.ErrTooLarge): the rest of this call and later
//     calls run on the CPU (gpu_fallback_insufficient_memory);
//   - device lost (gpu.ErrDeviceLost): the GPU is off for the run (gpu_device_lost);
//   - any other error: reprojection runs on the CPU for the rest of the run
//     (gpu_fallback_runtime_error).
//
// Chunks finished on the GPU are kept and the rest of the band is computed on the CPU, so the
// caller always gets the whole band; results do not depend on the chunking (the kernel is per
// pixel).
//
// Concurrency: GPU chunks run one at a time under the Runner's lock, like every device call;
// the CPU path holds the lock only for bookkeeping, so concurrent callers reproject in
// parallel (each with opt.Workers goroutines). The report's Seconds sums the calls' durations.
//
// src may be a window of the input's rows (opt.SrcRow0, see cpu.ReprojectOptions): both
// backends then read it as part of the whole image, and the chunks' GPU bytes count only the
// window's rows. A window missing a row that a pixel needs is an error wrapping cpu.ErrShape
// (on the GPU path, the device's error moves the rest of the run to the CPU, which reports it
// or computes the band if only the GPU's float32 coordinates reached the extra row).
//
// Errors are returned for invalid arguments (wrapping cpu.ErrShape or cpu.ErrInvalidOptions,
// checked as cpu.Reproject checks them) and a cancelled ctx (checked between chunks and every
// 128 CPU rows; dst is then partly written).
func (r *Runner) Reproject(ctx context.Context, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error {
	if err := cpu.CheckReproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt); err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	start := time.Now()
	a := reprojectArgs{dst: dst, outWidth: outWidth, y0: y0, rows: rows, src: src, srcWidth: srcWidth, srcHeight: srcHeight, grid: grid, opt: opt}
	done, err := r.reprojectGPU(ctx, a)
	if err == nil && done < rows {
		t0 := time.Now()
		err = reprojectCPU(ctx, a, done)
		r.mu.Lock()
		o := r.op("reproject")
		o.CPUSeconds += time.Since(t0).Seconds()
		o.ChunksCPU++
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.op("reproject").Seconds += time.Since(start).Seconds()
	r.mu.Unlock()
	return err
}

// reprojectArgs holds Reproject's arguments.
type reprojectArgs struct {
	dst                 []float32
	outWidth, y0, rows  int
	src                 []float32
	srcWidth, srcHeight int
	grid                *cpu.CoordGrid
	opt                 cpu.ReprojectOptions
}

// reprojectGPU does the call's bookkeeping and its GPU chunks under the lock. It returns how
// many rows of the band are done; the caller computes the rest on the CPU, without the lock.
func (r *Runner) reprojectGPU(ctx context.Context, a reprojectArgs) (done int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op("reproject")
	o.Calls++
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("compute: reproject: %w", err)
	}
	dev, chunks, why := r.reprojectPlan(o, a)
	if why.text != "" {
		r.announce(o, "reproject_using_cpu", why.into(map[string]any{"workers": reprojectWorkers(a.opt)}))
		return 0, nil
	}
	r.announce(o, "reproject_using_gpu", map[string]any{"adapter": r.info.Name})
	for k, n := range chunks {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("compute: reproject stopped at row %d of %d: %w", a.y0+done, a.y0+a.rows, err)
		}
		t0 := time.Now()
		err := dev.Reproject(ctx, a.dst[done*a.outWidth:(done+n)*a.outWidth], a.outWidth, a.y0+done, n, a.src, a.srcWidth, a.srcHeight, a.grid, a.opt)
		o.GPUSeconds += time.Since(t0).Seconds()
		if err == nil {
			o.ChunksGPU++
			done += n
			continue
		}
		if ctx.Err() != nil {
			return done, fmt.Errorf("compute: reproject chunk %d: %w", k+1, err)
		}
		r.reprojectFailed(o, k+1, a, n, err)
		return done, nil
	}
	return done, nil
}

// reprojectPlan returns the device and the rows of each GPU chunk, or why the call runs on the
// CPU.
func (r *Runner) reprojectPlan(o *OpReport, a reprojectArgs) (reprojector, []int, reason) {
	switch {
	case r.dev == nil || r.off.text != "":
		// The event was emitted when the GPU went off; this operation's report still needs it.
		if len(o.Fallbacks) == 0 {
			r.recordOnly(o, r.offKey, r.off)
		}
		return nil, nil, r.off
	case r.disabled["reproject"].text != "":
		return nil, nil, r.disabled["reproject"]
	}
	dev, ok := r.dev.(reprojector)
	if !ok {
		why := reasonNoReprojectKernel(r.info.Name)
		r.disabled["reproject"] = why
		// Said by reproject_using_cpu, which the first call announces.
		r.recordOnly(o, "reproject_using_cpu", why)
		return nil, nil, why
	}
	if a.rows == 0 {
		return dev, nil, reason{}
	}
	chunks, rowBytes := planReproject(a, r.budget, r.bufCap)
	if chunks == nil {
		why := reasonReprojectOverBudget(a.outWidth, a.srcWidth, a.srcHeight, rowBytes, r.budget, r.bufCap)
		if r.emitOnceQuiet(fmt.Sprintf("insufficient:reproject:%d:%d:%d", a.outWidth, a.srcWidth, a.srcHeight)) {
			r.fallback(o, "gpu_fallback_insufficient_memory", why, 0, why.into(map[string]any{
				"estimated_mb": mib(rowBytes), "allowed_mb": mib(min(r.budget, r.bufCap)),
			}))
		}
		return nil, nil, why
	}
	o.RowsPerChunk = max(o.RowsPerChunk, chunks[0])
	return dev, chunks, reason{}
}

// reprojectFailed classifies a GPU failure of chunk (1-based) of n rows and records the
// fallback, as wholeFailed does for Percentiles.
func (r *Runner) reprojectFailed(o *OpReport, chunk int, a reprojectArgs, n int, err error) {
	switch {
	case errors.Is(err, gpu.ErrOutOfMemory) || errors.Is(err, gpu.ErrTooLarge):
		bytes := reprojectBytes(a, a.y0, n)
		why := reasonOpAllocationFailed("reproject", bytes, err)
		r.disabled["reproject"] = why
		r.fallback(o, "gpu_fallback_insufficient_memory", why, chunk, why.into(map[string]any{
			"estimated_mb": mib(bytes), "allowed_mb": mib(r.budget),
		}))
	case errors.Is(err, gpu.ErrDeviceLost):
		r.off, r.offKey = reasonDeviceLost(err), "gpu_device_lost"
		// See StackBand: a device lost in a readback timeout must not be released.
		r.keepLost = errors.Is(err, context.DeadlineExceeded)
		r.fallback(o, "gpu_device_lost", r.off, chunk, map[string]any{"error": err.Error(), "chunk": chunk})
	default:
		r.disabled["reproject"] = reasonGPUError(err)
		r.fallback(o, "gpu_fallback_runtime_error", reasonGPUError(err), chunk, map[string]any{"error": err.Error()})
	}
}

// reprojectCPU computes band rows [from, rows) with cpu.Reproject, reprojectCPURows at a time
// so that a cancelled ctx stops it; the split does not change a bit (the kernel is per pixel).
func reprojectCPU(ctx context.Context, a reprojectArgs, from int) error {
	for r0 := from; r0 < a.rows; r0 += reprojectCPURows {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("compute: reproject stopped at row %d of %d: %w", a.y0+r0, a.y0+a.rows, err)
		}
		r1 := min(r0+reprojectCPURows, a.rows)
		if err := cpu.Reproject(a.dst[r0*a.outWidth:r1*a.outWidth], a.outWidth, a.y0+r0, r1-r0, a.src, a.srcWidth, a.srcHeight, a.grid, a.opt); err != nil {
			// Arguments were checked before; what is left is a window missing a row.
			return fmt.Errorf("compute: %w", err)
		}
	}
	return nil
}

// reprojectWorkers is the CPU thread count of one Reproject call.
func reprojectWorkers(opt cpu.ReprojectOptions) int {
	if opt.Workers > 0 {
		return opt.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// planReproject cuts the band into chunks of rows whose GPU bytes fit budget and whose
// buffers each fit bufCap, largest first from the top. It returns nil and the bytes of the
// first single row that does not fit when some row fits nowhere.
func planReproject(a reprojectArgs, budget, bufCap int64) (chunks []int, rowBytes int64) {
	fits := func(y, n int) bool {
		srcB, gridB, outB := reprojectBuffers(a, y, n)
		return srcB <= bufCap && gridB <= bufCap && outB <= bufCap && srcB+gridB+2*outB <= budget
	}
	for y, end := a.y0, a.y0+a.rows; y < end; {
		if !fits(y, 1) {
			return nil, reprojectBytes(a, y, 1)
		}
		// The bytes grow with the rows (the source window only widens), so the largest chunk
		// that fits is found by bisection.
		lo, hi := 1, end-y
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if fits(y, mid) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		chunks = append(chunks, lo)
		y += lo
	}
	return chunks, 0
}

// reprojectBytes is the GPU working set of output rows [y, y+n): source window, grid, output
// and its readback copy.
func reprojectBytes(a reprojectArgs, y, n int) int64 {
	srcB, gridB, outB := reprojectBuffers(a, y, n)
	return srcB + gridB + 2*outB
}

// reprojectBuffers estimates the buffers gpu.Device.Reproject allocates for output rows
// [y, y+n): the source rows the band can read (see reprojectWindow) that the caller's src
// holds, the grid with its ghost samples as four float32 each, and the output.
func reprojectBuffers(a reprojectArgs, y, n int) (srcB, gridB, outB int64) {
	g := a.grid
	r0, r1 := reprojectWindow(g, y, n, a.srcHeight)
	w0, w1 := a.opt.SrcRow0, a.opt.SrcRow0+len(a.src)/a.srcWidth
	r0 = min(max(r0, w0), w1-1)
	r1 = max(min(r1, w1), r0+1)
	return 4 * int64(a.srcWidth) * int64(r1-r0), 16 * int64(g.NX+2) * int64(g.NY+2), 4 * int64(a.outWidth) * int64(n)
}

// reprojectWindow estimates the source rows [r0, r1) that output rows [y0, y0+rows) can read,
// by the rule gpu.Device.Reproject documents: the rows between the smallest and largest
// finite Y sample of the grid rows At reads for the band (ghosts included), widened by half
// their range and by the kernel's 3 rows. It only sizes chunks: should the device need more,
// it says so with gpu.ErrTooLarge and the Runner falls back.
func reprojectWindow(g *cpu.CoordGrid, y0, rows, srcHeight int) (r0, r1 int) {
	ja := min(y0/g.Step, g.NY-2) - 1
	jb := min((y0+rows-1)/g.Step, g.NY-2) + 2
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := ja; j <= jb; j++ {
		for i := -1; i <= g.NX; i++ {
			if v := gridSample(g, g.Y, i, j); !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo > hi { // no finite sample: every pixel is NaN
		return 0, 1
	}
	m := 0.5 * (hi - lo)
	b0, b1 := math.Floor(lo-m)-3, math.Ceil(hi+m)+3
	if math.IsInf(b0, 0) || math.IsInf(b1, 0) || math.IsNaN(m) {
		return 0, srcHeight
	}
	r0 = int(max(min(b0, float64(srcHeight-1)), 0))
	r1 = int(max(min(b1, float64(srcHeight-1)), 0)) + 1
	return r0, max(r1, r0+1)
}

// gridSample is sample (i, j) of a, i ∈ [−1, NX], j ∈ [−1, NY], with cpu.CoordGrid's
// boundary extrapolation for the ghosts just outside the grid.
func gridSample(g *cpu.CoordGrid, a []float64, i, j int) float64 {
	ghost := func(f0, f1, f2 float64, n int) float64 {
		if n >= 3 {
			return float64(3*f0) - float64(3*f1) + f2
		}
		return float64(2*f0) - f1
	}
	switch {
	case j < 0:
		return ghost(gridSample(g, a, i, 0), gridSample(g, a, i, 1), gridSample(g, a, i, min(2, g.NY-1)), g.NY)
	case j >= g.NY:
		return ghost(gridSample(g, a, i, g.NY-1), gridSample(g, a, i, g.NY-2), gridSample(g, a, i, max(g.NY-3, 0)), g.NY)
	case i < 0:
		return ghost(a[j*g.NX], a[j*g.NX+1], a[j*g.NX+min(2, g.NX-1)], g.NX)
	case i >= g.NX:
		return ghost(a[j*g.NX+g.NX-1], a[j*g.NX+g.NX-2], a[j*g.NX+max(g.NX-3, 0)], g.NX)
	}
	return a[j*g.NX+i]
}

func reasonNoReprojectKernel(name string) reason {
	return reason{text: "the GPU device " + name + " has no reprojection kernel", key: "reason_no_reproject_kernel",
		params: map[string]any{"name": name}}
}

func reasonReprojectOverBudget(outWidth, srcWidth, srcHeight int, rowBytes, budget, bufCap int64) reason {
	return reason{
		text: fmt.Sprintf("one reprojected row (output width %d, source %d×%d) needs %.1f MiB on the GPU; budget %.1f MiB, buffer cap %.1f MiB",
			outWidth, srcWidth, srcHeight, mib(rowBytes), mib(budget), mib(bufCap)),
		key: "reason_reproject_over_budget",
		params: map[string]any{
			// Dimensions as strings: "width 4096", not "width 4,096".
			"width": fmt.Sprint(outWidth), "src_width": fmt.Sprint(srcWidth), "src_height": fmt.Sprint(srcHeight),
			"row_mb": mib(rowBytes), "budget_mb": mib(budget), "cap_mb": mib(bufCap),
		},
	}
}
