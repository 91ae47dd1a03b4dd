package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// MosaicResult is a finished mosaic. From MosaicTo, Image has its size and header but no
// pixels (they went to the sink), and Coverage and Alpha are nil.
type MosaicResult struct {
	Image    *fits.Image   // CHW float32; NaN where no input has data; Header carries the output WCS
	Coverage []float32     // Σ per-pixel weights of the values used, CHW like Image (0 where no data)
	Alpha    []uint8       // 255 where every channel has data
	WCS      *wcs.WCS      // the output grid
	Frames   []FrameInfo   // every input, skipped ones with Error set
	Plan     MosaicPlan    // how the budget was used
	Phases   []PhaseTiming // scan, grid, assemble
	Used     int           // inputs that went into the mosaic
	// Compute is what the Runner did (reprojection backends, chunks, fallbacks).
	Compute compute.Summary
	// Corrections are the photometric corrections (corrected = Gain·x + Offset) applied to the
	// used inputs, in input order; nil when Match is none or nothing could be matched.
	Corrections []cpu.Affine
	// InputWeights are the per-input weights (MosaicOptions.InputWeights) of the used inputs,
	// in input order.
	InputWeights []float32
}

// mosaicInput is one usable input: its reader, WCS and bounding box on the output grid.
type mosaicInput struct {
	r      *frameReader
	w      *wcs.WCS
	scale  float64      // arcsec/px at the centre
	fp     [][2]float64 // sky footprint
	x0, x1 int          // output columns [x0, x1) that may receive data
	y0, y1 int          // output rows [y0, y1)
	corr   cpu.Affine   // photometric correction (Gain 0 until set: see correction)
	weight float32      // per-input weight (MosaicOptions.InputWeights)
	flux   float32      // flux scale to the output grid's pixel area (mosaic_flux.go); 1 = none
	rows   *rowProfile  // input rows per lattice row of the box (window); nil for an empty box
	// hasAlpha: the file has an ALPHA extension (fits.File.Images[alphaIdx]), read with the
	// same windows as the pixels and used as a per-pixel weight (applyAlpha).
	hasAlpha bool
	alphaIdx int
}

// correction is what in's raw values are mapped by before blending: its flux scale (1 when
// none) composed with its photometric correction (Identity when none was solved).
func (in *mosaicInput) correction() cpu.Affine {
	if in.flux == 1 {
		if in.corr == (cpu.Affine{}) {
			return cpu.Identity
		}
		return in.corr
	}
	return scaledCorrection(in.corr, in.flux)
}

// Mosaic reprojects plate-solved inputs onto one output grid (the optimal grid of their
// footprints, or opt.GridFrom) and coadds them (opt.Combine) with edge feathering, band by band
// within opt.MemBudget, and returns the whole mosaic in memory. The inputs are only read; per
// band only the rows of each input that the band needs are read. Results do not depend on the
// band height: every output pixel sees the same inputs in the same order with the same weights,
// and the same interpolated coordinates (the input windows are passed as
// cpu.ReprojectOptions.SrcRow0, never by shifting the grid). It stops between bands when ctx is cancelled. It opens a Runner from opt.Compute for the run
// and closes it; MosaicWith takes the caller's, MosaicTo streams the bands to a sink instead.
func Mosaic(ctx context.Context, srcs []FrameSource, opt MosaicOptions, hooks Hooks) (*MosaicResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	runner := compute.NewRunner(ctx, opt.Compute, hooks.Events)
	res, err := MosaicWith(ctx, runner, srcs, opt, hooks)
	_ = runner.Close() // only releases the device; the results are already in res
	if res != nil {
		res.Compute = runner.Summary()
	}
	return res, err
}

// MosaicWith is Mosaic with the caller's Runner, which it leaves open (as StackWith). The
// result holds the whole image, its coverage and ALPHA.
func MosaicWith(ctx context.Context, runner *compute.Runner, srcs []FrameSource, opt MosaicOptions, hooks Hooks) (*MosaicResult, error) {
	sink := &memorySink{}
	res, err := MosaicTo(ctx, runner, srcs, opt, hooks, sink)
	if err != nil {
		return res, err
	}
	res.Image, res.Coverage, res.Alpha = sink.img, sink.coverage, sink.alpha
	return res, nil
}

// MosaicTo is MosaicWith that hands every finished row band to sink (top to bottom) instead of
// keeping the image: memory then stays within opt.MemBudget whatever the mosaic size (the plan
// counts only what sink.HeldBytes says it keeps). The result's Image has the size and header
// but no pixels, and Coverage and Alpha are nil. Reprojection runs through runner (GPU when it
// has one); the coadd itself stays on the CPU in float64. On error the sink may have received
// some bands: a file sink is then aborted by the caller.
func MosaicTo(ctx context.Context, runner *compute.Runner, srcs []FrameSource, opt MosaicOptions, hooks Hooks, sink MosaicSink) (*MosaicResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if runner == nil {
		return nil, errors.New("pipeline: MosaicTo needs a Runner (Mosaic opens one)")
	}
	if sink == nil {
		return nil, errors.New("pipeline: MosaicTo needs a sink")
	}
	if len(srcs) == 0 {
		return nil, errors.New("pipeline: no input frames")
	}
	res := &MosaicResult{}
	t0 := time.Now()
	inputs, err := scanMosaicInputs(srcs, opt, hooks, res)
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, PhaseTiming{"scan", "cpu", time.Since(t0).Seconds()})

	weights, err := inputWeights(inputs, opt.InputWeights)
	if err != nil {
		return nil, err
	}
	for i, in := range inputs {
		in.weight = weights[i]
	}
	res.InputWeights = weights

	t0 = time.Now()
	grid, w, h := opt.GridFrom, opt.GridWidth, opt.GridHeight
	if grid == nil {
		fps := make([][][2]float64, len(inputs))
		scales := make([]float64, len(inputs))
		for i, in := range inputs {
			fps[i], scales[i] = in.fp, in.scale
		}
		g := sky.DefaultGridOptions()
		g.Projection, g.PixelScaleArcsec, g.NorthUp = opt.Projection, opt.PixelScaleArcsec, opt.NorthUp
		if grid, w, h, err = sky.OptimalGrid(fps, scales, g); err != nil {
			return nil, fmt.Errorf("pipeline: mosaic grid: %w", err)
		}
	}
	nc := inputs[0].r.meta.Channels
	shape := MosaicShape{Width: w, Height: h, Channels: nc, Workers: opt.workers(), Layered: opt.Combine != CombineMean}
	for _, in := range inputs {
		shape.MaxInputPixels = max(shape.MaxInputPixels, int64(in.r.meta.Width)*int64(in.r.meta.Height))
		in.x0, in.x1, in.y0, in.y1 = outputBox(in, grid, w, h)
		shape.Boxes = append(shape.Boxes, image.Rect(in.x0, in.y0, in.x1, in.y1))
		shape.Alpha = shape.Alpha || in.hasAlpha
	}
	profileInputs(inputs, grid, opt.workers())
	windows := map[int]int64{} // PlanMosaic asks for the same heights several times
	shape.WindowPixels = func(rows int) int64 {
		if n, ok := windows[rows]; ok {
			return n
		}
		windows[rows] = maxWindowPixels(inputs, h, rows, opt.Feather)
		return windows[rows]
	}
	shape.SinkBytes = sink.HeldBytes(w, h, nc)
	if f, ok := sink.(finishingSink); ok {
		shape.FinishBytes = f.FinishBytes(w, h, nc)
	}
	sx, _ := grid.PixelScale(float64(w)/2, float64(h)/2)
	hooks.Events.Emit(compute.Info, "mosaic_grid", map[string]any{
		"width": w, "height": h, "scale": sx, "projection": grid.Projection,
	})
	shape.ForceRows = opt.bandRows
	plan, err := PlanMosaic(shape, opt.MemBudget)
	if err != nil {
		return nil, err
	}
	res.Plan, res.WCS, res.Used = plan, grid, len(inputs)
	hooks.Events.Emit(compute.Info, "mosaic_memory_plan", map[string]any{
		"budget_mb": mib(opt.MemBudget), "estimated_mb": mib(plan.PeakBytes), "rows": plan.BandRows, "bands": plan.Bands, "slots": plan.Slots,
	})
	res.Phases = append(res.Phases, PhaseTiming{"grid", "cpu", time.Since(t0).Seconds()})

	setFluxScales(inputs, grid, res)
	if opt.Match != MatchNone {
		t0 = time.Now()
		if res.Corrections, err = matchInputs(inputs, grid, w, h, opt, hooks); err != nil {
			return nil, err
		}
		for i, c := range res.Corrections {
			inputs[i].corr = c
			res.Corrections[i] = inputs[i].correction()
		}
		res.Phases = append(res.Phases, PhaseTiming{"match", "cpu", time.Since(t0).Seconds()})
	}

	t0 = time.Now()
	hdr := mosaicHeader(inputs, grid, opt, res.Corrections != nil)
	res.Image = &fits.Image{Width: w, Height: h, Channels: nc, Header: hdr}
	if err := sink.Begin(w, h, nc, hdr); err != nil {
		return nil, err
	}
	a := &assembler{ctx: ctx, runner: runner, inputs: inputs, grid: grid, w: w, h: h, nc: nc, opt: opt, plan: plan, hooks: hooks}
	err = a.run(sink)
	res.Compute = runner.Summary()
	if err != nil {
		return nil, err
	}
	res.Phases = append(res.Phases, PhaseTiming{"assemble", opBackend(res.Compute, "reproject"), time.Since(t0).Seconds()})
	hooks.Events.Emit(compute.Info, "mosaic_done", map[string]any{
		"frames": len(inputs), "width": w, "height": h, "seconds": totalSeconds(res.Phases),
	})
	return res, nil
}

// scanMosaicInputs opens every input once for its header and WCS. Inputs that cannot be read,
// have no valid WCS or another channel count fail the run with every reason listed, or are
// skipped with opt.SkipBad.
func scanMosaicInputs(srcs []FrameSource, opt MosaicOptions, hooks Hooks, res *MosaicResult) ([]*mosaicInput, error) {
	var inputs []*mosaicInput
	var bad []error
	for i, src := range srcs {
		info := FrameInfo{File: src.Name()}
		r := &frameReader{src: src, sel: opt.HDU, info: i}
		in := &mosaicInput{r: r, flux: 1}
		err := r.open()
		if err == nil {
			hd := r.hdu
			info.Width, info.Height, info.Channels, info.Bitpix = hd.Width, hd.Height, hd.Channels, hd.Bitpix
			info.Warnings = r.f.Warnings
			in.w, err = wcs.FromHeader(hd.Header)
			if err == nil {
				err = in.w.Validate(hd.Width, hd.Height, wcs.DefaultValidateOptions())
			}
			if err == nil && len(inputs) > 0 && hd.Channels != inputs[0].r.meta.Channels {
				err = fmt.Errorf("%d channels, %s has %d", hd.Channels, inputs[0].r.src.Name(), inputs[0].r.meta.Channels)
			}
			if err == nil {
				in.alphaIdx, in.hasAlpha, err = alphaHDU(r.f, hd)
			}
			if err == nil {
				sx, sy := in.w.PixelScale(float64(hd.Width-1)/2, float64(hd.Height-1)/2)
				in.scale = math.Sqrt(sx * sy)
				in.fp = in.w.Footprint(hd.Width, hd.Height, 16)
				if !(in.scale > 0) || len(in.fp) < 3 {
					err = errors.New("no usable footprint or pixel scale")
				}
			}
		}
		if err != nil {
			info.Error = err.Error()
			bad = append(bad, fmt.Errorf("pipeline: %s: %w", src.Name(), err))
			hooks.Events.Emit(compute.Warn, "mosaic_frame_skipped", map[string]any{"file": src.Name(), "reason": err.Error()})
			r.close()
		} else {
			r.meta = r.hdu
			r.close()
			inputs = append(inputs, in)
		}
		res.Frames = append(res.Frames, info)
		hooks.progress("scan", i+1, len(srcs))
	}
	if len(bad) > 0 && !opt.SkipBad {
		return nil, errors.Join(bad...)
	}
	if len(inputs) == 0 {
		return nil, errors.New("pipeline: no input with a usable WCS to mosaic")
	}
	return inputs, nil
}

// outputBox is the part of the w×h output that in may cover: the bounding box of its sky
// footprint on the output grid, widened by 2 px for the interpolation of the edges and the
// curvature between footprint samples, and clipped to the grid. An empty box has x0 >= x1.
func outputBox(in *mosaicInput, grid *wcs.WCS, w, h int) (x0, x1, y0, y1 int) {
	fx0, fy0, fx1, fy1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range in.fp {
		x, y, err := grid.WorldToPixel(p[0], p[1])
		if err != nil || math.IsNaN(x) || math.IsNaN(y) {
			// A corner the output projection cannot show: assume the whole grid.
			return 0, w, 0, h
		}
		fx0, fx1, fy0, fy1 = min(fx0, x), max(fx1, x), min(fy0, y), max(fy1, y)
	}
	clip := func(v float64, n int) int { return int(min(max(v, 0), float64(n))) }
	return clip(math.Floor(fx0)-2, w), clip(math.Ceil(fx1)+3, w), clip(math.Floor(fy0)-2, h), clip(math.Ceil(fy1)+3, h)
}

func totalSeconds(p []PhaseTiming) float64 {
	var s float64
	for _, t := range p {
		s += t.Seconds
	}
	return s
}
