package pipeline

import (
	"math"
	"sync"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// rowProfile is, for every lattice row of an input's coordinate grids (output rows on
// multiples of mosaicGridStep, sampled at the columns bx0, bx0+step, … that reprojectInput's
// cpu.CoordGrid uses), the least and greatest input row its samples map to. The window of any
// band, and so the plan's bound on it, follows from it without evaluating the WCS again, and
// it is exactly what reprojectInput reads: the same samples, the same min and max.
type rowProfile struct {
	l0     int       // lattice index of lo[0] (output row l0·mosaicGridStep)
	lo, hi []float64 // +Inf and −Inf where no sample of the row is defined
}

// latticeSamples is how many samples cpu.NewCoordGrid takes along n output pixels.
func latticeSamples(n int) int {
	return max((n-1+mosaicGridStep-1)/mosaicGridStep+1, 2)
}

// gridRows are the lattice indices [l0, l1] of the coordinate grid that reprojectInput builds
// for output rows [ry0, ry1): it starts one step above ry0's lattice row and reaches at least
// two steps below ry1, so that each output pixel interpolates the same samples in any band.
func gridRows(ry0, ry1 int) (l0, l1, gy0, gh int) {
	gy0 = (ry0/mosaicGridStep - 1) * mosaicGridStep
	gh = ry1 + 2*mosaicGridStep - gy0
	l0 = gy0 / mosaicGridStep
	return l0, l0 + latticeSamples(gh) - 1, gy0, gh
}

// newRowProfile samples the mapping output → sky → input of in over its whole box.
func newRowProfile(in *mosaicInput, grid *wcs.WCS) *rowProfile {
	l0, _, _, _ := gridRows(in.y0, in.y0+1)
	_, l1, _, _ := gridRows(in.y1-1, in.y1)
	p := &rowProfile{l0: l0, lo: make([]float64, l1-l0+1), hi: make([]float64, l1-l0+1)}
	nx := latticeSamples(in.x1 - in.x0)
	for k := range p.lo {
		lo, hi := math.Inf(1), math.Inf(-1)
		y := float64((l0 + k) * mosaicGridStep)
		for i := range nx {
			// The same arguments as reprojectInput's grid function: float64(bx0)+x with x the
			// sample's offset, so the same values to the last bit.
			ra, dec, err := grid.PixelToWorld(float64(in.x0)+float64(i*mosaicGridStep), y)
			if err != nil {
				continue
			}
			ix, iy, err := in.w.WorldToPixel(ra, dec)
			if err != nil || math.IsNaN(ix) || math.IsNaN(iy) {
				continue
			}
			lo, hi = min(lo, iy), max(hi, iy)
		}
		p.lo[k], p.hi[k] = lo, hi
	}
	return p
}

// profileInputs computes every input's rowProfile, workers at a time.
func profileInputs(inputs []*mosaicInput, grid *wcs.WCS, workers int) {
	var wg sync.WaitGroup
	next := make(chan *mosaicInput)
	for range max(1, workers) {
		wg.Go(func() {
			for in := range next {
				in.rows = newRowProfile(in, grid)
			}
		})
	}
	for _, in := range inputs {
		if in.x0 < in.x1 && in.y0 < in.y1 {
			next <- in
		}
	}
	close(next)
	wg.Wait()
}

// window is the input rows [wy0, wy1) that reprojecting output rows [ry0, ry1) of in reads:
// the rows its coordinate grid maps to, widened by the kernel's reach and the feather width
// plus 2 (see assembler), clipped to the input. ok is false when those output rows map
// outside the input.
func (in *mosaicInput) window(ry0, ry1, feather int) (wy0, wy1 int, ok bool) {
	p := in.rows
	l0, l1, _, _ := gridRows(ry0, ry1)
	lo, hi := math.Inf(1), math.Inf(-1)
	for l := max(l0, p.l0); l <= min(l1, p.l0+len(p.lo)-1); l++ {
		lo, hi = min(lo, p.lo[l-p.l0]), max(hi, p.hi[l-p.l0])
	}
	ih := in.r.meta.Height
	if !(lo <= float64(ih)-0.5 && hi >= -0.5) {
		return 0, 0, false
	}
	pad := float64(lanczosRadius + feather + 2)
	wy0 = int(max(math.Floor(lo-pad), 0))
	wy1 = int(min(math.Ceil(hi+pad)+1, float64(ih)))
	return wy0, wy1, true
}

// maxWindowPixels is the largest window (input width × rows) that a band of the given height
// reads, over every band and input: what one slot holds at most.
func maxWindowPixels(inputs []*mosaicInput, height, rows, feather int) int64 {
	var worst int64
	for by0 := 0; by0 < height; by0 += rows {
		by1 := min(by0+rows, height)
		for _, in := range inputs {
			ry0, ry1 := max(by0, in.y0), min(by1, in.y1)
			if ry0 >= ry1 || in.x0 >= in.x1 || in.rows == nil {
				continue
			}
			if wy0, wy1, ok := in.window(ry0, ry1, feather); ok {
				worst = max(worst, int64(in.r.meta.Width)*int64(wy1-wy0))
			}
		}
	}
	return worst
}
