package pipeline

import (
	"math"
	"slices"
	"sync"
)

// layeredBand reprojects every input that reaches rows [by0, by1) into its own layer and
// combines them per pixel (Combine median or kappa) into a.pix and a.cov.
func (a *assembler) layeredBand(by0, by1 int) error {
	ins := a.bandInputs(by0, by1)
	layers := a.layers[:len(ins)]
	if err := a.reprojectAll(ins, layers, by0, by1); err != nil {
		return err
	}
	rows := by1 - by0
	m := rows * a.w
	workers := min(a.opt.workers(), rows)
	var wg sync.WaitGroup
	for g := range workers {
		r0, r1 := rows*g/workers, rows*(g+1)/workers
		wg.Go(func() {
			var sc combineScratch
			for c := range a.nc {
				for r := r0; r < r1; r++ {
					y := by0 + r
					for x := range a.w {
						sc.gather(layers, c, x, y)
						v, w := sc.combine(a.opt)
						a.pix[c*m+r*a.w+x], a.cov[c*m+r*a.w+x] = v, w
					}
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// combineScratch is one goroutine's per-pixel working memory.
type combineScratch struct {
	s []sample
}

// sample is one input's corrected value at a pixel and its feather weight.
type sample struct{ v, w float64 }

// gather collects, in input order, the samples of the layers at output pixel (x, y) of
// channel c: finite values with a finite weight > 0 (what cpu.Accumulate would add), corrected
// as Accumulate corrects them.
func (sc *combineScratch) gather(layers []layer, c, x, y int) {
	sc.s = sc.s[:0]
	for i := range layers {
		l := &layers[i]
		if !l.ok || x < l.x0 || x >= l.x0+l.bw || y < l.ry0 || y >= l.ry0+l.rows {
			continue
		}
		k := (y-l.ry0)*l.bw + x - l.x0
		v, w := float64(l.val[c*l.rows*l.bw+k]), float64(l.wt[k]*l.in.weight)
		if v-v != 0 || !(w > 0) || math.IsInf(w, 1) {
			continue
		}
		corr := l.in.correction()
		sc.s = append(sc.s, sample{float64(float64(corr.Gain)*v) + float64(corr.Offset), w})
	}
}

// combine reduces the gathered samples to a value and its coverage (the sum of the weights of
// the samples used); NaN and 0 when there are none.
//
// median: the median of the values (the mean of the two middle ones for an even count),
// weights ignored, as the stacking median; coverage is the sum of all weights.
//
// kappa: the median-centred kappa-sigma clip of cpu's stacking (rejectKappa: at most
// kappaIterations rounds while at least 3 samples are kept; centre = median, σ = population
// standard deviation of the kept values; reject v < m − κlow·σ or v > m + κhigh·σ; stop when
// nothing changes), then the feather-weighted mean Σw·v/Σw of the kept samples. Weighting the
// kept samples keeps the seams feathered as with mean; the clip itself ignores the weights, so
// a satellite trail near an input's edge (low weight) is judged by its value alone. With one
// outlier among n samples its distance to the median is at most n/√(n−1) σ: 2.1σ for 3
// inputs, so a clip that must work on 3 overlapping inputs needs κ below that (κ = 3 needs 10).
// cpu.StackBand is not reused because its weights are per frame, not per pixel.
func (sc *combineScratch) combine(opt MosaicOptions) (float32, float32) {
	s := sc.s
	if len(s) == 0 {
		return float32(math.NaN()), 0
	}
	// Sort by value, ties by input order (stable), so the result is deterministic.
	slices.SortStableFunc(s, func(p, q sample) int {
		switch {
		case p.v < q.v:
			return -1
		case p.v > q.v:
			return 1
		}
		return 0
	})
	if opt.Combine == CombineMedian {
		var cov float64
		for _, x := range s {
			cov += x.w
		}
		n := len(s)
		med := s[n/2].v
		if n%2 == 0 {
			med = (s[n/2-1].v + s[n/2].v) / 2
		}
		return float32(med), float32(cov)
	}
	a, b := kappaClip(s, float64(opt.KappaLow), float64(opt.KappaHigh))
	var sw, swv float64
	for _, x := range s[a:b] {
		sw += x.w
		swv += float64(x.w * x.v)
	}
	return float32(swv / sw), float32(sw)
}

// kappaClip returns the kept run s[a:b] of the value-sorted samples s (see combine).
func kappaClip(s []sample, kl, kh float64) (a, b int) {
	a, b = 0, len(s)
	for range kappaIterations {
		if b-a < 3 {
			break
		}
		k := s[a:b]
		n := len(k)
		m := k[n/2].v
		if n%2 == 0 {
			m = (k[n/2-1].v + k[n/2].v) / 2
		}
		mean := 0.0
		for _, x := range k {
			mean += x.v
		}
		mean /= float64(n)
		ss := 0.0
		for _, x := range k {
			d := x.v - mean
			ss += float64(d * d)
		}
		sd := math.Sqrt(ss / float64(n))
		if !(sd > 0) {
			break
		}
		lo, hi := m-kl*sd, m+kh*sd
		na, nb := a, b
		for na < nb && s[na].v < lo {
			na++
		}
		for nb > na && s[nb-1].v > hi {
			nb--
		}
		if na == a && nb == b {
			break
		}
		a, b = na, nb
	}
	return a, b
}
