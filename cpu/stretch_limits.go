package cpu

import (
	"math"
	"sync"
)

// The stretch's limits are two percentiles of a whole preview plane, serial in Percentiles
// (a copy of the finite samples, then quickselect) and, after the per-pixel mapping went
// parallel, the largest serial part of a preview. radixPercentiles finds the same order
// statistics by counting instead: samples are ranked by the 32-bit key of their float (an
// order-preserving map of the bits, floatKey), first by its high 16 bits, then, within the few buckets
// that hold a wanted rank, by its low 16 bits. A full key is one float, so the counts give the
// sample of each rank exactly, and both passes split the plane over goroutines (counts add up
// the same in any order).

// radixBits is the width of each of the two counting passes.
const radixBits = 16

// radixPercentiles is Percentiles(x, ps...) computed by counting, on up to workers
// goroutines. The two order statistics around each percentile are the same samples as
// Percentiles selects, up to the sign of a zero (−0 and +0 compare equal there, and which one
// quickselect leaves at a rank is unspecified), and they are interpolated by the same lerp.
func radixPercentiles(x []float32, ps []float64, workers int) []float64 {
	const buckets = 1 << radixBits
	chunks := splitRange(len(x), workers)
	// Pass 1: how many finite samples per high half of the key.
	hists := make([][]uint32, len(chunks))
	parallelChunks(chunks, func(i, lo, hi int) {
		h := make([]uint32, buckets)
		for _, v := range x[lo:hi] {
			if finite32(v) {
				h[floatKey(math.Float32bits(v))>>radixBits]++
			}
		}
		hists[i] = h
	})
	count := make([]uint64, buckets)
	var n uint64
	for b := range count {
		for _, h := range hists {
			count[b] += uint64(h[b])
		}
		n += count[b]
	}
	out := make([]float64, len(ps))
	type rank struct {
		r      uint64 // rank among the finite samples
		bucket int    // high half of its key
		within uint64 // rank within the bucket
	}
	var want []rank
	idx := make([][2]int, len(ps)) // indexes into want of each p's two ranks
	for i, p := range ps {
		if n == 0 || !(p >= 0 && p <= 100) {
			out[i] = math.NaN()
			idx[i] = [2]int{-1, -1}
			continue
		}
		vi := float64(n-1) * (p / 100)
		lo := uint64(math.Floor(vi))
		hi := min(lo+1, n-1)
		idx[i] = [2]int{len(want), len(want) + 1}
		want = append(want, rank{r: lo}, rank{r: hi})
	}
	if len(want) == 0 {
		return out
	}
	// Locate each wanted rank's bucket and its rank inside it.
	var below uint64
	for b, c := range count {
		for k := range want {
			if r := want[k].r; r >= below && r < below+c {
				want[k].bucket, want[k].within = b, r-below
			}
		}
		below += c
	}
	// Pass 2: per wanted bucket, how many samples per low half of the key.
	slot := map[int]int{}
	var wantBuckets []int
	for _, w := range want {
		if _, ok := slot[w.bucket]; !ok {
			slot[w.bucket] = len(wantBuckets)
			wantBuckets = append(wantBuckets, w.bucket)
		}
	}
	low := make([][][]uint32, len(chunks))
	parallelChunks(chunks, func(i, lo, hi int) {
		h := make([][]uint32, len(wantBuckets))
		for j := range h {
			h[j] = make([]uint32, buckets)
		}
		for _, v := range x[lo:hi] {
			if !finite32(v) {
				continue
			}
			k := floatKey(math.Float32bits(v))
			for j, b := range wantBuckets {
				if int(k>>radixBits) == b {
					h[j][k&(buckets-1)]++
					break
				}
			}
		}
		low[i] = h
	})
	val := make([]float64, len(want))
	for k, w := range want {
		j := slot[w.bucket]
		var below uint64
		for l := range buckets {
			var c uint64
			for _, h := range low {
				c += uint64(h[j][l])
			}
			if w.within < below+c {
				val[k] = float64(math.Float32frombits(keyFloat(uint32(w.bucket)<<radixBits | uint32(l))))
				break
			}
			below += c
		}
	}
	for i, p := range ps {
		if idx[i][0] < 0 {
			continue
		}
		vi := float64(n-1) * (p / 100)
		t := vi - math.Floor(vi)
		out[i] = lerp(val[idx[i][0]], val[idx[i][1]], t)
	}
	return out
}

// splitRange cuts [0, n) into up to workers contiguous [lo, hi) ranges.
func splitRange(n, workers int) [][2]int {
	workers = max(1, min(workers, n))
	r := make([][2]int, workers)
	for i := range r {
		r[i] = [2]int{n * i / workers, n * (i + 1) / workers}
	}
	return r
}

// parallelChunks calls fn(i, lo, hi) for every chunk, each on its own goroutine.
func parallelChunks(chunks [][2]int, fn func(i, lo, hi int)) {
	if len(chunks) == 1 {
		fn(0, chunks[0][0], chunks[0][1])
		return
	}
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Go(func() { fn(i, c[0], c[1]) })
	}
	wg.Wait()
}
