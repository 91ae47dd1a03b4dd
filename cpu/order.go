package cpu

import (
	"cmp"
	"math/bits"
	"slices"
)

// insertionLimit is the sample count up to which per-pixel sorts use insertion
// sort: for the usual 8–64 frames it beats pdqsort's setup cost, and it is the
// same simple loop a shader would run. Larger stacks use slices.Sort.
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

// sortedMAD is median(|s−m|) for sorted s and its median m, in O(n): the
// deviations left of m grow leftwards and those right of m grow rightwards, so
// merging the two runs yields them in order without a second sort. m−s[i]
// equals |s[i]−m| exactly (IEEE subtraction is antisymmetric).
func sortedMAD(s []float64, m float64) float64 {
	n := len(s)
	p := n / 2 // first index with s[p] >= m: true for both parities
	for p > 0 && s[p-1] >= m {
		p--
	}
	l, r := p-1, p
	k1, k2 := (n-1)/2, n/2
	var d1, d2 float64
	for k := 0; k <= k2; k++ {
		var d float64
		if r >= n || (l >= 0 && m-s[l] <= s[r]-m) {
			d = m - s[l]
			l--
		} else {
			d = s[r] - m
			r++
		}
		if k == k1 {
			d1 = d
		}
		d2 = d
	}
	if k1 == k2 {
		return d1
	}
	return 0.5 * (d1 + d2)
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
