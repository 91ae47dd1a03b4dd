package cpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
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
type ReprojectOptions struct {
	Interp  Interp `json:"interp"`
	Workers int    `json:"-"` // goroutines; 0 = runtime.GOMAXPROCS(0)
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
// Rows are split across opt.Workers goroutines and every pixel is computed
// independently, so the output is bit-identical for any Workers value and any
// row band split. Inputs are not modified.
func Reproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *CoordGrid, opt ReprojectOptions) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	if err := checkReproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid); err != nil {
		return err
	}
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, rows)
	img := srcImage{pix: src, w: srcWidth, h: srcHeight}
	if workers <= 1 {
		reprojectRows(dst, outWidth, y0, 0, rows, img, grid, opt.Interp)
		return nil
	}
	var wg sync.WaitGroup
	for g := range workers {
		r0, r1 := rows*g/workers, rows*(g+1)/workers
		wg.Go(func() { reprojectRows(dst, outWidth, y0, r0, r1, img, grid, opt.Interp) })
	}
	wg.Wait()
	return nil
}

// checkReproject reports whether Reproject's buffers and grid agree.
func checkReproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *CoordGrid) error {
	switch {
	case outWidth <= 0 || rows < 0 || y0 < 0:
		return fmt.Errorf("%w: need outWidth > 0, rows >= 0, y0 >= 0, got %d, %d, %d", ErrShape, outWidth, rows, y0)
	case len(dst) != outWidth*rows:
		return fmt.Errorf("%w: len(dst)=%d, want outWidth*rows=%d", ErrShape, len(dst), outWidth*rows)
	case srcWidth <= 0 || srcHeight <= 0:
		return fmt.Errorf("%w: source must be at least 1×1, got %d×%d", ErrShape, srcWidth, srcHeight)
	case len(src) != srcWidth*srcHeight:
		return fmt.Errorf("%w: len(src)=%d, want %d×%d=%d", ErrShape, len(src), srcWidth, srcHeight, srcWidth*srcHeight)
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

// srcImage is one input channel.
type srcImage struct {
	pix  []float32
	w, h int
}

// reprojectRows computes band rows [r0, r1).
func reprojectRows(dst []float32, outWidth, y0, r0, r1 int, img srcImage, grid *CoordGrid, interp Interp) {
	for r := r0; r < r1; r++ {
		y := float64(y0 + r)
		row := dst[r*outWidth : (r+1)*outWidth]
		for x := range row {
			ix, iy := grid.At(float64(x), y)
			row[x] = reprojectPixel(img, ix, iy, interp)
		}
	}
}

// maxTaps is the widest kernel's taps per axis (Lanczos-3).
const maxTaps = 6

// reprojectPixel is the per-pixel function that the WGSL twin must compute:
// footprint test, per-axis weights, clamped taps, NaN test on non-zero
// weights, float64 sum row by row (outer loop j, inner loop i), one rounding.
func reprojectPixel(img srcImage, ix, iy float64, interp Interp) float32 {
	// The negated comparisons are false for NaN, so NaN lands here too.
	if !(ix >= -0.5 && ix <= float64(img.w)-0.5 && iy >= -0.5 && iy <= float64(img.h)-0.5) {
		return float32(math.NaN())
	}
	fx, fy := math.Floor(ix), math.Floor(iy)
	var wx, wy [maxTaps]float64
	n, lo := kernelWeights(&wx, ix-fx, interp)
	kernelWeights(&wy, iy-fy, interp)
	i0, j0 := int(fx)+lo, int(fy)+lo
	var sum float64
	for b := range n {
		if wy[b] == 0 {
			continue
		}
		j := min(max(j0+b, 0), img.h-1)
		line := img.pix[j*img.w : (j+1)*img.w]
		var s float64
		for a := range n {
			if wx[a] == 0 {
				continue
			}
			v := line[min(max(i0+a, 0), img.w-1)]
			if !finite32(v) {
				return float32(math.NaN())
			}
			s += float64(wx[a] * float64(v))
		}
		sum += float64(wy[b] * s)
	}
	return float32(sum)
}

// kernelWeights writes the per-axis weights for fractional offset t ∈ [0, 1)
// into w and returns the number of taps n and the offset lo of the first tap
// from floor(coordinate): tap k is at floor+lo+k with weight w[k].
func kernelWeights(w *[maxTaps]float64, t float64, interp Interp) (n, lo int) {
	switch interp {
	case InterpBilinear:
		w[0], w[1] = 1-t, t
		return 2, 0
	case InterpBicubic:
		k := keysWeights(t)
		copy(w[:4], k[:])
		return 4, -1
	default:
		lanczos3Weights(w, t)
		return 6, -2
	}
}

// keysWeights returns the Keys (1981) cubic convolution weights, a = −0.5,
// of the taps at offsets −1, 0, 1, 2 for fractional position t. They sum to 1
// and reproduce polynomials up to degree 2 exactly; at t = 0 they are exactly
// (0, 1, 0, 0).
func keysWeights(t float64) [4]float64 {
	return [4]float64{
		((-0.5*t+1)*t - 0.5) * t,
		(1.5*t-2.5)*t*t + 1,
		((-1.5*t+2)*t + 0.5) * t,
		(0.5*t - 0.5) * t * t,
	}
}

// lanczos3Weights writes the Lanczos-3 weights L(t−k), k = −2…3, with
// L(x) = sinc(x)·sinc(x/3) for |x| < 3, normalised to sum to 1. The
// normalisation removes the kernel's ripple on flat data (the raw weights sum
// to 0.994…1 depending on t), so a constant image stays constant. At t = 0 the
// weights are exactly the unit impulse, so integer positions copy the input.
// Lanczos-3 is not exact on ramps: the normalised weights' first moment
// reaches 0.018 px (t = 0.3), so the error is about 0.018·|gradient|, 3e-3
// of the peak of a Gaussian star of σ = 2…4 px, 8e-4 at σ = 20 px.
func lanczos3Weights(w *[maxTaps]float64, t float64) {
	if t == 0 {
		*w = [maxTaps]float64{0, 0, 1, 0, 0, 0}
		return
	}
	var sum float64
	for k := range maxTaps {
		x := t - float64(k-2)
		px := math.Pi * x
		w[k] = 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
		sum += w[k]
	}
	for k := range maxTaps {
		w[k] /= sum
	}
}
