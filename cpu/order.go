package cpu

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// insertionLimit is the sample count up to which sortSamples uses insertion
// sort; larger stacks use slices.Sort. Per-pixel sorts of 18..256 samples
// normally run a sorting network instead (sortnet.go), but sortSamples stays
// the exact original algorithm: it still sorts the pixels holding a −0, whose
// tie order it decides.
const insertionLimit = 64

// sortSamples sorts s ascending. s holds no NaN.
func sortSamples(s []float64) {
	if len(s) > insertionLimit {
		slices.Sort(s)
		return
	}
	for i := 1; i < len(s); i++ {
		x := s[i]
		j := i
		for j > 0 && s[j-1] > x {
			s[j] = s[j-1]
			j--
		}
		s[j] = x
	}
}

// sortPairs sorts s ascending and applies the same permutation to idx. Ties
// keep idx order (idx starts in frame order), so which tied frame gets which
// rank is fixed.
func sortPairs(s []float64, idx []int32) {
	n := len(s)
	if n > insertionLimit {
		type pair struct {
			v float64
			i int32
		}
		p := make([]pair, n) // only for stacks of > 64 frames; see StackBand doc
		for k := range p {
			p[k] = pair{s[k], idx[k]}
		}
		slices.SortFunc(p, func(a, b pair) int {
			if c := cmp.Compare(a.v, b.v); c != 0 {
				return c
			}
			return cmp.Compare(a.i, b.i)
		})
		for k := range p {
			s[k], idx[k] = p[k].v, p[k].i
		}
		return
	}
	for i := 1; i < n; i++ {
		x, xi := s[i], idx[i]
		j := i
		for j > 0 && s[j-1] > x {
			s[j], idx[j] = s[j-1], idx[j-1]
			j--
		}
		s[j], idx[j] = x, xi
	}
}

// sortedMedian is the median of sorted s (len > 0): the middle value, or the
// mean of the two middle values for an even count (NumPy median).
func sortedMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return 0.5 * (s[n/2-1] + s[n/2])
}

// sortedMAD is median(|s−m|) for sorted s and its median m, in O(log n).
// The deviations left of m, A[t] = m − s[p−1−t], grow leftwards and those
// right of m, B[t] = s[p+t] − m, grow rightwards (p is the first index with
// s[p] >= m), so the deviations in order are the merge of two ascending runs;
// m−s[i] equals |s[i]−m| exactly (IEEE subtraction is antisymmetric).
//
// The median of the deviations needs their order statistics k = ⌊(n−1)/2⌋
// (and k+1 for even n). The k+1 smallest deviations are A[:i] and B[:k+1−i]
// for the smallest i with A[i] >= B[k−i] (the classic selection in two sorted
// arrays), found by bisection; then order statistic k is max(A[i−1],
// B[k−i]) and k+1 is min(A[i], B[k+1−i]), a missing element counting as
// −Inf in a max and +Inf in a min. An order statistic's value does not
// depend on how ties are split between the runs, so this is exactly the value
// of merging the runs step by step (the original code, and a loop a shader
// may prefer); only a zero deviation's sign can differ, and a zero MAD is
// treated as zero either way (rejectWinsor then falls back to the standard
// deviation). Merging costs O(n) data-dependent branches that mispredict half
// the time on noisy data; the bisection takes about log2(n) steps.
func sortedMAD(s []float64, m float64) float64 {
	n := len(s)
	p := n / 2 // first index with s[p] >= m: true for both parities
	for p > 0 && s[p-1] >= m {
		p--
	}
	nb := n - p // len(A) = p, len(B) = nb
	k := (n - 1) / 2
	// The answer lies in [lo, hi] and the test holds at hi (A[p] = +Inf,
	// B[−1] = −Inf), so it is only evaluated below hi, where it reads
	// 0 <= t < p and 0 <= k−t < nb. Branch-free bisection (candidates
	// [i, i+c)): the step is a 0/1 count, not a jump that mispredicts half
	// the time.
	lo, hi := max(0, k+1-nb), min(k+1, p)
	i, c := lo, hi-lo+1
	for c > 1 {
		half := c / 2
		t := i + half - 1
		i += half * b2i(m-s[p-1-t] < s[p+k-t]-m) // A[t] < B[k−t]: answer > t
		c -= half
	}
	j := k + 1 - i
	d1 := math.Inf(-1)
	if i > 0 {
		d1 = m - s[p-i]
	}
	if j > 0 {
		d1 = max(d1, s[p+j-1]-m)
	}
	if n%2 == 1 {
		return d1
	}
	d2 := math.Inf(1)
	if i < p {
		d2 = m - s[p-1-i]
	}
	if j < nb {
		d2 = min(d2, s[p+j]-m)
	}
	return 0.5 * (d1 + d2)
}

// b2i is 1 for true and 0 for false; the compiler emits SETcc, no branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// selectK reorders a so that a[k] is the value of rank k, a[:k] <= a[k] and
// a[k+1:] >= a[k] (Hoare quickselect, median-of-three pivot). a holds no NaN.
// A depth budget falls back to sorting so adversarial inputs stay O(n log n).
func selectK(a []float32, k int) {
	lo, hi := 0, len(a)-1
	budget := 2*bits.Len(uint(len(a))) + 8
	for hi > lo {
		if hi-lo < 16 || budget == 0 {
			slices.Sort(a[lo : hi+1])
			return
		}
		budget--
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// a[lo..j] <= p, a[i..hi] >= p, and everything between equals p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// minOf returns the smallest value of a non-empty a.
func minOf(a []float32) float32 {
	m := a[0]
	for _, x := range a[1:] {
		if x < m {
			m = x
		}
	}
	return m
}
