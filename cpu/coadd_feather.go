package cpu

import (
	"fmt"
	"math"
)

// FeatherWeights writes edge-feathering weights for an input of width×height
// pixels to dst: weight = min(1, d/feather), where d is the Euclidean
// distance, in input pixels, from the pixel to the nearest invalid pixel
// (mask false) or to the outside of the image. Pixels outside the image count
// as invalid, so a valid pixel on the border has d = 1 and its weight is
// 1/feather; an invalid pixel has weight 0. feather = 0 gives 1 on every
// valid pixel. The weights make seams fade in over feather pixels instead of
// stepping, and are meant as the per-pixel weight of Accumulate (after
// reprojection with the input).
//
// d is exact: it comes from the two-pass squared Euclidean distance
// transform of Felzenszwalb and Huttenlocher ("Distance Transforms of
// Sampled Functions", Theory of Computing 8, 2012), computed on integer
// squared distances, so it equals the brute-force minimum over all invalid
// pixels; the only rounding is sqrt and the final float32. It costs
// O(width·height) time and allocates (width+2)·(height+2) int64 of scratch.
func FeatherWeights(dst []float32, mask []bool, width, height int, feather float64) error {
	if width <= 0 || height <= 0 || len(mask) != width*height || len(dst) != width*height {
		return fmt.Errorf("%w: coadd: feather needs dst and mask of %d×%d pixels, got %d and %d",
			ErrShape, width, height, len(dst), len(mask))
	}
	if math.IsNaN(feather) || math.IsInf(feather, 0) || feather < 0 {
		return fmt.Errorf("%w: coadd: feather must be finite and >= 0, got %g", ErrInvalidOptions, feather)
	}
	if feather == 0 {
		for i, ok := range mask {
			dst[i] = float32(b2i(ok))
		}
		return nil
	}
	d2 := SquaredDistanceTransform(mask, width, height)
	for i, ok := range mask {
		if !ok {
			dst[i] = 0
			continue
		}
		dst[i] = float32(min(1, math.Sqrt(float64(d2[i]))/feather))
	}
	return nil
}

// SquaredDistanceTransform returns, for each pixel of a width×height mask,
// the squared Euclidean distance to the nearest pixel that is invalid (mask
// false) or outside the image; invalid pixels get 0. The result is exact
// (integers) and row-major like mask. See FeatherWeights.
func SquaredDistanceTransform(mask []bool, width, height int) []int64 {
	// Pad by one invalid pixel on every side: the image edge then is just
	// another invalid pixel, and every row and column of the padded grid
	// holds at least one, so no distance is infinite after both passes.
	pw, ph := width+2, height+2
	g := make([]int64, pw*ph)
	const inf = math.MaxInt64
	for y := range height {
		for x := range width {
			if mask[y*width+x] {
				g[(y+1)*pw+x+1] = inf
			}
		}
	}
	n := max(pw, ph)
	f := make([]int64, n)
	out := make([]int64, n)
	v := make([]int, n)
	z := make([]float64, n+1)
	// Columns first, then rows (the transform is separable).
	for x := range pw {
		for y := range ph {
			f[y] = g[y*pw+x]
		}
		dt1D(out[:ph], f[:ph], v, z)
		for y := range ph {
			g[y*pw+x] = out[y]
		}
	}
	for y := range ph {
		row := g[y*pw : (y+1)*pw]
		copy(f, row)
		dt1D(row, f[:pw], v, z)
	}
	res := make([]int64, width*height)
	for y := range height {
		copy(res[y*width:(y+1)*width], g[(y+1)*pw+1:(y+1)*pw+1+width])
	}
	return res
}

// dt1D is the 1-D lower envelope of parabolas (q−p)² + f(p) of
// Felzenszwalb–Huttenlocher, over the finite samples of f (math.MaxInt64 =
// +∞). d must not alias f. If every sample is infinite, d is all infinite.
// Envelope boundaries are float64 quotients of integers below 2^53; distinct
// boundaries differ by far more than their rounding for any image that fits
// in memory, and the distances themselves are evaluated in integers, so d is
// exact.
func dt1D(d, f []int64, v []int, z []float64) {
	const inf = math.MaxInt64
	k := -1
	for q, fq := range f {
		if fq == inf {
			continue
		}
		if k < 0 {
			k = 0
			v[0] = q
			z[0] = math.Inf(-1)
			z[1] = math.Inf(1)
			continue
		}
		// z[0] = −∞, so the loop stops at k = 0 at the latest.
		p := v[k]
		s := intersect(f, q, p)
		for s <= z[k] {
			k--
			p = v[k]
			s = intersect(f, q, p)
		}
		k++
		v[k] = q
		z[k] = s
		z[k+1] = math.Inf(1)
	}
	if k < 0 {
		for i := range d {
			d[i] = inf
		}
		return
	}
	j := 0
	for q := range d {
		for z[j+1] < float64(q) {
			j++
		}
		dq := int64(q - v[j])
		d[q] = dq*dq + f[v[j]]
	}
}

// intersect returns the abscissa where the parabolas rooted at q and p < q
// (heights f[q], f[p]) cross.
func intersect(f []int64, q, p int) float64 {
	return float64((f[q]+int64(q)*int64(q))-(f[p]+int64(p)*int64(p))) / float64(2*(q-p))
}
