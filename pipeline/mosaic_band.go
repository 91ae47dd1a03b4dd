package pipeline

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// mosaicGridStep is the spacing, in output pixels, of the exact output → sky → input mapping;
// between samples cpu.CoordGrid interpolates it (1.6e-8 px error on an 11° field at step 16).
const mosaicGridStep = 16

// lanczosRadius is the widest kernel's reach in input rows beyond the sampled coordinate.
const lanczosRadius = 3

// assembleBands builds the mosaic one row band at a time. Per band and per input that reaches
// it, it reads a window of the input's rows (those the band maps to, plus the kernel's reach
// plus the feather width), computes the feather weights on that window, reprojects the
// weights (bilinear) and every channel (opt.Interp) onto the band, and accumulates them.
//
// Feathering choice: the distance to the nearest invalid input pixel is computed at input
// resolution on the window, not on the reprojected mask: it then means the same thing (input
// pixels, as --feather says) whatever the output scale, and it needs no full-frame map per
// input. The window reaches feather+2 rows beyond the rows the band samples, so the window's
// cut edges (which FeatherWeights counts as invalid) lie farther than feather from every
// sampled pixel and the weights equal those of the whole frame exactly.
func assembleBands(ctx context.Context, inputs []*mosaicInput, grid *wcs.WCS, img *fits.Image, coverage []float32,
	opt MosaicOptions, plan MosaicPlan, hooks Hooks) error {
	w, h, nc := img.Width, img.Height, img.Channels
	accs := make([]*cpu.CoaddBand, nc)
	for c := range accs {
		accs[c] = cpu.NewCoaddBand(plan.BandRows * w)
	}
	val := make([]float32, plan.BandRows*w)
	wt := make([]float32, plan.BandRows*w)
	var win inputWindow
	band := 0
	for by0 := 0; by0 < h; by0 += plan.BandRows {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pipeline: mosaic stopped at band %d/%d: %w", band+1, plan.Bands, err)
		}
		by1 := min(by0+plan.BandRows, h)
		n := (by1 - by0) * w
		for _, acc := range accs {
			clear(acc.Sum[:n])
			clear(acc.Weight[:n])
		}
		for _, in := range inputs {
			ry0, ry1 := max(by0, in.y0), min(by1, in.y1)
			if ry0 >= ry1 || in.x0 >= in.x1 {
				continue
			}
			if err := addInput(in, grid, &win, accs, val, wt, w, by0, ry0, ry1, nc, opt); err != nil {
				return err
			}
		}
		for c := range nc {
			off := c*w*h + by0*w
			acc := &cpu.CoaddBand{Sum: accs[c].Sum[:n], Weight: accs[c].Weight[:n]}
			if err := cpu.Finish(img.Pix[off:off+n], coverage[off:off+n], nil, acc); err != nil {
				return fmt.Errorf("pipeline: mosaic band %d: %w", band+1, err)
			}
		}
		band++
		hooks.progress("assemble", band, plan.Bands)
	}
	return nil
}

// inputWindow holds rows [y0, y1) of one input, every channel, and their feather weights;
// its buffers are reused from one input to the next.
type inputWindow struct {
	pix    []float32 // CHW, (y1-y0) rows
	weight []float32
	mask   []bool
}

// addInput reprojects output rows [ry0, ry1), columns [in.x0, in.x1) of input in and adds them
// to the band accumulators (band starting at output row by0, w pixels wide).
func addInput(in *mosaicInput, grid *wcs.WCS, win *inputWindow, accs []*cpu.CoaddBand, val, wt []float32,
	w, by0, ry0, ry1, nc int, opt MosaicOptions) error {
	bx0, bw, rows := in.x0, in.x1-in.x0, ry1-ry0
	// The coordinate grid's samples sit on one lattice for the whole input (columns from bx0,
	// rows on multiples of the step) and reach a sample beyond the band on both sides, so each
	// output pixel interpolates the same samples whatever band it falls in: no dependence on
	// the band height, not even in the last bit.
	gy0 := (ry0/mosaicGridStep - 1) * mosaicGridStep
	gh := ry1 + 2*mosaicGridStep - gy0
	cg := cpu.NewCoordGrid(bw, gh, mosaicGridStep, func(x, y float64) (float64, float64, bool) {
		ra, dec, err := grid.PixelToWorld(float64(bx0)+x, float64(gy0)+y)
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
		return nil // the band's part of the box maps outside the input
	}
	pad := float64(lanczosRadius + opt.Feather + 2)
	wy0 := int(max(math.Floor(lo-pad), 0))
	wy1 := int(min(math.Ceil(hi+pad)+1, float64(ih)))
	wh := wy1 - wy0
	np := iw * wh
	win.pix = grow(win.pix, nc*np)
	win.weight = grow(win.weight, np)
	if cap(win.mask) < np {
		win.mask = make([]bool, np)
	}
	win.mask = win.mask[:np]
	for c := range nc {
		if err := in.r.readRows(c, wy0, wy1, win.pix[c*np:(c+1)*np]); err != nil {
			return err
		}
	}
	in.r.close()
	for i := range win.mask {
		ok := true
		for c := range nc {
			if v := win.pix[c*np+i]; v != v || math.IsInf(float64(v), 0) {
				ok = false
				break
			}
		}
		win.mask[i] = ok
	}
	if err := cpu.FeatherWeights(win.weight, win.mask, iw, wh, float64(opt.Feather)); err != nil {
		return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
	}
	for i := range cg.Y {
		cg.Y[i] -= float64(wy0)
	}
	n := bw * rows
	ro := cpu.ReprojectOptions{Interp: cpu.InterpBilinear, Workers: opt.Workers}
	if err := cpu.Reproject(wt[:n], bw, ry0-gy0, rows, win.weight, iw, wh, cg, ro); err != nil {
		return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
	}
	ro.Interp = opt.Interp
	for c := range nc {
		if err := cpu.Reproject(val[:n], bw, ry0-gy0, rows, win.pix[c*np:(c+1)*np], iw, wh, cg, ro); err != nil {
			return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
		}
		for r := range rows {
			off := (ry0-by0+r)*w + bx0
			acc := &cpu.CoaddBand{Sum: accs[c].Sum[off : off+bw], Weight: accs[c].Weight[off : off+bw]}
			if err := cpu.Accumulate(acc, val[r*bw:(r+1)*bw], wt[r*bw:(r+1)*bw], 1, in.correction()); err != nil {
				return fmt.Errorf("pipeline: %s: %w", in.r.src.Name(), err)
			}
		}
	}
	return nil
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// wcsKey matches the header keys of a celestial WCS (and its SIP distortion): the mosaic's
// own WCS replaces all of them, so no stale key of an input can contradict it.
var wcsKey = regexp.MustCompile(`^(WCSAXES|WCSNAME|CTYPE\d|CRPIX\d|CRVAL\d|CDELT\d|CUNIT\d|CROTA\d|CD\d_\d|PC\d_\d|PC0\d_0\d|PV\d_\d+|LONPOLE|LATPOLE|RADESYS|RADECSYS|EQUINOX|EPOCH|(A|B|AP|BP)_(ORDER|\d+_\d+|DMAX))$`)

// mosaicHeader starts from the first input's header (observation keys), replaces its WCS by
// the output grid's, and records how the mosaic was made.
func mosaicHeader(inputs []*mosaicInput, grid *wcs.WCS, opt MosaicOptions, matched bool) *fits.Header {
	h := inputs[0].r.meta.Header.Clone()
	for _, c := range h.Cards() {
		if wcsKey.MatchString(c.Key) {
			h.Delete(c.Key)
		}
	}
	for _, k := range []string{"BAYERPAT", "DATAMIN", "DATAMAX", "CHECKSUM", "DATASUM"} {
		h.Delete(k)
	}
	for _, c := range grid.Cards() {
		h.Set(c.Key, c.Value, c.Comment)
	}
	h.Set("NCOMBINE", len(inputs), "number of frames in the mosaic")
	h.Set("SWCREATE", "zmosaic "+Version, "software that created this file")
	h.Set("DATE", time.Now().UTC().Format("2006-01-02T15:04:05"), "file creation date (UTC)")
	h.Set("ZMINTERP", string(opt.Interp), "zmosaic reprojection kernel")
	h.Set("ZMFEATHR", opt.Feather, "zmosaic feather width (input px)")
	h.Set("ZMMATCH", opt.Match, "zmosaic photometric matching")
	for _, in := range inputs {
		line := "zmosaic mosaic input: " + filepath.Base(in.r.src.Name())
		if matched {
			c := in.correction()
			line += fmt.Sprintf(" gain=%.6g offset=%.6g", c.Gain, c.Offset)
		}
		h.Add("HISTORY", nil, line)
	}
	return h
}

// WriteMosaicFITS writes the mosaic with its header and ALPHA extension, and its coverage map
// (the sum of the per-pixel weights, float32, same WCS) to coveragePath unless it is "".
func WriteMosaicFITS(name, coveragePath string, res *MosaicResult) error {
	if err := fits.Write(name, res.Image, fits.WriteOptions{Alpha: res.Alpha}); err != nil {
		return err
	}
	if coveragePath == "" {
		return nil
	}
	h := res.Image.Header.Clone()
	h.Set("BUNIT", "weight", "sum of the per-pixel mosaic weights")
	cov := &fits.Image{Width: res.Image.Width, Height: res.Image.Height, Channels: res.Image.Channels, Pix: res.Coverage, Header: h}
	return fits.Write(coveragePath, cov, fits.WriteOptions{})
}

// CoveragePath is where the coverage map of out.fits goes: out_coverage.fits beside it.
func CoveragePath(out string) string { return sibling(out, "_coverage.fits") }
