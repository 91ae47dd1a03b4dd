package cpu

import "math"

// sortedFinite returns the finite samples of x sorted ascending, by an LSD
// radix sort on their order-preserving uint32 keys (three passes of 11 bits,
// O(n), three buffers of 4·n bytes). Passes whose digit is the same for every
// key are skipped (usually the top one: a frame's samples share sign and
// exponent range). −0 sorts before +0, which is harmless: they are equal.
func sortedFinite(x []float32) []float32 {
	const radix = 11
	const buckets = 1 << radix
	var count [3][buckets]int
	n := 0
	for _, v := range x {
		if finite32(v) {
			n++
		}
	}
	keys := make([]uint32, 0, n)
	for _, v := range x {
		if finite32(v) {
			k := floatKey(math.Float32bits(v))
			keys = append(keys, k)
			count[0][k&(buckets-1)]++
			count[1][(k>>radix)&(buckets-1)]++
			count[2][k>>(2*radix)]++
		}
	}
	out := make([]float32, n)
	if n == 0 {
		return out
	}
	src, dst := keys, make([]uint32, n)
	for p := range 3 {
		c := &count[p]
		shift := uint(p * radix)
		if c[(src[0]>>shift)&(buckets-1)] == n {
			continue // every key has this digit: the pass would move nothing
		}
		pos := 0
		for d := range c {
			cnt := c[d]
			c[d] = pos
			pos += cnt
		}
		for _, k := range src {
			d := (k >> shift) & (buckets - 1)
			dst[c[d]] = k
			c[d]++
		}
		src, dst = dst, src
	}
	for i, k := range src {
		out[i] = math.Float32frombits(keyFloat(k))
	}
	return out
}

// floatKey maps float32 bits to a key whose unsigned order is the numeric
// order: negative values have every bit flipped, positive ones the sign bit.
func floatKey(b uint32) uint32 {
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

// keyFloat inverts floatKey.
func keyFloat(k uint32) uint32 {
	if k&(1<<31) != 0 {
		return k &^ (1 << 31)
	}
	return ^k
}

// sortedPercentile is the NumPy "linear" percentile p ∈ [0, 100] of sorted
// s (non-empty), exactly as percentilesInPlace computes it.
func sortedPercentile(s []float32, p float64) float64 {
	n := len(s)
	vi := float64(n-1) * (p / 100)
	lo := int(math.Floor(vi))
	t := vi - float64(lo)
	hi := min(lo+1, n-1)
	return lerp(float64(s[lo]), float64(s[hi]), t)
}

// sortedSigmaClip is sigmaClip on sorted finite samples s. The samples kept by
// a clip are always a contiguous run [a, b) of s (the bounds are values), so
// each pass needs the median of the run (its middle), its mean and std (two
// passes over the run, float64, ascending) and two boundary searches.
func sortedSigmaClip(s []float32, kappa float64, maxIters int) (mean, median, std float64, n int) {
	a, b := 0, len(s)
	for it := 0; maxIters <= 0 || it < maxIters; it++ {
		if b == a {
			break
		}
		med := sortedMedian32(s[a:b])
		_, sd := meanStd(s[a:b])
		lo, hi := med-kappa*sd, med+kappa*sd
		na := a + lowerBound(s[a:b], lo)
		nb := a + upperBound(s[a:b], hi)
		if na == a && nb == b {
			break
		}
		a, b = na, max(nb, na)
	}
	if b == a {
		nan := math.NaN()
		return nan, nan, nan, 0
	}
	mean, std = meanStd(s[a:b])
	return mean, sortedMedian32(s[a:b]), std, b - a
}

// sortedMedian32 is the NumPy median of sorted non-empty s.
func sortedMedian32(s []float32) float64 {
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return 0.5 * (float64(s[n/2-1]) + float64(s[n/2]))
}

// lowerBound is the first index i of sorted s with float64(s[i]) >= x.
func lowerBound(s []float32, x float64) int {
	i, j := 0, len(s)
	for i < j {
		h := int(uint(i+j) >> 1)
		if float64(s[h]) < x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// upperBound is the first index i of sorted s with float64(s[i]) > x.
func upperBound(s []float32, x float64) int {
	i, j := 0, len(s)
	for i < j {
		h := int(uint(i+j) >> 1)
		if float64(s[h]) <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}
