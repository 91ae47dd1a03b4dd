package cpu

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// MaxSortFrames is the largest stack whose winsor and kappa rejections see
// every sample of a pixel at once. It is the size of the per-pixel sample
// array of the GPU kernels (one private array per invocation; 256 float32 is
// what a WebGPU invocation can hold), and the CPU uses the same limit so the
// two backends compute one function.
const MaxSortFrames = 256

// SubsampleFrames returns the frames whose samples estimate the rejection
// bounds of a stack of n frames: for n > MaxSortFrames, the MaxSortFrames
// indices (k·n)/MaxSortFrames for k = 0..MaxSortFrames−1 (integer division:
// evenly spaced, strictly increasing, starting at frame 0); for
// 0 < n ≤ MaxSortFrames every frame, 0..n−1; for n ≤ 0 none.
func SubsampleFrames(n int) []int {
	if n <= 0 {
		return nil
	}
	s := min(n, MaxSortFrames)
	idx := make([]int, s)
	for k := range idx {
		idx[k] = k * n / s
	}
	return idx
}

// streamed reports whether StackBand uses the streamed rule for a stack of n
// frames: winsor or kappa with more than MaxSortFrames frames, combined by
// mean, min or max. Median keeps the exact algorithm over all samples (a
// median needs them all anyway), and so does the linear-fit clip, whose
// bounds depend on each sample's rank.
func streamed(n int, opt StackOptions) bool {
	return n > MaxSortFrames &&
		(opt.Reject == RejectWinsor || opt.Reject == RejectKappa) &&
		opt.Combine != CombineMedian
}

// RejectBounds computes, per pixel of a band, the final bounds [lo, hi] of
// the winsor or kappa rejection (opt.Reject) run on src's valid normalised
// samples: the bounds of the streamed rule when src holds the
// SubsampleFrames of a larger stack (and norm their normalisations, nil =
// identity). The algorithm is exactly that of StackBand for up to
// MaxSortFrames frames (same sort, iterations and float64 arithmetic); which
// of its bounds are final:
//
//   - winsor: the bounds m − κlow·σ, m + κhigh·σ of the last test that was
//     applied or rejected nothing. A test that would reject every kept sample
//     is not applied (as in StackBand) and leaves the bounds as they were.
//     An iteration that stops on fewer than 3 kept samples or on σ ≤ 0 (MAD,
//     standard deviation and Huber scale all 0) makes no test.
//   - kappa: the bounds m − κlow·s, m + κhigh·s of the last test made,
//     whether it rejected nothing, some or every kept sample. An iteration
//     with fewer than 3 kept samples or s = 0 (all kept samples equal) makes
//     no test.
//
// With no test at all (fewer than 3 valid samples, a constant pixel) lo =
// −Inf and hi = +Inf: nothing is rejected. Weights play no part in the
// rejection statistics, so there are none here. src may hold any number of
// frames (0 gives ±Inf everywhere); beyond MaxSortFrames the sort is simply
// larger. Work is split by rows across opt.Workers goroutines, as in
// StackBand; inputs are not modified.
//
// Errors: invalid opt, opt.Reject not winsor or kappa, width ≤ 0, len(lo)
// != len(hi), len(lo) not a multiple of width, a frame not of len(lo), norm
// neither nil nor len(src), or a non-finite normalisation.
func RejectBounds(lo, hi []float64, src [][]float32, norm []Affine, width int, opt StackOptions) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	if opt.Reject != RejectWinsor && opt.Reject != RejectKappa {
		return fmt.Errorf("%w: RejectBounds needs reject winsor or kappa, got %q", ErrInvalidOptions, string(opt.Reject))
	}
	switch {
	case width <= 0:
		return fmt.Errorf("%w: width must be > 0, got %d", ErrShape, width)
	case len(hi) != len(lo):
		return fmt.Errorf("%w: len(hi)=%d, want len(lo)=%d", ErrShape, len(hi), len(lo))
	case len(lo)%width != 0:
		return fmt.Errorf("%w: len(lo)=%d is not a multiple of width %d", ErrShape, len(lo), width)
	case norm != nil && len(norm) != len(src):
		return fmt.Errorf("%w: len(norm)=%d, want %d frames", ErrShape, len(norm), len(src))
	}
	for i, f := range src {
		if len(f) != len(lo) {
			return fmt.Errorf("%w: frame %d has %d samples, want %d", ErrShape, i, len(f), len(lo))
		}
	}
	for i, a := range norm {
		if !finite32(a.Gain) || !finite32(a.Offset) {
			return fmt.Errorf("%w: normalisation of frame %d must be finite, got %+v", ErrInvalidOptions, i, a)
		}
	}
	rows := len(lo) / width
	workers := opt.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, rows)
	if workers <= 1 {
		boundsRows(lo, hi, src, norm, 0, len(lo), opt)
		return nil
	}
	var wg sync.WaitGroup
	for g := range workers {
		r0, r1 := rows*g/workers, rows*(g+1)/workers
		wg.Go(func() { boundsRows(lo, hi, src, norm, r0*width, r1*width, opt) })
	}
	wg.Wait()
	return nil
}

// boundsRows computes the bounds of pixels [j0, j1) for RejectBounds.
func boundsRows(lo, hi []float64, src [][]float32, norm []Affine, j0, j1 int, opt StackOptions) {
	sc := newPixelScratch(len(src), opt)
	for j := j0; j < j1; j++ {
		n := sc.gather(src, norm, nil, j)
		lo[j], hi[j] = sc.bounds(sc.sorted(n))
	}
}

// bounds runs the clip of sc.opt.Reject (winsor or kappa) on the sorted
// samples s and returns its final bounds (see RejectBounds).
func (sc *pixelScratch) bounds(s []float64) (lo, hi float64) {
	if sc.opt.Reject == RejectKappa {
		_, _, lo, hi = sc.kappaClip(s)
	} else {
		_, _, lo, hi = sc.winsorClip(s)
	}
	return lo, hi
}

// gatherSub loads pixel j's valid normalised samples of the frames sub (in
// that order, at most MaxSortFrames) into the sort scratch sc.s, exactly as
// gather computes them, and returns their count; it sets sc.subNegZero like
// gather sets sc.negZero.
func (sc *pixelScratch) gatherSub(src [][]float32, norm []Affine, sub []int, j int) int {
	n := 0
	negZero := false
	for _, i := range sub {
		x := src[i][j]
		if !finite32(x) {
			continue
		}
		v := float64(x)
		if norm != nil {
			v = float64(norm[i].Gain)*v + float64(norm[i].Offset)
			if !finite64(v) {
				continue
			}
		}
		if v == 0 && math.Signbit(v) {
			negZero = true
		}
		sc.s[n] = v
		n++
	}
	sc.subNegZero = negZero
	return n
}

// rejectStreamed is the streamed rule for one pixel whose n valid samples
// gather loaded and whose subsample gatherSub loaded (ns samples in sc.s): the
// bounds of the clip on the subsample judge every sample,
//
//	v < lo: rejected low; v > hi: rejected high; else kept
//
// and the kept samples are combined: mean Σw·v/Σw in frame order (as
// combineRange, so a pixel with nothing rejected gets gather's meanAll bit
// for bit), min or max the smallest or largest kept value (the first in
// frame order among equal values, which only matters for ±0). With no valid
// sample: NaN, kept 0. When every valid sample is rejected, each method does
// what it does on a full sort: winsor does not apply a test that would
// empty the kept set, so all valid samples are combined (0 rejected); kappa
// applies it, NaN with kept 0. (Winsor's bounds always keep the subsample
// samples of its last kept set, which are among the n, so for winsor the
// case cannot arise; it is handled all the same.)
func (sc *pixelScratch) rejectStreamed(n, ns int) pixelResult {
	if n == 0 {
		return pixelResult{value: math.NaN()}
	}
	lo, hi := sc.bounds(sc.sortedFrom(sc.s[:ns], sc.subNegZero))
	var r pixelResult
	v := sc.v[:n]
	if sc.opt.Combine == CombineMean {
		w := sc.w[:n]
		var sw, swx, sx float64
		for k, x := range v {
			if x < lo {
				r.low++
				continue
			}
			if x > hi {
				r.high++
				continue
			}
			wk := w[k]
			sw += wk
			swx += float64(wk * x)
			sx += x
			r.kept++
		}
		r.value = meanOf(sw, swx, sx, r.kept)
	} else {
		r.value = math.NaN()
		isMin := sc.opt.Combine == CombineMin
		for _, x := range v {
			if x < lo {
				r.low++
				continue
			}
			if x > hi {
				r.high++
				continue
			}
			if r.kept == 0 || (isMin && x < r.value) || (!isMin && x > r.value) {
				r.value = x
			}
			r.kept++
		}
	}
	if r.kept == 0 && sc.opt.Reject == RejectWinsor {
		r = pixelResult{value: sc.combineAll(n), kept: n}
	}
	return r
}

// combineAll combines all n valid samples with mean (gather's meanAll), min
// or max (first in frame order among equal values, as rejectStreamed).
func (sc *pixelScratch) combineAll(n int) float64 {
	if sc.opt.Combine == CombineMean {
		return sc.meanAll
	}
	isMin := sc.opt.Combine == CombineMin
	val := sc.v[0]
	for _, x := range sc.v[1:n] {
		if (isMin && x < val) || (!isMin && x > val) {
			val = x
		}
	}
	return val
}
