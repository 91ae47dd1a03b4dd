package cpu

import (
	"math"
	"slices"
)

// Percentiles returns the percentiles ps (in [0, 100]) of the finite samples of
// x with NumPy's default "linear" method: for n sorted samples the value at
// virtual index (n−1)·p/100, interpolated between its two neighbours with
// NumPy's _lerp (a + t·(b−a), or b − (1−t)·(b−a) when t ≥ 0.5).
//
// NaN and ±Inf are ignored (NumPy's nanpercentile keeps ±Inf; here, as
// everywhere in this package, only finite samples are data). No finite sample
// gives NaN for every p; a p outside [0, 100] or NaN gives NaN for that p.
// Arithmetic is float64 (NumPy works in float32 for float32 input, so results
// may differ from it by about one float32 ulp). x is not modified: the valid
// samples are copied (one allocation of 4·len(x) bytes) and partially ordered
// with quickselect, O(n) per percentile.
func Percentiles(x []float32, ps ...float64) []float64 {
	buf := finiteCopy(x)
	return percentilesInPlace(buf, ps)
}

// finiteCopy returns the finite samples of x in a new slice.
func finiteCopy(x []float32) []float32 {
	n := 0
	for _, v := range x {
		if finite32(v) {
			n++
		}
	}
	buf := make([]float32, 0, n)
	for _, v := range x {
		if finite32(v) {
			buf = append(buf, v)
		}
	}
	return buf
}

// percentilesInPlace is Percentiles on buf, which holds only finite samples
// and is reordered.
func percentilesInPlace(buf []float32, ps []float64) []float64 {
	out := make([]float64, len(ps))
	n := len(buf)
	order := make([]int, 0, len(ps))
	for i, p := range ps {
		if n == 0 || !(p >= 0 && p <= 100) {
			out[i] = math.NaN()
			continue
		}
		order = append(order, i)
	}
	// Ascending percentiles let each selection work on the part above the
	// previous one: after selectK(a, k), a[k:] holds every value of rank ≥ k.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	base := 0
	for _, i := range order {
		vi := float64(n-1) * (ps[i] / 100)
		lo := int(math.Floor(vi))
		t := vi - float64(lo)
		hi := min(lo+1, n-1)
		selectK(buf[base:], lo-base)
		base = lo
		a := float64(buf[lo])
		b := a
		if hi > lo {
			b = float64(minOf(buf[lo+1:]))
		}
		out[i] = lerp(a, b, t)
	}
	return out
}

// lerp is NumPy's _lerp, which is exact at both ends and monotone.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// SigmaClippedStats has the semantics of astropy's
// sigma_clipped_stats(x, sigma=kappa, maxiters=maxIters) with the default
// median centre and population std: non-finite samples are ignored; then,
// repeatedly, samples outside [median − κ·std, median + κ·std] of the
// remaining ones are removed, until nothing is removed or maxIters passes
// were made (maxIters ≤ 0: until nothing is removed). It returns the mean,
// median and std (ddof 0) of what remains and its count n. No finite sample
// gives NaNs and n = 0.
//
// The finite samples are sorted once (see sortedFinite); what a clip keeps is
// then a contiguous run of them. Sums are float64, two-pass for the variance,
// in ascending order, so the result depends only on the multiset of samples.
// x is not modified.
func SigmaClippedStats(x []float32, kappa float64, maxIters int) (mean, median, std float64, n int) {
	return sortedSigmaClip(sortedFinite(x), kappa, maxIters)
}

// meanStd returns the mean and population standard deviation of buf
// (non-empty), two-pass in float64.
func meanStd(buf []float32) (mean, std float64) {
	s := 0.0
	for _, v := range buf {
		s += float64(v)
	}
	mean = s / float64(len(buf))
	ss := 0.0
	for _, v := range buf {
		d := float64(v) - mean
		ss += float64(d * d)
	}
	return mean, math.Sqrt(ss / float64(len(buf)))
}
