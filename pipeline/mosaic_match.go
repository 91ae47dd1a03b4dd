package pipeline

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Photometric matching modes of MosaicOptions.Match.
const (
	MatchNone       = "none"
	MatchOffset     = cpu.PhotometryOffset
	MatchGainOffset = cpu.PhotometryGainOffset
)

// mosaicMatchStep is the spacing, in output pixels, of the coarse lattice on which pairwise
// photometric relations are measured: every 8th output pixel in x and y. Sky levels and
// gains vary over hundreds of pixels, so 1/64 of the pixels is plenty of samples, and the
// pass costs a small fraction of the main one.
const mosaicMatchStep = 8

// mosaicMatchMinSamples is the least number of common valid lattice samples for a pair to be
// measured; fewer give a noisy median.
const mosaicMatchMinSamples = 200

// matchInputs measures the pairwise photometric relations of the inputs on the coarse lattice
// of the w×h output grid, solves per-input corrections with the anchor fixed, and returns
// them in input order (nil when nothing could be matched: the mosaic then uses Identity).
func matchInputs(inputs []*mosaicInput, grid *wcs.WCS, w, h int, opt MosaicOptions, hooks Hooks) ([]cpu.Affine, error) {
	skip := func(reason string) ([]cpu.Affine, error) {
		hooks.Events.Emit(compute.Info, "mosaic_match_skipped", map[string]any{"reason": reason})
		return nil, nil
	}
	if len(inputs) < 2 {
		return skip("a single input")
	}
	cw, ch := (w-1)/mosaicMatchStep+1, (h-1)/mosaicMatchStep+1
	// Inputs, then pairs, are measured in parallel, each on its own and kept by index: the
	// relations and their order are those of a serial pass.
	samples := make([]*sampleBox, len(inputs))
	errs := make([]error, len(inputs))
	parallelFor(len(inputs), opt.workers(), func(i int) {
		samples[i], errs[i] = coarseSamples(inputs[i], grid, cw, ch, opt)
	})
	if err := firstError(errs); err != nil {
		return nil, err
	}
	type pair struct {
		o  cpu.Overlap
		ok bool
	}
	pairs := make([]pair, len(inputs)*len(inputs))
	parallelFor(len(pairs), opt.workers(), func(k int) {
		if i, j := k/len(inputs), k%len(inputs); i < j {
			a, b := pairSamples(samples[i], samples[j])
			pairs[k].o, pairs[k].ok = measurePair(a, b, opt.Match)
		}
	})
	var ov []cpu.Overlap
	count := make([]int, len(inputs))
	for i := range inputs {
		for j := i + 1; j < len(inputs); j++ {
			if p := pairs[i*len(inputs)+j]; p.ok {
				o := p.o
				o.I, o.J = i, j
				ov = append(ov, o)
				count[i]++
				count[j]++
			}
		}
	}
	if len(ov) == 0 {
		return skip(fmt.Sprintf("no pair of inputs shares %d valid samples", mosaicMatchMinSamples))
	}
	anchor := 0
	for i, c := range count {
		if c > count[anchor] {
			anchor = i
		}
	}
	corr, err := cpu.SolvePhotometry(len(inputs), ov, anchor, opt.Match)
	note := ""
	if err != nil {
		// Inputs not connected to the anchor keep Identity; the others are still matched.
		if !errors.Is(err, cpu.ErrDisconnected) || corr == nil {
			return nil, fmt.Errorf("pipeline: mosaic match: %w", err)
		}
		note = err.Error()
	}
	hooks.Events.Emit(compute.Info, "mosaic_match", map[string]any{
		"pairs": len(ov), "anchor": filepath.Base(inputs[anchor].r.src.Name()), "mode": opt.Match,
		"corrections": corr, "note": note,
	})
	return corr, nil
}

// sampleBox is one input's samples on the part x0..x0+w-1, y0..y0+h-1 of the coarse lattice
// that its output box covers (row-major, NaN where it has no data): the lattice outside it
// would be all NaN, and 25 inputs of a 100 MP mosaic would hold 160 MB of it.
type sampleBox struct {
	x0, y0, w, h int
	v            []float32
}

// pairSamples returns the samples of p and q over the part of the lattice both boxes cover,
// in lattice row-major order.
func pairSamples(p, q *sampleBox) (a, b []float32) {
	x0, x1 := max(p.x0, q.x0), min(p.x0+p.w, q.x0+q.w)
	y0, y1 := max(p.y0, q.y0), min(p.y0+p.h, q.y0+q.h)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			a = append(a, p.v[(y-p.y0)*p.w+x-p.x0])
			b = append(b, q.v[(y-q.y0)*q.w+x-q.x0])
		}
	}
	return a, b
}

// coarseSamples reprojects input in (bilinear, mean of its channels) onto its part of the
// cw×ch coarse lattice of the output grid, NaN where it has no data (NaN, or ALPHA 0). Only
// the input rows the lattice maps to are read.
func coarseSamples(in *mosaicInput, grid *wcs.WCS, cw, ch int, opt MosaicOptions) (*sampleBox, error) {
	// The lattice part of the input's output box: columns cx0..cx1-1, rows cy0..cy1-1.
	cx0, cx1 := (in.x0+mosaicMatchStep-1)/mosaicMatchStep, min((in.x1-1)/mosaicMatchStep+1, cw)
	cy0, cy1 := (in.y0+mosaicMatchStep-1)/mosaicMatchStep, min((in.y1-1)/mosaicMatchStep+1, ch)
	bw, bh := cx1-cx0, cy1-cy0
	if bw <= 0 || bh <= 0 {
		return &sampleBox{}, nil
	}
	out := &sampleBox{x0: cx0, y0: cy0, w: bw, h: bh, v: make([]float32, bw*bh)}
	for i := range out.v {
		out.v[i] = float32(math.NaN())
	}
	// Exact mapping every 2 lattice samples (16 output px, as the main pass), interpolated between.
	cg := cpu.NewCoordGrid(bw, bh, 2, func(x, y float64) (float64, float64, bool) {
		ra, dec, err := grid.PixelToWorld(float64(cx0)*mosaicMatchStep+x*mosaicMatchStep, float64(cy0)*mosaicMatchStep+y*mosaicMatchStep)
		if err != nil {
			return 0, 0, false
		}
		ix, iy, err := in.w.WorldToPixel(ra, dec)
		return ix, iy, err == nil && !math.IsNaN(ix) && !math.IsNaN(iy)
	})
	iw, ih := in.r.meta.Width, in.r.meta.Height
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range cg.Y {
		if !math.IsNaN(y) {
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	if !(lo <= float64(ih)-0.5 && hi >= -0.5) {
		return out, nil
	}
	wy0 := int(max(math.Floor(lo)-2, 0))
	wy1 := int(min(math.Ceil(hi)+3, float64(ih)))
	wh := wy1 - wy0
	nc := in.r.meta.Channels
	defer in.r.hold()() // one open for every channel and the ALPHA
	pix := make([]float32, iw*wh)
	var alpha []float32
	if in.hasAlpha {
		alpha = make([]float32, iw*wh)
		if err := in.readAlphaRows(wy0, wy1, alpha); err != nil {
			return nil, err
		}
	}
	val := make([]float32, bw*bh)
	sum := make([]float64, bw*bh)
	// Inputs run in parallel; the window is passed as SrcRow0 (coordinates stay in whole-image
	// units, as in the main pass).
	ro := cpu.ReprojectOptions{Interp: cpu.InterpBilinear, Workers: 1, SrcRow0: wy0}
	for c := range nc {
		if err := in.r.readRows(c, wy0, wy1, pix); err != nil {
			return nil, err
		}
		if alpha != nil {
			noDataWhereAlphaZero(pix, alpha) // no sky sample there
		}
		if err := cpu.Reproject(val, bw, 0, bh, pix, iw, ih, cg, ro); err != nil {
			return nil, fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
		}
		for k, v := range val {
			sum[k] += float64(v) // NaN or ±Inf anywhere makes the sample invalid
		}
	}
	for y := range bh {
		for x := range bw {
			// Samples are flux-scaled (mosaic_flux.go): the solved corrections apply to
			// flux·x, and correction() composes the two.
			if v := sum[y*bw+x] / float64(nc) * float64(in.flux); !math.IsNaN(v) && !math.IsInf(v, 0) {
				out.v[y*bw+x] = float32(v)
			}
		}
	}
	return out, nil
}

// measurePair estimates b ≈ Gain·a + Offset from the lattice samples two inputs share.
// Sky samples are those below the median of both inputs (stars and galaxies excluded); the
// offset is the median of b − Gain·a over them; in gain-offset mode the gain is the ratio of
// the P90−P25 spans of all common samples (it needs real signal). Weight is the number of sky
// samples. ok is false when the pair cannot be measured.
func measurePair(a, b []float32, mode string) (o cpu.Overlap, ok bool) {
	var va, vb []float64
	for k := range a {
		if x, y := a[k], b[k]; x == x && y == y {
			va, vb = append(va, float64(x)), append(vb, float64(y))
		}
	}
	if len(va) < mosaicMatchMinSamples {
		return o, false
	}
	sa, sb := slices.Clone(va), slices.Clone(vb)
	slices.Sort(sa)
	slices.Sort(sb)
	ma, mb := quantile(sa, 0.5), quantile(sb, 0.5)
	o.Gain = 1
	if mode == MatchGainOffset {
		spanA, spanB := quantile(sa, 0.9)-quantile(sa, 0.25), quantile(sb, 0.9)-quantile(sb, 0.25)
		if !(spanA > 0 && spanB > 0) {
			return o, false
		}
		o.Gain = spanB / spanA
	}
	var d []float64
	for k := range va {
		if va[k] < ma && vb[k] < mb {
			d = append(d, vb[k]-o.Gain*va[k])
		}
	}
	if len(d) == 0 {
		return o, false
	}
	slices.Sort(d)
	o.Offset, o.Weight = quantile(d, 0.5), float64(len(d))
	return o, true
}

// quantile is the q-quantile of sorted s (non-empty), linear between ranks.
func quantile(s []float64, q float64) float64 {
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}

// parallelFor calls fn(0) … fn(n−1) from up to workers goroutines, each index once.
func parallelFor(n, workers int, fn func(i int)) {
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
