package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Hooks are where a job reports to: decisions as events, work done as progress. Both may be nil
// and may be called from several goroutines.
type Hooks struct {
	Events   compute.Sink
	Progress func(phase string, done, total int)
}

func (h Hooks) progress(phase string, done, total int) {
	if h.Progress != nil {
		h.Progress(phase, done, total)
	}
}

// FrameInfo describes one input as the run saw it.
type FrameInfo struct {
	File     string           `json:"file"`
	Width    int              `json:"width,omitempty"`
	Height   int              `json:"height,omitempty"`
	Channels int              `json:"channels,omitempty"`
	Bitpix   int              `json:"bitpix,omitempty"`
	Stats    []cpu.FrameStats `json:"stats,omitempty"`   // per channel
	Weights  []float32        `json:"weights,omitempty"` // per channel
	Norm     []cpu.Affine     `json:"norm,omitempty"`    // per channel
	Warnings []string         `json:"warnings,omitempty"`
	// With --align wcs: the frame's distance from the group's centre, which frame is the
	// alignment reference, and the flux factor when its pixel scale differs from the reference's.
	CentreOffsetArcsec float64 `json:"centre_offset_arcsec,omitempty"`
	AlignReference     bool    `json:"align_reference,omitempty"`
	FluxScale          float64 `json:"flux_scale,omitempty"`
	Error              string  `json:"error,omitempty"` // set when the frame was skipped
}

// PhaseTiming is the wall time of one phase and the backend that ran it.
type PhaseTiming struct {
	Name    string  `json:"name"`
	Backend string  `json:"backend"`
	Seconds float64 `json:"seconds"`
}

// StackResult is a finished stack.
type StackResult struct {
	Image  *fits.Image    // CHW float32; Header = reference frame's header + provenance
	Kept   []uint32       // frames kept per pixel, CHW like Image
	Stats  cpu.StackStats // rejection totals over all channels
	Frames []FrameInfo    // every input, skipped ones with Error set
	Plan   StackPlan      // how the budget was used
	Phases []PhaseTiming  // measure, combine
	Used   int            // frames stacked
	// AlignReference is the index in Frames of the frame whose grid the output takes with
	// --align wcs (the one nearest the group's centre); -1 without alignment.
	AlignReference int
	// Compute is what the Runner did: adapter, budget, per operation the backends, chunks,
	// fallbacks with reasons and timings.
	Compute compute.Summary
}

// Stack combines aligned frames of one shape with rejection, weights and normalisation, within
// opt.MemBudget. The inputs are only read. It stops between bands when ctx is cancelled. It
// opens a Runner from opt.Compute for the run and closes it; StackWith keeps one open for the
// work that follows (the preview).
func Stack(ctx context.Context, srcs []FrameSource, opt StackOptions, hooks Hooks) (*StackResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	// The Runner decides GPU or CPU and says why (stack_using_gpu or stack_using_cpu, fallbacks).
	runner := compute.NewRunner(ctx, opt.Compute, hooks.Events)
	res, err := StackWith(ctx, runner, srcs, opt, hooks)
	_ = runner.Close() // only releases the device; the results are already in res
	if res != nil {
		res.Compute = runner.Summary()
	}
	return res, err
}

// StackWith is Stack with the caller's Runner (opened from opt.Compute, or any other), which
// it leaves open: the caller closes it. res.Compute is the Runner's summary when the stack
// ends; work run afterwards on the same Runner shows in a later runner.Summary().
func StackWith(ctx context.Context, runner *compute.Runner, srcs []FrameSource, opt StackOptions, hooks Hooks) (*StackResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if runner == nil {
		return nil, errors.New("pipeline: StackWith needs a Runner (Stack opens one)")
	}
	if len(srcs) == 0 {
		return nil, errors.New("pipeline: no input frames")
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &StackResult{}
	frames, err := scanFrames(srcs, opt, hooks, res)
	if err != nil {
		return nil, err
	}
	if opt.Reference >= len(frames) {
		return nil, fmt.Errorf("pipeline: reference frame %d does not exist (%d usable frames)", opt.Reference, len(frames))
	}
	// grid is the frame whose pixel grid the output takes: its shape, and its header (WCS and
	// observation keys). Without alignment all frames share the grid and the normalisation
	// reference gives the header, as it always did.
	grid := opt.Reference
	res.AlignReference = -1
	var pool *alignPool
	if opt.Align == AlignWCS {
		if grid, pool, err = setupAlignment(frames, opt, hooks, res); err != nil {
			return nil, err
		}
		for _, f := range frames {
			if f.align != nil {
				f.align.threads = max(1, workers/len(frames))
			}
		}
	}
	first := frames[grid].meta
	w, h, nc := first.Width, first.Height, first.Channels
	bps := 0
	for _, f := range frames {
		bps = max(bps, abs(f.meta.Bitpix)/8)
	}
	plan, err := planStack(len(frames), w, h, nc, bps, workers, opt.MemBudget, alignPlanCost(frames))
	if err != nil {
		return nil, err
	}
	if pool != nil {
		pool.floats = int(plan.AlignStatsBytes / 4)
	}
	res.Plan, res.Used = plan, len(frames)
	hooks.Events.Emit(compute.Info, "stack_start", map[string]any{
		"frames": len(frames), "shape": fmt.Sprintf("%d×%d×%d", w, h, nc),
		"reject": string(opt.Reject), "combine": string(opt.Combine),
	})
	hooks.Events.Emit(compute.Info, "stack_memory_plan", map[string]any{
		"budget_mb": mib(opt.MemBudget), "estimated_mb": mib(plan.PeakBytes),
		"rows": plan.BandRows, "bands": plan.Bands * nc,
	})
	// Many frames would exhaust file descriptors: past this, each band reopens its files.
	keepOpen := len(frames) <= 256
	for i := range frames {
		frames[i].keep = keepOpen
	}
	defer func() {
		for i := range frames {
			frames[i].close()
		}
	}()

	start := time.Now()
	t0 := start
	norm, weights, err := measureFrames(ctx, frames, opt, plan, hooks, res)
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, PhaseTiming{"measure", "cpu", time.Since(t0).Seconds()})

	if pool != nil {
		// The combine's windows are larger (a whole band's rows): drop the measure's.
		pool.free, pool.floats = nil, int(plan.AlignBytes/4)
	}
	t0 = time.Now()
	img := &fits.Image{Width: w, Height: h, Channels: nc, Pix: make([]float32, w*h*nc)}
	res.Kept = make([]uint32, len(img.Pix))
	err = combineBands(ctx, runner, frames, img, res, norm, weights, opt, plan, workers, hooks)
	res.Compute = runner.Summary()
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, PhaseTiming{"combine", opBackend(res.Compute, "stack"), time.Since(t0).Seconds()})
	img.Header = stackHeader(frames[grid].meta.Header, frames, opt, res)
	res.Image = img
	hooks.Events.Emit(compute.Info, "stack_done", map[string]any{
		"frames": len(frames), "seconds": time.Since(start).Seconds(),
		"rejected_low_pct":  pct(res.Stats.RejectedLow, res.Stats.Samples),
		"rejected_high_pct": pct(res.Stats.RejectedHigh, res.Stats.Samples),
	})
	return res, nil
}

// combineBands runs the kernel over every channel and row band, reading one band of every
// frame at a time into buffers allocated once.
func combineBands(ctx context.Context, runner *compute.Runner, frames []*frameReader, img *fits.Image, res *StackResult,
	norm [][]cpu.Affine, weights [][]float32, opt StackOptions, plan StackPlan, workers int, hooks Hooks) error {
	w, h := img.Width, img.Height
	bufs := make([][]float32, len(frames))
	for i := range bufs {
		bufs[i] = make([]float32, plan.BandRows*w)
	}
	src := make([][]float32, len(frames))
	normC := make([]cpu.Affine, len(frames))
	var weightC []float32
	if weights != nil {
		weightC = make([]float32, len(frames))
	}
	total, done := plan.Bands*img.Channels, 0
	for c := 0; c < img.Channels; c++ {
		for i := range frames {
			normC[i] = cpu.Affine{Gain: 1}
			if norm != nil {
				normC[i] = norm[i][c]
			}
			if weightC != nil {
				weightC[i] = weights[i][c]
			}
		}
		plane := img.Plane(c)
		for y0 := 0; y0 < h; y0 += plan.BandRows {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("pipeline: stack stopped at band %d/%d: %w", done+1, total, err)
			}
			y1 := min(y0+plan.BandRows, h)
			n := (y1 - y0) * w
			for i := range src {
				src[i] = bufs[i][:n]
			}
			err := forEach(len(frames), workers, func(i int) error {
				return frames[i].readBand(c, y0, y1, src[i])
			})
			if err != nil {
				return err
			}
			off := y0 * w
			st, err := runner.StackBand(ctx, plane[off:off+n], res.Kept[c*w*h+off:][:n], src, normC, weightC, w, opt.StackOptions)
			if err != nil {
				return fmt.Errorf("pipeline: band %d/%d: %w", done+1, total, err)
			}
			res.Stats.RejectedLow += st.RejectedLow
			res.Stats.RejectedHigh += st.RejectedHigh
			res.Stats.Pixels += st.Pixels
			res.Stats.Samples += st.Samples
			done++
			hooks.progress("combine", done, total)
		}
	}
	return nil
}

// opBackend is the backend an operation ran on ("gpu", "cpu" or "gpu+cpu"); "cpu" when it
// never ran.
func opBackend(s compute.Summary, op string) string {
	for _, o := range s.Ops {
		if o.Op == op {
			return o.Backend
		}
	}
	return "cpu"
}

// forEach runs fn(0..n-1) on at most workers goroutines and returns the first error by index,
// so the error reported does not depend on scheduling.
func forEach(n, workers int, fn func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func pct(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
