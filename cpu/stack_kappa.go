package cpu

import "math"

// kappaMinKeep is the sample count below which kappa stops rejecting: the
// standard deviation of two samples says nothing about which one is wrong.
const kappaMinKeep = 3

// rejectKappa is an iterative, median-centred kappa-sigma clip:
//
//	kept = all valid samples
//	repeat ≤ Iterations, while len(kept) ≥ 3:
//	    m = median(kept); s = std(kept) (population, two-pass, ascending order)
//	    reject kept samples with v < m − κlow·s (low) or v > m + κhigh·s (high)
//	    stop when nothing new was rejected
//	value = Combine(kept)
//
// Rejection is by value, so the kept set is always a contiguous run of the
// sorted samples; tied values are kept or rejected together. (ZeMosaic's CPU
// fallback makes a single pass; iterating to a fixed point is the classic
// algorithm and what PixInsight and Siril do.)
func (sc *pixelScratch) rejectKappa(n int) pixelResult {
	if n == 0 {
		return pixelResult{value: math.NaN()}
	}
	s := sc.sorted(n)
	a, b, _, _ := sc.kappaClip(s)
	r := pixelResult{kept: b - a, low: a, high: n - b}
	if b > a {
		r.value = sc.combineKept(n, s, a, b)
	} else {
		r.value = math.NaN()
	}
	return r
}

// kappaClip runs rejectKappa's iterations on the sorted samples s and returns
// the kept run s[a:b] (possibly empty) and the final bounds [lo, hi] used by
// the streamed rule (stack_stream.go): those of the last test made, whether
// it rejected something (even everything) or nothing; ±Inf when no test was
// made. An iteration with fewer than 3 kept samples or s = 0 makes no test
// and ends the loop. (s = 0 means that every kept sample equals m, so the
// test m ± κ·0 would have rejected nothing: skipping it changes no kept set,
// only the bounds that the streamed rule inherits, which then stay those of
// the previous test instead of collapsing to [m, m].)
func (sc *pixelScratch) kappaClip(s []float64) (a, b int, lo, hi float64) {
	a, b = 0, len(s)
	lo, hi = math.Inf(-1), math.Inf(1)
	for range sc.opt.Iterations {
		if b-a < kappaMinKeep {
			break
		}
		k := s[a:b]
		m := sortedMedian(k)
		mean := 0.0
		for _, x := range k {
			mean += x
		}
		mean /= float64(len(k))
		ss := 0.0
		for _, x := range k {
			d := x - mean
			ss += float64(d * d)
		}
		sd := math.Sqrt(ss / float64(len(k)))
		if !(sd > 0) {
			break
		}
		lo = m - sc.kl*sd
		hi = m + sc.kh*sd
		na, nb := a, b
		for na < nb && s[na] < lo {
			na++
		}
		for nb > na && s[nb-1] > hi {
			nb--
		}
		if na == a && nb == b {
			break
		}
		a, b = na, nb
	}
	return a, b, lo, hi
}
