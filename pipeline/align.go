package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Stacking with --align wcs.
//
// The output grid is the WCS and shape (SIP included) of one input, the reference: the frame
// whose centre is nearest the spherical mean of all frame centres. The reference is read as
// it is; every other frame is resampled onto its grid with the mosaic's kernels
// (cpu.CoordGrid + cpu.Reproject, opt.Interp), row band by row band, so the stack's memory
// plan holds as without alignment. Pixels of the output grid that a frame does not cover are
// NaN (no data), which the combine ignores.
//
// The choice depends on the set of frames, not on the order they are given in: the centres
// are sorted before their mean is taken (a floating-point sum depends on its order), and
// frames at exactly the same distance go to the smallest file name, then the lowest index.
//
// Flux: frames of one camera share a pixel scale and are resampled as they are (Reproject
// keeps surface brightness, which is then also flux per pixel). A frame whose pixel scale
// differs from the reference's by more than alignScaleTolerance (in pixel area) is multiplied
// by cpu.FluxScale, so that star fluxes (aperture sums) match the reference's; plate-solve
// jitter of a few 1e-5 never rescales a frame.
//
// Measurement: the statistics behind --weight noise and --norm see the aligned frames, so every
// frame is measured over its part of the one output grid (NaN outside its footprint is left
// out). Resampling smooths the noise of every frame but the reference (Lanczos-3 at random
// sub-pixel phases: σ about 10 % lower), so the reference gets a slightly lower noise weight,
// and its P25 — the sky level the others are matched to — lies about 0.67·Δσ lower than theirs:
// a constant offset of a few % of one frame's σ on the stack (TestAlignWCSAccuracyOn…).

// alignScaleTolerance is the relative pixel-area difference below which two frames count as
// having the same pixel scale.
const alignScaleTolerance = 1e-3

// frameAlign maps the output grid (the reference frame's) onto one frame; nil on the
// reference itself, which is read unchanged.
type frameAlign struct {
	ref        *wcs.WCS // the output grid
	w          *wcs.WCS // this frame's WCS
	outW, outH int
	interp     cpu.Interp
	flux       float32 // multiplies the resampled values: 1 unless the pixel scales differ
	pool       *alignPool
	threads    int // goroutines of each Reproject call (frames are also read in parallel)
	// slopeY and slopeX bound |∂iy/∂y| and |∂iy/∂x| of the output → input mapping, input rows
	// per output pixel: they size the input window a band of output rows needs.
	slopeY, slopeX float64
}

// readFrameWCS reads and checks the celestial WCS of an image HDU for alignment.
func readFrameWCS(h *fits.ImageHDU) (*wcs.WCS, error) {
	w, err := wcs.FromHeader(h.Header)
	if err == nil {
		err = w.Validate(h.Width, h.Height, wcs.DefaultValidateOptions())
	}
	if err != nil {
		return nil, fmt.Errorf("no usable WCS for --align wcs: %w", err)
	}
	return w, nil
}

// frameCentre is the sky position of a frame's central pixel.
func frameCentre(w *wcs.WCS, width, height int) (ra, dec float64, err error) {
	return w.PixelToWorld(float64(width-1)/2, float64(height-1)/2)
}

// ChooseAlignReference returns the index of the frame whose centre (ra, dec in degrees) is
// nearest the spherical mean of all centres, that mean, and every centre's distance to it in
// degrees. Exact ties go to the smallest name, then the lowest index, so the choice does not
// depend on the order of the frames.
func ChooseAlignReference(centres [][2]float64, names []string) (ref int, mean [2]float64, dist []float64, err error) {
	if len(centres) == 0 || len(names) != len(centres) {
		return 0, mean, nil, fmt.Errorf("pipeline: reference choice needs one name per centre, got %d centres and %d names", len(centres), len(names))
	}
	sorted := slices.Clone(centres)
	slices.SortFunc(sorted, func(a, b [2]float64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	ra, dec, err := sky.Mean(sorted)
	if err != nil {
		return 0, mean, nil, fmt.Errorf("pipeline: centre of the frames: %w", err)
	}
	dist = make([]float64, len(centres))
	for i, c := range centres {
		dist[i] = sky.Separation(ra, dec, c[0], c[1])
		if dist[i] < dist[ref] || (dist[i] == dist[ref] && names[i] < names[ref]) {
			ref = i
		}
	}
	return ref, [2]float64{ra, dec}, dist, nil
}

// setupAlignment chooses the reference among the scanned frames, builds the frameAlign of
// every other frame and records the choice in the report and an event. It returns the
// reference's index in frames and the pool of input windows the aligned frames share (its
// buffer size is set once the memory plan is known).
func setupAlignment(frames []*frameReader, opt StackOptions, hooks Hooks, res *StackResult) (int, *alignPool, error) {
	centres := make([][2]float64, len(frames))
	names := make([]string, len(frames))
	for i, f := range frames {
		ra, dec, err := frameCentre(f.wcs, f.meta.Width, f.meta.Height)
		if err != nil {
			return 0, nil, fmt.Errorf("pipeline: %s: centre of the frame: %w", f.src.Name(), err)
		}
		centres[i], names[i] = [2]float64{ra, dec}, f.src.Name()
	}
	ref, mean, dist, err := ChooseAlignReference(centres, names)
	if err != nil {
		return 0, nil, err
	}
	rf := frames[ref]
	refScale := pixelArea(rf.wcs, rf.meta.Width, rf.meta.Height)
	pool := &alignPool{}
	for i, f := range frames {
		info := &res.Frames[f.info]
		info.CentreOffsetArcsec = dist[i] * 3600
		if i == ref {
			info.AlignReference = true
			continue
		}
		a := &frameAlign{ref: rf.wcs, w: f.wcs, outW: rf.meta.Width, outH: rf.meta.Height, interp: opt.Interp, flux: 1, pool: pool}
		area := pixelArea(f.wcs, f.meta.Width, f.meta.Height)
		if fs := cpu.FluxScale(math.Sqrt(area), math.Sqrt(refScale)); math.Abs(fs-1) > alignScaleTolerance {
			if math.IsNaN(fs) {
				return 0, nil, fmt.Errorf("pipeline: %s: pixel scale cannot be measured at the frame centre", f.src.Name())
			}
			a.flux = float32(fs)
			info.FluxScale = fs
		}
		if err := a.measureSlopes(); err != nil {
			return 0, nil, fmt.Errorf("pipeline: %s: %w", f.src.Name(), err)
		}
		f.align = a
	}
	res.AlignReference = rf.info
	hooks.Events.Emit(compute.Info, "stack_align_reference", map[string]any{
		"file": filepath.Base(rf.src.Name()), "frames": len(frames),
		"offset_arcsec": dist[ref] * 3600, "ra": mean[0], "dec": mean[1],
		"shape": fmt.Sprintf("%d×%d", rf.meta.Width, rf.meta.Height), "interp": string(opt.Interp),
	})
	return ref, pool, nil
}

// pixelArea is a frame's pixel area at its centre in arcsec², NaN where unknown.
func pixelArea(w *wcs.WCS, width, height int) float64 {
	sx, sy := w.PixelScale(float64(width-1)/2, float64(height-1)/2)
	return sx * sy
}

// measureSlopes bounds how many input rows one output row and one output column span, from
// finite differences of the mapping at a 5×5 set of points over the output grid. Between
// the points the mapping of frames of one group is close to affine; the windows are padded
// anyway, and a window that turns out larger than planned is still read (see alignPool).
func (a *frameAlign) measureSlopes() error {
	const n = 5
	for j := range n {
		for i := range n {
			x := float64(i) * float64(a.outW-1) / (n - 1)
			y := float64(j) * float64(a.outH-1) / (n - 1)
			_, y0, ok0 := a.mapPixel(x, y)
			_, yx, okx := a.mapPixel(x+1, y)
			_, yy, oky := a.mapPixel(x, y+1)
			if !ok0 || !okx || !oky {
				return errors.New("the reference grid does not map onto this frame (behind its projection)")
			}
			a.slopeX = max(a.slopeX, math.Abs(yx-y0))
			a.slopeY = max(a.slopeY, math.Abs(yy-y0))
		}
	}
	// 2 % for the curvature between the points.
	a.slopeX *= 1.02
	a.slopeY *= 1.02
	return nil
}

// mapPixel maps output pixel (x, y) to this frame's pixel coordinates: reference WCS to the
// sky, the frame's WCS back to pixels.
func (a *frameAlign) mapPixel(x, y float64) (ix, iy float64, ok bool) {
	ra, dec, err := a.ref.PixelToWorld(x, y)
	if err != nil {
		return 0, 0, false
	}
	ix, iy, err = a.w.WorldToPixel(ra, dec)
	return ix, iy, err == nil && !math.IsNaN(ix) && !math.IsNaN(iy)
}

// windowRows bounds the input rows that output rows [y0, y0+rows) need, for any y0: the
// rows the band's chunks span (rounded out to whole chunks), the spread of one output row
// across the width, the kernel's reach and the rounding of the window's ends.
func (a *frameAlign) windowRows(rows int) int {
	span := float64(min(rows, a.outH)+2*alignChunk)*a.slopeY + float64(a.outW)*a.slopeX
	return int(math.Ceil(span)) + 2*alignPad + 4
}

// alignCost is the scratch memory of aligned reading per worker, as bytes per output row of a
// band plus fixed bytes: see alignPlanCost.
type alignCost struct {
	perRow, fixed int64
}

// alignPlanCost is what one worker's input window costs for a band of output rows, bounded
// over every aligned frame: float32 samples of windowRows rows of the widest frame.
func alignPlanCost(frames []*frameReader) alignCost {
	var c alignCost
	for _, f := range frames {
		a := f.align
		if a == nil {
			continue
		}
		iw := float64(f.meta.Width)
		c.perRow = max(c.perRow, int64(math.Ceil(4*iw*a.slopeY)))
		c.fixed = max(c.fixed, 4*int64(f.meta.Width)*int64(a.windowRows(0)+1)) // +1: the ceiling
	}
	return c
}
