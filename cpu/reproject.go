package cpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Interp names the interpolation kernel of Reproject.
type Interp string

// Interpolation kernels. InterpLanczos3 is the default.
const (
	InterpBilinear Interp = "bilinear" // 2×2 taps, exact on linear data
	InterpBicubic  Interp = "bicubic"  // Keys cubic convolution, a = −0.5, 4×4 taps, exact on quadratics
	InterpLanczos3 Interp = "lanczos3" // separable windowed sinc, 6×6 taps, weights normalised per axis
)

// Validate reports whether i names a known kernel.
func (i Interp) Validate() error {
	switch i {
	case InterpBilinear, InterpBicubic, InterpLanczos3:
		return nil
	}
	return fmt.Errorf("%w: unknown interp %q (want bilinear, bicubic or lanczos3)", ErrInvalidOptions, string(i))
}

// ReprojectOptions configures Reproject.
//
// SrcRow0 lets a caller pass a window of the input instead of the whole
// image: src then holds rows [SrcRow0, SrcRow0 + len(src)/srcWidth) of an
// image srcHeight rows tall, and the grid's coordinates stay in the whole
// image. The footprint test, the clamping of taps at the edges and every
// weight are those of the whole image; only the row index into src is
// offset. The result is therefore the whole-image result bit for bit,
// whatever window holds the rows it reads. Shifting the grid's samples by the
// window's first row instead would not be: the interpolated coordinate of
// shifted samples can round differently, so the output would depend on where
// a band's window starts.
type ReprojectOptions struct {
	Interp  Interp `json:"interp"`
	Workers int    `json:"-"` // goroutines; 0 = runtime.GOMAXPROCS(0)
	SrcRow0 int    `json:"-"` // first image row held in src (see above); 0 = src starts at the top
}

// DefaultReprojectOptions returns Lanczos-3 with automatic workers.
func DefaultReprojectOptions() ReprojectOptions {
	return ReprojectOptions{Interp: InterpLanczos3}
}

// Validate checks every field of o.
func (o ReprojectOptions) Validate() error {
	if err := o.Interp.Validate(); err != nil {
		return err
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers must be >= 0, got %d", ErrInvalidOptions, o.Workers)
	}
	if o.SrcRow0 < 0 {
		return fmt.Errorf("%w: source row offset must be >= 0, got %d", ErrInvalidOptions, o.SrcRow0)
	}
	return nil
}

// FluxScale returns (outScale/inScale)², the factor that turns Reproject's
// output into flux per output pixel. Scales are the pixel sizes of the input
// and output grids in the same unit (e.g. arcsec/px). Reproject keeps surface
// brightness (a flat sky of 100 per pixel stays 100 per pixel on any grid);
// multiplying by FluxScale makes aperture sums, i.e. star fluxes, equal on
// both grids instead. It returns NaN unless both scales are finite and > 0.
func FluxScale(inScale, outScale float64) float64 {
	if !positiveFinite(inScale) || !positiveFinite(outScale) {
		return math.NaN()
	}
	r := outScale / inScale
	return r * r
}

// Reproject fills dst, rows [y0, y0+rows) of an output image outWidth pixels
// wide (len(dst) == outWidth*rows), by resampling src, one channel of
// srcWidth × srcHeight pixels, at the input coordinates grid.At(x, y) of each
// output pixel (x, y). Coordinates are 0-based pixel centres: input pixel
// (i, j) covers [i−0.5, i+0.5] × [j−0.5, j+0.5].
//
// src holds the whole image, or with opt.SrcRow0 > 0 or a shorter slice the
// window of rows [opt.SrcRow0, opt.SrcRow0 + len(src)/srcWidth) (see
// ReprojectOptions): len(src) must be a non-zero multiple of srcWidth and the
// window must lie in the image. The window must also hold every row that a
// tap with a non-zero weight reads (rows clamped to the image first, so a
// window reaching the image's edge serves the taps beyond it). Which rows
// those are is known only from the interpolated coordinates, so it is
// checked as the pixels are computed: a pixel needing a row outside the
// window is set to NaN and Reproject returns an error wrapping ErrShape that
// names the lowest such row (dst is then complete but must not be used).
// Callers size windows from the grid's samples plus the kernel's reach
// (3 rows for Lanczos-3) plus a margin for the coordinates' interpolation.
//
// Per output pixel (see reprojectPixel for the exact function):
//   - it is NaN when the coordinate is NaN or outside the input's footprint
//     [−0.5, srcWidth−0.5] × [−0.5, srcHeight−0.5] (both ends inclusive);
//   - otherwise it is Σ wx_i·wy_j·src[j][i] over the kernel's taps, with tap
//     indices clamped to the image (so the half-pixel border and the edge
//     pixels replicate the edge instead of fading to 0), summed in float64
//     in a fixed order and rounded to float32 once;
//   - it is NaN when any tap with a non-zero weight wx_i·wy_j is not finite:
//     no data is never turned into 0, and a NaN input pixel poisons exactly
//     the outputs whose kernel support touches it.
//
// The kernel keeps surface brightness; see FluxScale for flux per pixel.
// Blocks of rows are handed to opt.Workers goroutines and every pixel is
// computed independently, so the output is bit-identical for any Workers
// value and any row band split. Inputs are not modified.
//
// Precision and speed. Taps are summed in float64 although the data are
// float32: the sum of 36 products then carries ~1e-16 relative error, far
// below the float32 output's 6e-8, so the result is the correctly weighted
// sum rounded once. Summing in float32 would cost up to a few float32 ulps
// and gain little in scalar Go (float32 and float64 arithmetic cost the
// same; only the 36 conversions would go). The per-pixel cost is in the
// weights (see lanczos3Weights: two polynomial sines per axis, one
// division) and the coordinates (CoordGrid.At with its column sums hoisted
// out of the row); pixels whose taps all lie inside the image with non-zero
// weights skip the clamps and per-tap NaN tests (reprojectPixel).
func Reproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *CoordGrid, opt ReprojectOptions) error {
	if err := CheckReproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, rows)
	img := newSrcImage(src, srcWidth, srcHeight, opt.SrcRow0)
	kind := opt.Interp.kind()
	cols := newGridCols(grid, outWidth)
	var next atomic.Int64
	if workers <= 1 {
		reprojectRows(dst, outWidth, y0, rows, &next, img, grid, cols, kind)
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() { reprojectRows(dst, outWidth, y0, rows, &next, img, grid, cols, kind) })
		}
		wg.Wait()
	}
	if row, ok := img.fault.row(); ok {
		return fmt.Errorf("%w: a pixel needs source row %d, outside the rows [%d, %d) given of %d",
			ErrShape, row, img.r0, img.r1, srcHeight)
	}
	return nil
}

// CheckReproject reports whether Reproject accepts these arguments (options
// included), with the same error Reproject would return. The GPU device and the
// Runner call it so that every backend rejects the same calls before any work.
func CheckReproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *CoordGrid, opt ReprojectOptions) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	return checkReproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, opt.SrcRow0, grid)
}

// checkReproject reports whether Reproject's buffers and grid agree; src
// holds rows [row0, row0 + len(src)/srcWidth).
func checkReproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight, row0 int, grid *CoordGrid) error {
	switch {
	case outWidth <= 0 || rows < 0 || y0 < 0:
		return fmt.Errorf("%w: need outWidth > 0, rows >= 0, y0 >= 0, got %d, %d, %d", ErrShape, outWidth, rows, y0)
	case len(dst) != outWidth*rows:
		return fmt.Errorf("%w: len(dst)=%d, want outWidth*rows=%d", ErrShape, len(dst), outWidth*rows)
	case srcWidth <= 0 || srcHeight <= 0:
		return fmt.Errorf("%w: source must be at least 1×1, got %d×%d", ErrShape, srcWidth, srcHeight)
	case len(src) == 0 || len(src)%srcWidth != 0 || row0+len(src)/srcWidth > srcHeight:
		return fmt.Errorf("%w: len(src)=%d is not rows [%d, %d) of %d×%d: want a non-zero multiple of the width within the image",
			ErrShape, len(src), row0, row0+len(src)/srcWidth, srcWidth, srcHeight)
	case grid == nil:
		return fmt.Errorf("%w: nil coordinate grid", ErrShape)
	}
	if err := grid.Validate(); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	// The grid must reach the band's last column and row: beyond its samples
	// At would extrapolate, which is never what a caller wants.
	if (grid.NX-1)*grid.Step < outWidth-1 || (grid.NY-1)*grid.Step < y0+rows-1 {
		return fmt.Errorf("%w: grid covers %d×%d output pixels, band needs %d×%d",
			ErrShape, (grid.NX-1)*grid.Step+1, (grid.NY-1)*grid.Step+1, outWidth, y0+rows)
	}
	return nil
}

// srcImage is one input channel, w × h pixels, of which pix holds rows
// [r0, r1). fault records the rows outside them that taps needed.
type srcImage struct {
	pix    []float32
	w, h   int
	r0, r1 int
	fault  *rowFault
}

// newSrcImage returns the image w × h whose rows [r0, r0+len(pix)/w) are pix.
func newSrcImage(pix []float32, w, h, r0 int) srcImage {
	return srcImage{pix: pix, w: w, h: h, r0: r0, r1: r0 + len(pix)/w, fault: newRowFault()}
}

// rowFault keeps the lowest source row that a pixel needed outside the rows
// held (math.MaxInt64 while none), so that the error names the same row
// whatever the workers' order.
type rowFault struct{ min atomic.Int64 }

func newRowFault() *rowFault {
	f := &rowFault{}
	f.min.Store(math.MaxInt64)
	return f
}

// note records row j.
func (f *rowFault) note(j int) {
	for {
		old := f.min.Load()
		if int64(j) >= old || f.min.CompareAndSwap(old, int64(j)) {
			return
		}
	}
}

// row returns the lowest row noted, if any.
func (f *rowFault) row() (int, bool) {
	v := f.min.Load()
	return int(v), v != math.MaxInt64
}

// Work units of Reproject: blocks of blockRows rows, computed in strips of
// stripCols columns. A strip of a few rows touches a small patch of the
// input (a rotated frame's rows enter and leave it along the strip), which
// stays in the L1 cache from one row to the next, where whole rows would
// sweep through tens of input rows each and evict them.
const (
	blockRows = 8
	stripCols = 128
)

// reprojectRows computes the row blocks taken from next until none is left.
// Blocks are handed out one at a time (an atomic counter), so workers stay
// balanced when part of the band is off the input and cheap; each pixel is
// computed alone, so neither the split nor the traversal order ever changes
// a result.
func reprojectRows(dst []float32, outWidth, y0, rows int, next *atomic.Int64, img srcImage, grid *CoordGrid, cols *gridCols, kind interpKind) {
	var grs [blockRows]*gridRow
	for i := range grs {
		grs[i] = newGridRow(grid, cols)
	}
	var pb pixelBatch
	for {
		r0 := int(next.Add(1)-1) * blockRows
		if r0 >= rows {
			return
		}
		r1 := min(r0+blockRows, rows)
		for r := r0; r < r1; r++ {
			grs[r-r0].setRow(y0 + r)
		}
		for x0 := 0; x0 < outWidth; x0 += stripCols {
			x1 := min(x0+stripCols, outWidth)
			for r := r0; r < r1; r++ {
				reprojectRow(dst[r*outWidth+x0:r*outWidth+x1], x0, grs[r-r0], img, kind, &pb)
			}
		}
	}
}
