package cpu

import "math"

// linearMinKeep is the sample count below which linear-fit clipping stops: a
// line through two points has no residuals to judge them by.
const linearMinKeep = 3

// linearSigmaFloor is the relative residual spread under which the fit is exact.
const linearSigmaFloor = 1e-12

// rejectLinear is a per-pixel linear-fit clip, after PixInsight's "Linear Fit
// Clipping" (PixInsight Reference Documentation, ImageIntegration, "Pixel
// Rejection Algorithms"): the pixel stack is sorted, a straight line is fitted
// to the sorted values as a function of their rank, and pixels whose distance
// to the line exceeds the low/high sigma factors times the average absolute
// deviation of the fit are rejected. PixInsight recommends it for large sets
// (≥ 15 frames) where the sky level varies between frames, because a line
// follows such a gradient across the stack where a single centre value does not.
//
// Here, with the valid samples sorted ascending (ties in frame order) and
// given ranks k = 0..n−1 that stay attached to them:
//
//	kept = all
//	repeat ≤ Iterations, while len(kept) ≥ 3:
//	    fit v = a + b·k over kept by least squares (two-pass, in rank order)
//	    σ = mean |v − (a + b·k)| over kept; stop if σ ≤ 1e-12·max(1,|mean v|)
//	    reject kept samples with residual < −κlow·σ (low) or > κhigh·σ (high)
//	    stop when nothing new was rejected
//	value = Combine(kept)
//
// PixInsight fits the line by minimising the average absolute deviation; the
// least-squares fit used here is simpler to reproduce exactly in a shader and
// gives the same rejections on the usual outliers (hot pixels, satellite
// trails, cosmic rays at the ends of the sorted stack).
func (sc *pixelScratch) rejectLinear(n int) pixelResult {
	if n == 0 {
		return pixelResult{value: math.NaN()}
	}
	s := sc.s[:n]
	idx := sc.idx[:n]
	keep := sc.keep[:n]
	copy(s, sc.v[:n])
	for k := range idx {
		idx[k] = int32(k)
		keep[k] = true
	}
	sortPairs(s, idx)
	cnt := n
	low, high := 0, 0
	for range sc.opt.Iterations {
		if cnt < linearMinKeep {
			break
		}
		var mk, mv float64
		for k, x := range s {
			if keep[idx[k]] {
				mk += float64(k)
				mv += x
			}
		}
		mk /= float64(cnt)
		mv /= float64(cnt)
		var sxx, sxy float64
		for k, x := range s {
			if keep[idx[k]] {
				dk := float64(k) - mk
				sxx += float64(dk * dk)
				sxy += float64(dk * (x - mv))
			}
		}
		slope := sxy / sxx // sxx > 0: at least 3 distinct ranks
		icpt := mv - slope*mk
		sad := 0.0
		for k, x := range s {
			if keep[idx[k]] {
				sad += math.Abs(x - (icpt + float64(slope*float64(k))))
			}
		}
		sigma := sad / float64(cnt)
		// Samples already on the line up to float rounding: float32 inputs
		// resolve ~6e-8 relative, so a spread below 1e-12 relative is noise of
		// the fit arithmetic, not data, and must not reject anything.
		if sigma <= linearSigmaFloor*max(1, math.Abs(mv)) {
			break
		}
		lo, hi := -sc.kl*sigma, sc.kh*sigma
		changed := false
		for k, x := range s {
			if !keep[idx[k]] {
				continue
			}
			r := x - (icpt + float64(slope*float64(k)))
			switch {
			case r < lo:
				low++
			case r > hi:
				high++
			default:
				continue
			}
			keep[idx[k]] = false
			cnt--
			changed = true
		}
		if !changed {
			break
		}
	}
	res := pixelResult{kept: cnt, low: low, high: high}
	if sc.opt.Combine == CombineMean {
		if cnt == n {
			res.value = sc.meanAll // nothing rejected: gather made these sums
		} else {
			res.value = sc.meanMasked(n, keep)
		}
		return res
	}
	// Compact the kept samples, still ascending, for median/min/max.
	j := 0
	for k, x := range s {
		if keep[idx[k]] {
			s[j] = x
			j++
		}
	}
	res.value = combineSorted(sc.opt.Combine, s[:j])
	return res
}

// meanMasked is combineRange's mean over the samples flagged in keep.
func (sc *pixelScratch) meanMasked(n int, keep []bool) float64 {
	var sw, swx, sx float64
	cnt := 0
	for k := range n {
		if !keep[k] {
			continue
		}
		v, w := sc.v[k], sc.w[k]
		sw += w
		swx += float64(w * v)
		sx += v
		cnt++
	}
	return meanOf(sw, swx, sx, cnt)
}
