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
// pixels; the only rounding is sqrt and the final float32.
//
// Cost: O(width·height) time, width·height int32 of scratch. Only distances
// below C = ceil(feather) change a weight (C ≥ feather, so a distance ≥ C
// gives exactly 1), so the row pass keeps only the pixels whose column
// distance is below C as parabola sites and caps the result at C²: the
// minimum over the dropped sites is ≥ C² itself, so every distance below C²
// is still exact (see envelope). Far from edges and holes a row then has
// almost no sites and costs little more than writing 1s.
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
	// No distance reaches width+height, so a larger C changes nothing.
	c := int64(min(math.Ceil(feather), float64(width+height)))
	limit, capSq := int32(c), c*c
	g := columnDistances(mask, width, height)
	e := newEnvelopeScratch(width)
	d := make([]int64, width)
	for y := range height {
		off := y * width
		e.envelope(d, g[off:off+width], limit, capSq)
		row, m := dst[off:off+width], mask[off:off+width]
		for x, dx := range d {
			switch {
			case !m[x]:
				row[x] = 0
			case dx >= capSq:
				row[x] = 1
			default:
				row[x] = float32(min(1, math.Sqrt(float64(dx))/feather))
			}
		}
	}
	return nil
}

// SquaredDistanceTransform returns, for each pixel of a width×height mask,
// the squared Euclidean distance to the nearest pixel that is invalid (mask
// false) or outside the image; invalid pixels get 0. The result is exact
// (integers) and row-major like mask. See FeatherWeights.
func SquaredDistanceTransform(mask []bool, width, height int) []int64 {
	g := columnDistances(mask, width, height)
	e := newEnvelopeScratch(width)
	res := make([]int64, width*height)
	for y := range height {
		off := y * width
		e.envelope(res[off:off+width], g[off:off+width], math.MaxInt32, math.MaxInt64)
	}
	return res
}

// columnDistances returns, per pixel, the distance in rows to the nearest
// invalid pixel of its column or to the outside (row −1 or height): the
// column pass of the transform. On a 0/∞ input the 1-D lower envelope is
// just that distance squared, so two row-major scans (down, then up) give
// it exactly and read memory in order, where gathering each column would
// stride through it.
func columnDistances(mask []bool, width, height int) []int32 {
	g := make([]int32, width*height)
	prev := g[:0]
	for y := range height {
		row, m := g[y*width:(y+1)*width], mask[y*width:(y+1)*width]
		for x := range row {
			switch {
			case !m[x]:
				row[x] = 0
			case y == 0:
				row[x] = 1
			default:
				row[x] = prev[x] + 1
			}
		}
		prev = row
	}
	for x, v := range prev { // the last row is 1 from the outside below
		prev[x] = min(v, 1)
	}
	for y := height - 2; y >= 0; y-- {
		row, next := g[y*width:(y+1)*width], g[(y+1)*width:(y+2)*width]
		for x := range row {
			row[x] = min(row[x], next[x]+1)
		}
	}
	return g
}

// envelopeScratch holds the lower envelope of one row: site positions v,
// their values f and the boundaries z between consecutive parabolas.
type envelopeScratch struct {
	v []int
	f []int64
	z []float64
}

func newEnvelopeScratch(width int) *envelopeScratch {
	return &envelopeScratch{v: make([]int, width+2), f: make([]int64, width+2), z: make([]float64, width+3)}
}

// envelope is the row pass of Felzenszwalb–Huttenlocher: d[x] = min(capSq,
// min over sites p of (x−p)² + g[p]²), where the sites are the outside
// pixels −1 and len(g) (value 0) and every p with g[p] < limit. Dropping the
// sites with g[p] ≥ limit is exact below capSq ≤ limit²: they contribute at
// least limit² ≥ capSq. Envelope boundaries are float64 quotients of
// integers below 2^53; distinct boundaries differ by far more than their
// rounding for any image that fits in memory, and the distances themselves
// are evaluated in integers, so d is exact.
func (e *envelopeScratch) envelope(d []int64, g []int32, limit int32, capSq int64) {
	n := len(g)
	v, f, z := e.v, e.f, e.z
	k := 0
	v[0], f[0] = -1, 0
	z[0], z[1] = math.Inf(-1), math.Inf(1)
	for q := 0; q <= n; q++ {
		var fq int64 // q == n: the outside pixel
		if q < n {
			if g[q] >= limit {
				continue
			}
			fq = int64(g[q]) * int64(g[q])
		}
		// z[0] = −∞, so the loop stops at k = 0 at the latest.
		s := intersect(q, fq, v[k], f[k])
		for s <= z[k] {
			k--
			s = intersect(q, fq, v[k], f[k])
		}
		k++
		v[k], f[k], z[k], z[k+1] = q, fq, s, math.Inf(1)
	}
	// Pixel x belongs to the first parabola j with x ≤ z[j+1], i.e. to
	// x ≤ floor(z[j+1]): walk the parabolas, each over its run of pixels.
	x := 0
	for j := 0; j <= k && x < n; j++ {
		end := n // exclusive
		if zj := z[j+1]; zj < float64(n) {
			end = int(math.Floor(zj)) + 1 // z[j+1] > z[j] ≥ … > −∞, and ≥ x−1 here
		}
		vj, fj := v[j], f[j]
		for ; x < end; x++ {
			dx := int64(x - vj)
			d[x] = min(dx*dx+fj, capSq)
		}
	}
}

// intersect returns the abscissa where the parabolas rooted at q and p < q
// (heights fq, fp) cross.
func intersect(q int, fq int64, p int, fp int64) float64 {
	return float64((fq+int64(q)*int64(q))-(fp+int64(p)*int64(p))) / float64(2*(q-p))
}
