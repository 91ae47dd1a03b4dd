package cpu_test

import (
	"math"
	"slices"

	"github.com/zmosaic/zmosaic/cpu"
)

// The streamed rule written out plainly, for TestStackBandStreamedMatchesReference
// and TestRejectBoundsHandCases.

// allFrames is 0..n−1.
func allFrames(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// validNormalised returns pixel j's valid normalised samples of the frames
// idx, in that order.
func validNormalised(src [][]float32, norm []cpu.Affine, idx []int, j int) []float64 {
	var v []float64
	for _, i := range idx {
		x := float64(src[i][j])
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		if norm != nil {
			x = float64(norm[i].Gain)*x + float64(norm[i].Offset)
		}
		v = append(v, x)
	}
	return v
}

// refMedian is the median of sorted s.
func refMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return 0.5 * (s[n/2-1] + s[n/2])
}

// refBounds is a straightforward float64 transcription of the final bounds
// of the winsor and kappa clips on the samples v (see cpu.RejectBounds):
// slices.Sort, MAD by sorting the deviations, plain loops. Its arithmetic is
// the documented one, operation for operation (Huber sums run outwards from
// the median, products rounded before they are added), so it agrees bit for
// bit.
func refBounds(v []float64, opt cpu.StackOptions) (lo, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	kl, kh := float64(opt.KappaLow), float64(opt.KappaHigh)
	lo, hi = math.Inf(-1), math.Inf(1)
	a, b := 0, len(s)
	popStd := func(k []float64) float64 {
		mean, ss := 0.0, 0.0
		for _, x := range k {
			mean += x
		}
		mean /= float64(len(k))
		for _, x := range k {
			d := x - mean
			ss += float64(d * d)
		}
		return math.Sqrt(ss / float64(len(k)))
	}
	for range opt.Iterations {
		if b-a < 3 {
			break
		}
		k := s[a:b]
		nk := len(k)
		m := refMedian(k)
		var sigma float64
		if opt.Reject == cpu.RejectKappa {
			sigma = popStd(k)
			if !(sigma > 0) {
				break
			}
		} else {
			dev := make([]float64, nk)
			for i, x := range k {
				dev[i] = math.Abs(x - m)
			}
			slices.Sort(dev)
			sigma = 1.4826 * refMedian(dev)
			if !(sigma > 0) {
				sigma = popStd(k)
				if !(sigma > 0) {
					break
				}
			}
			p := nk / 2
			for range 50 {
				clo, chi := m-2*sigma, m+2*sigma
				i0, i1 := 0, nk
				for i0 < p && k[i0] < clo {
					i0++
				}
				for i1 > p && k[i1-1] > chi {
					i1--
				}
				var l1, l2, r1, r2 float64
				for j := p - 1; j >= i0; j-- {
					d := k[j] - m
					l1 += d
					l2 += float64(d * d)
				}
				for j := p; j < i1; j++ {
					d := k[j] - m
					r1 += d
					r2 += float64(d * d)
				}
				dl, dh := clo-m, chi-m
				t1 := (float64(i0)*dl + l1) + (r1 + float64(nk-i1)*dh)
				t2 := (float64(i0)*float64(dl*dl) + l2) + (r2 + float64(nk-i1)*float64(dh*dh))
				inv := 1 / float64(nk)
				mu := t1 * inv
				variance := (t2*inv - float64(mu*mu)) * (float64(nk) / float64(nk-1))
				sNew := 1.0422680 * math.Sqrt(math.Max(0, variance))
				conv := math.Abs(sNew-sigma) <= 5e-4*sigma
				sigma = sNew
				if conv || !(sigma > 0) {
					break
				}
			}
			if !(sigma > 0) {
				break
			}
		}
		tlo, thi := m-kl*sigma, m+kh*sigma
		na, nb := a, b
		for na < nb && s[na] < tlo {
			na++
		}
		for nb > na && s[nb-1] > thi {
			nb--
		}
		if na == nb && opt.Reject == cpu.RejectWinsor {
			break
		}
		lo, hi = tlo, thi
		if na == a && nb == b {
			break
		}
		a, b = na, nb
	}
	return lo, hi
}

// streamReference stacks one pixel by the streamed rule, written plainly:
// bounds from the subsample (frames k·n/256), then one pass over all valid
// samples in frame order.
func streamReference(src [][]float32, norm []cpu.Affine, weights []float32, j int, opt cpu.StackOptions) (value float64, kept, low, high int) {
	n := len(src)
	var sub []int
	for k := range 256 {
		sub = append(sub, k*n/256)
	}
	lo, hi := refBounds(validNormalised(src, norm, sub, j), opt)
	var v, w []float64
	sumW := 0.0
	for i := range src {
		x := float64(src[i][j])
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		if norm != nil {
			x = float64(norm[i].Gain)*x + float64(norm[i].Offset)
		}
		wt := 1.0
		if weights != nil {
			wt = float64(weights[i])
		}
		v = append(v, x)
		w = append(w, wt)
		sumW += wt
	}
	if len(v) == 0 {
		return math.NaN(), 0, 0, 0
	}
	if sumW == 0 {
		for i := range w {
			w[i] = 1
		}
	}
	combine := func(lo, hi float64) (float64, int, int, int) {
		var sw, swx, sx float64
		val := math.NaN()
		cnt, l, h := 0, 0, 0
		for i, x := range v {
			switch {
			case x < lo:
				l++
			case x > hi:
				h++
			default:
				sw += w[i]
				swx += float64(w[i] * x)
				sx += x
				if cnt == 0 || (opt.Combine == cpu.CombineMin && x < val) || (opt.Combine == cpu.CombineMax && x > val) {
					val = x
				}
				cnt++
			}
		}
		if opt.Combine == cpu.CombineMean {
			switch {
			case cnt == 0:
				val = math.NaN()
			case sw > 0:
				val = swx / sw
			default:
				val = sx / float64(cnt)
			}
		}
		return val, cnt, l, h
	}
	value, kept, low, high = combine(lo, hi)
	if kept == 0 && opt.Reject == cpu.RejectWinsor {
		return combine(math.Inf(-1), math.Inf(1))
	}
	return value, kept, low, high
}
