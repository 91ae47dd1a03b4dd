package cpu

import (
	"math"
)

// interpKind is Interp as a small integer, so that the per-pixel code
// switches on an int instead of comparing strings.
type interpKind uint8

const (
	kindBilinear interpKind = iota
	kindBicubic
	kindLanczos3
)

func (i Interp) kind() interpKind {
	switch i {
	case InterpBilinear:
		return kindBilinear
	case InterpBicubic:
		return kindBicubic
	}
	return kindLanczos3
}

// maxTaps is the widest kernel's taps per axis (Lanczos-3).
const maxTaps = 6

// reprojectPixel is the per-pixel function that the WGSL twin must compute:
// footprint test, per-axis weights, clamped taps, NaN test on non-zero
// weights, float64 sum row by row (outer loop j, inner loop i, each sum
// starting from +0), one rounding.
//
// Fast path: when every weight of both axes is non-zero and every tap lies
// inside the image, the clamps and the per-tap NaN tests are dropped and the
// same sum, in the same order, is tested once at the end. That is the same
// function: a non-finite tap with a non-zero weight makes the float64 sum
// non-finite (NaN·w = NaN, ±Inf·w = ±Inf, Inf − Inf = NaN), and finite taps
// cannot overflow it (|v| < 3.5e38 and Σ|w| < 2 per axis).
func reprojectPixel(img srcImage, ix, iy float64, kind interpKind) float32 {
	if !inFootprint(img, ix, iy) {
		return float32(math.NaN())
	}
	fx, fy := math.Floor(ix), math.Floor(iy)
	var wx, wy [maxTaps]float64
	n, lo := kernelWeights(&wx, ix-fx, kind)
	kernelWeights(&wy, iy-fy, kind)
	return tapSum(img, &wx, &wy, n, int(fx)+lo, int(fy)+lo)
}

// inFootprint reports whether (ix, iy) lies in [−0.5, w−0.5] × [−0.5, h−0.5];
// false for NaN (the comparisons are false).
func inFootprint(img srcImage, ix, iy float64) bool {
	return ix >= -0.5 && ix <= float64(img.w)-0.5 && iy >= -0.5 && iy <= float64(img.h)-0.5
}

// tapSum is reprojectPixel's sum over the n×n taps from (i0, j0) (image
// rows; img.pix holds rows [img.r0, img.r1), inside the image).
func tapSum(img srcImage, wx, wy *[maxTaps]float64, n, i0, j0 int) float32 {
	if i0 >= 0 && j0 >= img.r0 && i0+n <= img.w && j0+n <= img.r1 && nonZero(wx, n) && nonZero(wy, n) {
		var sum float64
		k := (j0-img.r0)*img.w + i0
		switch n {
		case 6:
			sum = sum6(img.pix[k:], img.w, wx, wy)
		case 4:
			sum = sum4(img.pix[k:], img.w, wx, wy)
		default:
			sum = sum2(img.pix[k:], img.w, wx, wy)
		}
		if sum-sum != 0 { // NaN or ±Inf
			return float32(math.NaN())
		}
		return float32(sum)
	}
	return clampedSum(img, wx, wy, n, i0, j0)
}

// batchSize is the number of pixels reprojectRow prepares before summing.
const batchSize = 16

// pixelBatch is one worker's scratch for reprojectRow.
type pixelBatch struct {
	in     [batchSize]bool
	i0, j0 [batchSize]int
	wx, wy [batchSize][maxTaps]float64
}

// reprojectRow sets each pixel to reprojectPixel(gr.at(x)) for the row prepared
// in gr, in batches: first the coordinates and weights of batchSize pixels,
// then their sums. The weights are long chains of dependent operations;
// batching lets those of neighbouring pixels overlap in the CPU instead of
// each waiting behind the previous pixel's sum. Same operations, same
// results.
//
// row holds output pixels x = xs … xs+len(row)−1 of the row.
func reprojectRow(row []float32, xs int, gr *gridRow, img srcImage, kind interpKind, pb *pixelBatch) {
	n := 6
	switch kind {
	case kindBilinear:
		n = 2
	case kindBicubic:
		n = 4
	}
	for x0 := 0; x0 < len(row); x0 += batchSize {
		m := min(batchSize, len(row)-x0)
		for p := range m {
			ix, iy := gr.at(xs + x0 + p)
			pb.in[p] = inFootprint(img, ix, iy)
			if !pb.in[p] {
				continue
			}
			fx, fy := math.Floor(ix), math.Floor(iy)
			_, lo := kernelWeights(&pb.wx[p], ix-fx, kind)
			kernelWeights(&pb.wy[p], iy-fy, kind)
			pb.i0[p], pb.j0[p] = int(fx)+lo, int(fy)+lo
		}
		out := row[x0 : x0+m]
		for p := range out {
			if !pb.in[p] {
				out[p] = float32(math.NaN())
				continue
			}
			out[p] = tapSum(img, &pb.wx[p], &pb.wy[p], n, pb.i0[p], pb.j0[p])
		}
	}
}

// clampedSum is reprojectPixel's general path: taps clamped to the image,
// taps with weight 0 skipped, NaN at the first other non-finite tap. A row
// with a non-zero weight outside the rows held is noted in img.fault and
// makes the pixel NaN; all rows are tested before any is read, so the fault
// does not depend on the data (a NaN tap would otherwise end the sum first).
func clampedSum(img srcImage, wx, wy *[maxTaps]float64, n, i0, j0 int) float32 {
	for b := range n {
		if j := min(max(j0+b, 0), img.h-1); wy[b] != 0 && (j < img.r0 || j >= img.r1) {
			img.fault.note(j)
			return float32(math.NaN())
		}
	}
	var sum float64
	for b := range n {
		if wy[b] == 0 {
			continue
		}
		j := min(max(j0+b, 0), img.h-1) - img.r0
		line := img.pix[j*img.w : (j+1)*img.w]
		var s float64
		for a := range n {
			if wx[a] == 0 {
				continue
			}
			v := line[min(max(i0+a, 0), img.w-1)]
			if !finite32(v) {
				return float32(math.NaN())
			}
			s += float64(wx[a] * float64(v))
		}
		sum += float64(wy[b] * s)
	}
	return float32(sum)
}

// nonZero reports whether w[0…n) are all non-zero.
func nonZero(w *[maxTaps]float64, n int) bool {
	for _, v := range w[:n] {
		if v == 0 {
			return false
		}
	}
	return true
}

// sum6 is the 6×6 sum of reprojectPixel on the taps p[b·w + a], unrolled,
// in the general path's order (each sum starts from +0 so that a −0 product
// gives the same +0 as there).
func sum6(p []float32, w int, wx, wy *[maxTaps]float64) float64 {
	_ = p[5*w+5]
	var sum float64
	for b := range 6 {
		r := p[b*w : b*w+6 : b*w+6]
		var s float64
		s += float64(wx[0] * float64(r[0]))
		s += float64(wx[1] * float64(r[1]))
		s += float64(wx[2] * float64(r[2]))
		s += float64(wx[3] * float64(r[3]))
		s += float64(wx[4] * float64(r[4]))
		s += float64(wx[5] * float64(r[5]))
		sum += float64(wy[b] * s)
	}
	return sum
}

// sum4 is sum6 for the 4×4 bicubic taps.
func sum4(p []float32, w int, wx, wy *[maxTaps]float64) float64 {
	_ = p[3*w+3]
	var sum float64
	for b := range 4 {
		r := p[b*w : b*w+4 : b*w+4]
		var s float64
		s += float64(wx[0] * float64(r[0]))
		s += float64(wx[1] * float64(r[1]))
		s += float64(wx[2] * float64(r[2]))
		s += float64(wx[3] * float64(r[3]))
		sum += float64(wy[b] * s)
	}
	return sum
}

// sum2 is sum6 for the 2×2 bilinear taps.
func sum2(p []float32, w int, wx, wy *[maxTaps]float64) float64 {
	_ = p[w+1]
	var s0, s1, sum float64
	s0 += float64(wx[0] * float64(p[0]))
	s0 += float64(wx[1] * float64(p[1]))
	s1 += float64(wx[0] * float64(p[w]))
	s1 += float64(wx[1] * float64(p[w+1]))
	sum += float64(wy[0] * s0)
	sum += float64(wy[1] * s1)
	return sum
}

// kernelWeights writes the per-axis weights for fractional offset t ∈ [0, 1)
// into w and returns the number of taps n and the offset lo of the first tap
// from floor(coordinate): tap k is at floor+lo+k with weight w[k].
func kernelWeights(w *[maxTaps]float64, t float64, kind interpKind) (n, lo int) {
	switch kind {
	case kindBilinear:
		w[0], w[1] = 1-t, t
		return 2, 0
	case kindBicubic:
		k := keysWeights(t)
		w[0], w[1], w[2], w[3] = k[0], k[1], k[2], k[3]
		return 4, -1
	}
	lanczos3Weights(w, t)
	return 6, -2
}

// keysWeights returns the Keys (1981) cubic convolution weights, a = −0.5,
// of the taps at offsets −1, 0, 1, 2 for fractional position t. They sum to 1
// and reproduce polynomials up to degree 2 exactly; at t = 0 they are exactly
// (0, 1, 0, 0). The float64(…) conversions forbid FMA fusion (arm64), so the
// weights are the same on every architecture.
func keysWeights(t float64) [4]float64 {
	return [4]float64{
		float64((float64(float64(-0.5*t)+1)*t)-0.5) * t,
		float64(float64(float64(1.5*t)-2.5)*t*t) + 1,
		float64((float64(float64(-1.5*t)+2)*t)+0.5) * t,
		float64(float64(0.5*t)-0.5) * t * t,
	}
}
