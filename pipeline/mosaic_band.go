package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// mosaicGridStep is the spacing, in output pixels, of the exact output → sky → input mapping;
// between samples cpu.CoordGrid interpolates it (1.6e-8 px error on an 11° field at step 16).
const mosaicGridStep = 16

// lanczosRadius is the widest kernel's reach in input rows beyond the sampled coordinate.
const lanczosRadius = 3

// reproject is the one place the mosaic's reprojections go through: the Runner, on the GPU when
// it has one and on cpu.Reproject otherwise (same arguments, same meaning).
func reproject(ctx context.Context, r *compute.Runner, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error {
	return r.Reproject(ctx, dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt)
}

// assembler builds the mosaic one row band at a time. Per band and per input that reaches it,
// it reads a window of the input's rows (those the band maps to, plus the kernel's reach plus
// the feather width), computes the feather weights on that window, reprojects the weights
// (bilinear) and every channel (opt.Interp) onto the input's box in the band (a layer), and
// combines the layers: the weighted mean accumulates them in input order (cpu.Accumulate);
// median and kappa hold every layer of the band and combine per pixel (combineLayers).
//
// Up to plan.Slots inputs are reprojected at the same time, each in its own window and layer;
// the mean still accumulates them in input order, so the result is bit-identical for any
// number of slots and any band height (see reprojectInput for the coordinates).
//
// Feathering choice: the distance to the nearest invalid input pixel is computed at input
// resolution on the window, not on the reprojected mask: it then means the same thing (input
// pixels, as --feather says) whatever the output scale, and it needs no full-frame map per
// input. The window reaches feather+2 rows beyond the rows the band samples, so the window's
// cut edges (which FeatherWeights counts as invalid) lie farther than feather from every
// sampled pixel and the weights equal those of the whole frame exactly.
type assembler struct {
	ctx      context.Context
	runner   *compute.Runner
	inputs   []*mosaicInput
	grid     *wcs.WCS
	w, h, nc int
	opt      MosaicOptions
	plan     MosaicPlan
	hooks    Hooks
	wins     []inputWindow // one per slot
	accs     []*cpu.CoaddBand
	pix, cov []float32 // the band being finished, CHW: one of bufs
	alpha    []uint8
	bufs     [2]bandBuf // finished bands (the second with plan.Overlap): one computed, one at the sink
	layers   []layer    // mean: one per slot; median/kappa: one per input
}

// inputWindow holds rows [y0, y1) of one input, every channel, and their feather weights;
// its buffers are reused from one input to the next.
type inputWindow struct {
	pix    []float32 // CHW, (y1-y0) rows
	weight []float32
	mask   []bool
	alpha  []float32 // the ALPHA rows as weight factors (applyAlpha); unused without ALPHA
}

// layer is one input reprojected onto its box in a band: rows [ry0, ry0+rows), columns
// [x0, x0+bw) of the output; val is CHW (NaN where the input has no data), wt the feather
// weights. ok is false when the input brings nothing to the band.
type layer struct {
	in           *mosaicInput
	ok           bool
	x0, bw       int
	ry0, rows    int
	val, wt      []float32
	valBuf, wBuf []float32
}

func (a *assembler) run(sink MosaicSink) error {
	p := a.plan
	n := p.BandRows * a.w
	nbuf := 1
	if p.Overlap {
		nbuf = 2
	}
	for i := range nbuf {
		a.bufs[i] = bandBuf{pix: make([]float32, a.nc*n), cov: make([]float32, a.nc*n), alpha: make([]uint8, n)}
	}
	a.wins = make([]inputWindow, p.Slots)
	layered := a.opt.Combine != CombineMean
	if layered {
		a.layers = make([]layer, len(a.inputs))
	} else {
		a.layers = make([]layer, p.Slots)
		a.accs = make([]*cpu.CoaddBand, a.nc)
		for c := range a.accs {
			a.accs[c] = cpu.NewCoaddBand(n)
		}
	}
	// With plan.Overlap the sink takes band k (writing, preview) while band k+1 is computed
	// into the other buffer; one band at a time goes to the sink, in order. Every return waits
	// for it, so the sink is never in use when run returns.
	var pending chan error
	done := 0
	wait := func() error {
		if pending == nil {
			return nil
		}
		err := <-pending
		pending = nil
		if err == nil {
			done++
			a.hooks.progress("assemble", done, p.Bands)
		}
		return err
	}
	stop := func(err error) error { // err, and the sink's error if it had one too
		if serr := wait(); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	band := 0
	for by0 := 0; by0 < a.h; by0 += p.BandRows {
		if err := a.ctx.Err(); err != nil {
			return stop(fmt.Errorf("pipeline: mosaic stopped at band %d/%d: %w", band+1, p.Bands, err))
		}
		by1 := min(by0+p.BandRows, a.h)
		b := a.bufs[band%nbuf]
		a.pix, a.cov, a.alpha = b.pix, b.cov, b.alpha
		var err error
		if layered {
			if err = a.layeredBand(by0, by1); err == nil {
				m := (by1 - by0) * a.w
				err = a.forRows(by1-by0, func(r0, r1 int) error {
					bandAlpha(a.alpha[:m], a.pix[:a.nc*m], a.nc, r0*a.w, r1*a.w)
					return nil
				})
			}
		} else {
			err = a.meanBand(by0, by1)
		}
		if err != nil {
			return stop(fmt.Errorf("pipeline: mosaic band %d/%d: %w", band+1, p.Bands, err))
		}
		if err := wait(); err != nil {
			return err
		}
		rows := by1 - by0
		m := rows * a.w
		pix, cov, alpha := a.pix[:a.nc*m], a.cov[:a.nc*m], a.alpha[:m]
		ch := make(chan error, 1)
		go func() { ch <- sink.Band(by0, rows, pix, cov, alpha) }()
		pending = ch
		band++
		if nbuf == 1 {
			if err := wait(); err != nil {
				return err
			}
		}
	}
	return wait()
}

// bandBuf is one finished band: values and coverage (CHW) and alpha.
type bandBuf struct {
	pix, cov []float32
	alpha    []uint8
}

// bandInputs are the inputs whose box meets rows [by0, by1), in input order.
func (a *assembler) bandInputs(by0, by1 int) []*mosaicInput {
	var out []*mosaicInput
	for _, in := range a.inputs {
		if max(by0, in.y0) < min(by1, in.y1) && in.x0 < in.x1 {
			out = append(out, in)
		}
	}
	return out
}

// meanBand accumulates the band's inputs in input order, reprojecting up to plan.Slots of them
// at a time, and finishes the weighted mean into a.pix, a.cov and a.alpha. Clearing,
// accumulating and finishing are split by rows across goroutines (forRows): every pixel still
// adds its inputs in input order, so the bits do not depend on the split.
func (a *assembler) meanBand(by0, by1 int) error {
	rows := by1 - by0
	m := rows * a.w
	ins := a.bandInputs(by0, by1)
	slots := len(a.layers)
	for k := 0; k == 0 || k < len(ins); k += slots {
		batch := ins[k:min(k+slots, len(ins))]
		if len(batch) > 0 {
			if err := a.reprojectAll(batch, a.layers[:len(batch)], by0, by1); err != nil {
				return err
			}
		}
		first, last := k == 0, k+slots >= len(ins)
		err := a.forRows(rows, func(r0, r1 int) error {
			lo, hi := r0*a.w, r1*a.w
			if first {
				for _, acc := range a.accs {
					clear(acc.Sum[lo:hi])
					clear(acc.Weight[lo:hi])
				}
			}
			for i := range batch {
				if err := a.accumulate(&a.layers[i], by0, r0, r1); err != nil {
					return err
				}
			}
			if !last {
				return nil
			}
			for c := range a.nc {
				acc := &cpu.CoaddBand{Sum: a.accs[c].Sum[lo:hi], Weight: a.accs[c].Weight[lo:hi]}
				if err := cpu.Finish(a.pix[c*m+lo:c*m+hi], a.cov[c*m+lo:c*m+hi], nil, acc); err != nil {
					return err
				}
			}
			bandAlpha(a.alpha[:m], a.pix[:a.nc*m], a.nc, lo, hi)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// bandRowChunk is how many band rows forRows hands out at once: enough to amortise the
// hand-out, few enough that uneven layers still spread over the goroutines.
const bandRowChunk = 16

// forRows calls fn on consecutive ranges [r0, r1) that cover [0, rows), from up to
// opt.workers() goroutines, and returns the error of the lowest range that failed.
func (a *assembler) forRows(rows int, fn func(r0, r1 int) error) error {
	n := (rows + bandRowChunk - 1) / bandRowChunk
	workers := min(a.opt.workers(), n)
	if workers <= 1 {
		return fn(0, rows)
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				errs[i] = fn(i*bandRowChunk, min((i+1)*bandRowChunk, rows))
			}
		})
	}
	wg.Wait()
	return firstError(errs)
}

// firstError is the first non-nil error of errs, nil when none.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// reprojectAll reprojects ins into layers, up to plan.Slots at a time, each slot with its
// window; the first error by input order is returned.
func (a *assembler) reprojectAll(ins []*mosaicInput, layers []layer, by0, by1 int) error {
	slots := min(len(a.wins), len(ins))
	ro := cpu.ReprojectOptions{Interp: a.opt.Interp, Workers: max(1, a.opt.workers()/max(1, slots))}
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for s := range slots {
		wg.Go(func() {
			for i := s; i < len(ins); i += slots {
				errs[i] = a.reprojectInput(ins[i], &a.wins[s], &layers[i], by0, by1, ro)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// accumulate adds rows [r0, r1) of the band starting at output row by0 of a layer to the
// band accumulators (the layer's rows outside them are left to other calls).
func (a *assembler) accumulate(l *layer, by0, r0, r1 int) error {
	if !l.ok {
		return nil
	}
	top := l.ry0 - by0 // the layer's first row in the band
	lo, hi := max(r0, top), min(r1, top+l.rows)
	if lo >= hi {
		return nil
	}
	corr := l.in.correction()
	for c := range a.nc {
		for br := lo; br < hi; br++ {
			r := br - top
			off := br*a.w + l.x0
			acc := &cpu.CoaddBand{Sum: a.accs[c].Sum[off : off+l.bw], Weight: a.accs[c].Weight[off : off+l.bw]}
			v := l.val[(c*l.rows+r)*l.bw : (c*l.rows+r+1)*l.bw]
			if err := cpu.Accumulate(acc, v, l.wt[r*l.bw:(r+1)*l.bw], l.in.weight, corr); err != nil {
				return fmt.Errorf("pipeline: %s: %w", l.in.r.src.Name(), err)
			}
		}
	}
	return nil
}

// reprojectInput reprojects output rows [max(by0, in.y0), min(by1, in.y1)), columns
// [in.x0, in.x1) of input in into l, reading its rows into win.
func (a *assembler) reprojectInput(in *mosaicInput, win *inputWindow, l *layer, by0, by1 int, ro cpu.ReprojectOptions) error {
	ry0, ry1 := max(by0, in.y0), min(by1, in.y1)
	bx0, bw, rows := in.x0, in.x1-in.x0, ry1-ry0
	*l = layer{in: in, x0: bx0, bw: bw, ry0: ry0, rows: rows, valBuf: l.valBuf, wBuf: l.wBuf}
	// The input rows that the band's coordinate grid (below) maps to, from the input's row
	// profile: the same samples as the grid's, so the same window, and the one the plan counted.
	wy0, wy1, ok := in.window(ry0, ry1, a.opt.Feather)
	if !ok {
		return nil // the band's part of the box maps outside the input
	}
	// The coordinate grid's samples sit on one lattice for the whole input (columns from bx0,
	// rows on multiples of the step) and reach a sample beyond the band on both sides, so each
	// output pixel interpolates the same samples whatever band it falls in. The samples stay
	// in the whole input's rows: the window is passed as rows [wy0, wy1) of the input
	// (ReprojectOptions.SrcRow0), so the reprojection interpolates the same coordinates and
	// only offsets its row index. Shifting the samples by wy0 instead, which depends on the
	// band, made interpolated coordinates round differently (3 of 102 M pixels of a rotated
	// 100 MP mosaic differed by one float32 ulp between 300- and 512-row bands).
	_, _, gy0, gh := gridRows(ry0, ry1)
	cg := cpu.NewCoordGrid(bw, gh, mosaicGridStep, func(x, y float64) (float64, float64, bool) {
		ra, dec, err := a.grid.PixelToWorld(float64(bx0)+x, float64(gy0)+y)
		if err != nil {
			return 0, 0, false
		}
		ix, iy, err := in.w.WorldToPixel(ra, dec)
		return ix, iy, err == nil && !math.IsNaN(ix) && !math.IsNaN(iy)
	})
	iw, wh := in.r.meta.Width, wy1-wy0
	np := iw * wh
	nc := a.nc
	win.pix = grow(win.pix, nc*np)
	win.weight = grow(win.weight, np)
	if cap(win.mask) < np {
		win.mask = make([]bool, np)
	}
	win.mask = win.mask[:np]
	if err := a.readWindow(in, win, wy0, wy1, np); err != nil {
		return err
	}
	if err := windowWeights(win, iw, wh, nc, float64(a.opt.Feather)); err != nil {
		return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
	}
	if in.hasAlpha {
		scaleByAlpha(win.weight, win.alpha)
	}
	ro.SrcRow0 = wy0
	ih := in.r.meta.Height
	n := bw * rows
	l.valBuf = grow(l.valBuf, nc*n)
	l.wBuf = grow(l.wBuf, n)
	l.val, l.wt = l.valBuf, l.wBuf
	wo := ro
	wo.Interp = cpu.InterpBilinear
	if err := reproject(a.ctx, a.runner, l.wt, bw, ry0-gy0, rows, win.weight, iw, ih, cg, wo); err != nil {
		return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
	}
	for c := range nc {
		if err := reproject(a.ctx, a.runner, l.val[c*n:(c+1)*n], bw, ry0-gy0, rows, win.pix[c*np:(c+1)*np], iw, ih, cg, ro); err != nil {
			return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
		}
	}
	l.ok = true
	return nil
}

// windowWeights fills win.mask (every channel finite) and win.weight (cpu.FeatherWeights of the
// mask). A window without an invalid pixel, the common case, takes a shortcut with the same
// result: in an all-valid rectangle the nearest invalid pixel is straight across one of its
// edges, so d = min(x+1, width−x, y+1, height−y) exactly, and min(1, d/feather) is what
// FeatherWeights computes (the square root of a perfect square is exact).
func windowWeights(win *inputWindow, width, height, nc int, feather float64) error {
	np := width * height
	all := true
	for i := range win.mask {
		ok := true
		for c := range nc {
			if v := win.pix[c*np+i]; v-v != 0 { // NaN or ±Inf
				ok = false
				break
			}
		}
		win.mask[i] = ok
		all = all && ok
	}
	if !all || feather == 0 {
		return cpu.FeatherWeights(win.weight, win.mask, width, height, feather)
	}
	// f(d) = float32(min(1, d/feather)) is non-decreasing in d, so f(min(dx, dy)) =
	// min(f(dx), f(dy)): one row of f(dx) serves every row, copied as is where f(dy) = 1 (all
	// but the feather-wide top and bottom strips). Same values as the per-pixel formula.
	f := func(d int) float32 { return float32(min(1, float64(d)/feather)) }
	edge := make([]float32, width)
	for x := range edge {
		edge[x] = f(min(x+1, width-x))
	}
	for y := range height {
		fy := f(min(y+1, height-y))
		row := win.weight[y*width : (y+1)*width]
		if fy == 1 {
			copy(row, edge)
			continue
		}
		for x, v := range edge {
			row[x] = min(v, fy)
		}
	}
	return nil
}

// bandAlpha sets alpha[lo:hi] to 255 where every channel of the CHW band pix (len(alpha)
// pixels per channel) has data, 0 elsewhere.
func bandAlpha(alpha []uint8, pix []float32, nc, lo, hi int) {
	m := len(alpha)
	for i := lo; i < hi; i++ {
		alpha[i] = 255
		for c := range nc {
			if v := pix[c*m+i]; v != v {
				alpha[i] = 0
				break
			}
		}
	}
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// readWindow reads rows [wy0, wy1) of every channel of in (np pixels each) and its ALPHA into
// win, with one open of the file, and applies the ALPHA.
func (a *assembler) readWindow(in *mosaicInput, win *inputWindow, wy0, wy1, np int) error {
	defer in.r.hold()()
	for c := range a.nc {
		if err := in.r.readRows(c, wy0, wy1, win.pix[c*np:(c+1)*np]); err != nil {
			return err
		}
	}
	if in.hasAlpha {
		win.alpha = grow(win.alpha, np)
		if err := in.readAlphaRows(wy0, wy1, win.alpha); err != nil {
			return err
		}
		applyAlpha(win.alpha, win.pix[:a.nc*np], a.nc)
	}
	return nil
}
