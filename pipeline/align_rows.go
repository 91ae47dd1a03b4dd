package pipeline

import (
	"math"
	"sync"

	"github.com/zmosaic/zmosaic/cpu"
)

// alignGridStep is the spacing, in output pixels, of the exact output → sky → input mapping,
// as in the mosaic: cpu.CoordGrid interpolates between the samples far below 1e-3 px.
const alignGridStep = 16

// alignChunk is the unit of aligned reading, in output rows. Chunk k (output rows
// [k·alignChunk, (k+1)·alignChunk)) is resampled with a coordinate grid of its own (4 sample
// rows from k−1 to k+2 on the one lattice of multiples of alignGridStep) from an input window
// of its own (the rows its two bracketing sample rows map to, padded by alignPad). Both depend
// on the chunk alone, so a band of any height, cut anywhere, gets the same pixels to the last
// bit: the output does not depend on --mem-budget.
const alignChunk = alignGridStep

// alignPad is the input rows added on each side of a chunk's window: the Lanczos-3 reach
// (3 rows) plus 3 for the cubic interpolation of the coordinates between the samples. Taps
// never fall beyond a window's cut edge (Reproject, given the window as rows of the whole
// frame with ReprojectOptions.SrcRow0, clamps taps to the frame's edges and reports a tap
// outside the window as an error).
const alignPad = 6

// alignPool hands out the input-window buffers of aligned reading: at most one per goroutine
// reading frames, each of the size the memory plan gave (floats samples). A window larger than
// planned (a mapping less linear than the plan's 5×5 estimate) grows its buffer rather than
// fail; the grown buffer is kept for the next use.
type alignPool struct {
	mu     sync.Mutex
	free   [][]float32
	floats int
}

func (p *alignPool) get() []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return make([]float32, p.floats)
}

func (p *alignPool) put(b []float32) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// chunkWindow is the input rows [wy0, wy1) chunk k reads; empty (wy1 <= wy0) when the chunk
// lies outside the frame, whose pixels are then NaN without reading anything.
type chunkWindow struct {
	k, wy0, wy1 int
}

// readBand reads output rows [y0, y1) of channel c into dst: the frame's own rows, or with
// --align wcs its pixels resampled onto the reference grid (NaN where it has no data).
func (r *frameReader) readBand(c, y0, y1 int, dst []float32) error {
	if r.align == nil {
		return r.readRows(c, y0, y1, dst)
	}
	return r.readAligned(c, y0, y1, dst)
}

// readAligned resamples output rows [y0, y1) of channel c onto dst (len (y1−y0)·outW): it
// samples the coordinate mapping for the band's chunks, groups consecutive chunks whose
// windows fit one buffer, reads each group's input rows once and reprojects chunk by chunk.
func (r *frameReader) readAligned(c, y0, y1 int, dst []float32) error {
	a := r.align
	w, iw, ih := a.outW, r.meta.Width, r.meta.Height
	k0, k1 := y0/alignChunk, (y1-1)/alignChunk
	gy0 := (k0 - 1) * alignGridStep
	ns := k1 - k0 + 4 // sample rows k0−1 … k1+2
	g := cpu.NewCoordGrid(w, (ns-1)*alignGridStep+1, alignGridStep, func(x, y float64) (float64, float64, bool) {
		return a.mapPixel(x, float64(gy0)+y)
	})
	chunks := make([]chunkWindow, 0, k1-k0+1)
	for k := k0; k <= k1; k++ {
		chunks = append(chunks, a.chunkWindow(g, k, k-k0, iw, ih))
	}
	buf := a.pool.get()
	defer func() { a.pool.put(buf) }()
	var cg cpu.CoordGrid
	flush := func(group []chunkWindow) error {
		if len(group) == 0 {
			return nil
		}
		g0, g1 := group[0].wy0, group[0].wy1
		for _, cw := range group[1:] {
			g0, g1 = min(g0, cw.wy0), max(g1, cw.wy1)
		}
		if n := (g1 - g0) * iw; n > cap(buf) {
			buf = make([]float32, n)
		}
		win := buf[:(g1-g0)*iw]
		if err := r.readRows(c, g0, g1, win); err != nil {
			return err
		}
		for _, cw := range group {
			a.chunkGrid(&cg, g, cw.k-k0)
			r0, r1 := max(y0, cw.k*alignChunk), min(y1, (cw.k+1)*alignChunk)
			out := dst[(r0-y0)*w : (r1-y0)*w]
			// The window as rows of the whole frame: coordinates are interpolated from the
			// frame's own samples, not from samples shifted by the window's first row, so
			// they round as in a whole-frame reprojection.
			ro := cpu.ReprojectOptions{Interp: a.interp, Workers: a.threads, SrcRow0: cw.wy0}
			src := win[(cw.wy0-g0)*iw : (cw.wy1-g0)*iw]
			if err := cpu.Reproject(out, w, r0-(cw.k-1)*alignGridStep, r1-r0, src, iw, ih, &cg, ro); err != nil {
				return err
			}
			if a.flux != 1 {
				for i := range out {
					out[i] *= a.flux
				}
			}
		}
		return nil
	}
	var group []chunkWindow
	lo, hi := 0, 0 // the group's rows
	for _, cw := range chunks {
		if cw.wy1 <= cw.wy0 {
			r0, r1 := max(y0, cw.k*alignChunk), min(y1, (cw.k+1)*alignChunk)
			fillNaN(dst[(r0-y0)*w : (r1-y0)*w])
			continue
		}
		if len(group) > 0 && (max(hi, cw.wy1)-min(lo, cw.wy0))*iw > cap(buf) {
			if err := flush(group); err != nil {
				return err
			}
			group = group[:0]
		}
		if len(group) == 0 {
			lo, hi = cw.wy0, cw.wy1
		}
		lo, hi = min(lo, cw.wy0), max(hi, cw.wy1)
		group = append(group, cw)
	}
	return flush(group)
}

// chunkWindow finds the input rows chunk k needs; j is the index in g of the chunk's first
// sample row (k−1), so rows j+1 and j+2 bracket its output rows.
func (a *frameAlign) chunkWindow(g *cpu.CoordGrid, k, j, iw, ih int) chunkWindow {
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, s := range g.Y[(j+1)*g.NX : (j+3)*g.NX] {
		if !math.IsNaN(s) {
			ylo, yhi = min(ylo, s), max(yhi, s)
		}
	}
	for _, s := range g.X[(j+1)*g.NX : (j+3)*g.NX] {
		if !math.IsNaN(s) {
			xlo, xhi = min(xlo, s), max(xhi, s)
		}
	}
	const pad = alignPad
	// The negated comparisons also reject the all-NaN case (infinite bounds).
	if !(yhi >= -0.5-pad && ylo <= float64(ih)-0.5+pad && xhi >= -0.5-pad && xlo <= float64(iw)-0.5+pad) {
		return chunkWindow{k: k}
	}
	wy0 := max(int(math.Floor(max(ylo, -1)))-pad, 0)
	wy1 := min(int(math.Ceil(min(yhi, float64(ih))))+pad+1, ih)
	return chunkWindow{k: k, wy0: wy0, wy1: wy1}
}

// chunkGrid fills cg with the 4 sample rows of the chunk whose first sample row is j in g
// (whole-frame coordinates). cg's slices are reused.
func (a *frameAlign) chunkGrid(cg *cpu.CoordGrid, g *cpu.CoordGrid, j int) {
	n := 4 * g.NX
	cg.Step, cg.NX, cg.NY = g.Step, g.NX, 4
	cg.X = append(cg.X[:0], g.X[j*g.NX:j*g.NX+n]...)
	cg.Y = append(cg.Y[:0], g.Y[j*g.NX:j*g.NX+n]...)
}

func fillNaN(v []float32) {
	nan := float32(math.NaN())
	for i := range v {
		v[i] = nan
	}
}
