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
	a, b := 0, n
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
		lo := m - sc.kl*sd
		hi := m + sc.kh*sd
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
	r := pixelResult{kept: b - a, low: a, high: n - b}
	if b > a {
		r.value = sc.combineKept(n, s, a, b)
	} else {
		r.value = math.NaN()
	}
	return r
}
