package cpu

import (
	"math"
)

// The kernels as they were before the speed work (straightforward per-pixel
// code: math.Sin for every Lanczos tap, clamped and NaN-tested taps, CoordGrid
// interpolated sample rows first, a column-by-column distance transform).
// They stay here as the oracle of the equivalence tests and as the "before"
// of the benchmarks, run in the same process as the "after".

// legacyReproject is the old Reproject on one goroutine, without checks.
func legacyReproject(dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *CoordGrid, interp Interp) {
	img := newSrcImage(src, srcWidth, srcHeight, 0)
	for r := range rows {
		y := float64(y0 + r)
		row := dst[r*outWidth : (r+1)*outWidth]
		for x := range row {
			ix, iy := legacyAt(grid, float64(x), y)
			row[x] = legacyPixel(img, ix, iy, interp)
		}
	}
}

// legacyAt is the old CoordGrid.At: Keys bicubic summed sample rows first.
func legacyAt(g *CoordGrid, x, y float64) (ix, iy float64) {
	u, v := x/float64(g.Step), y/float64(g.Step)
	i0 := min(max(int(math.Floor(u)), 0), g.NX-2)
	j0 := min(max(int(math.Floor(v)), 0), g.NY-2)
	wx, wy := keysWeights(u-float64(i0)), keysWeights(v-float64(j0))
	ix, iy = legacyCubic(g, g.X, i0, j0, &wx, &wy), legacyCubic(g, g.Y, i0, j0, &wx, &wy)
	if !math.IsNaN(ix) && !math.IsNaN(iy) {
		return ix, iy
	}
	tx, ty := u-float64(i0), v-float64(j0)
	return g.linear(g.X, i0, j0, tx, ty), g.linear(g.Y, i0, j0, tx, ty)
}

// legacyCubic is the old CoordGrid.cubic: rows outer.
func legacyCubic(g *CoordGrid, a []float64, i0, j0 int, wx, wy *[4]float64) float64 {
	interior := i0 >= 1 && i0+2 < g.NX && j0 >= 1 && j0+2 < g.NY
	var sum float64
	for b := range 4 {
		var s float64
		for k := range 4 {
			var f float64
			if interior {
				f = a[(j0-1+b)*g.NX+i0-1+k]
			} else {
				f = g.sample(a, i0-1+k, j0-1+b)
			}
			s += float64(wx[k] * f)
		}
		sum += float64(wy[b] * s)
	}
	return sum
}

// legacyPixel is the old reprojectPixel.
func legacyPixel(img srcImage, ix, iy float64, interp Interp) float32 {
	if !(ix >= -0.5 && ix <= float64(img.w)-0.5 && iy >= -0.5 && iy <= float64(img.h)-0.5) {
		return float32(math.NaN())
	}
	fx, fy := math.Floor(ix), math.Floor(iy)
	var wx, wy [maxTaps]float64
	n, lo := legacyWeights(&wx, ix-fx, interp)
	legacyWeights(&wy, iy-fy, interp)
	i0, j0 := int(fx)+lo, int(fy)+lo
	var sum float64
	for b := range n {
		if wy[b] == 0 {
			continue
		}
		j := min(max(j0+b, 0), img.h-1)
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

// legacyWeights is the old kernelWeights, with math.Sin for each Lanczos tap.
func legacyWeights(w *[maxTaps]float64, t float64, interp Interp) (n, lo int) {
	switch interp {
	case InterpBilinear:
		w[0], w[1] = 1-t, t
		return 2, 0
	case InterpBicubic:
		k := keysWeights(t)
		copy(w[:4], k[:])
		return 4, -1
	}
	if t == 0 {
		*w = [maxTaps]float64{0, 0, 1, 0, 0, 0}
		return 6, -2
	}
	var sum float64
	for k := range maxTaps {
		px := math.Pi * (t - float64(k-2))
		w[k] = 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
		sum += w[k]
	}
	for k := range maxTaps {
		w[k] /= sum
	}
	return 6, -2
}

// legacySquaredDistanceTransform is the old SquaredDistanceTransform: the
// column pass gathers each column (strided) and runs dt1D on it.
func legacySquaredDistanceTransform(mask []bool, width, height int) []int64 {
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
	for x := range pw {
		for y := range ph {
			f[y] = g[y*pw+x]
		}
		legacyDT1D(out[:ph], f[:ph], v, z)
		for y := range ph {
			g[y*pw+x] = out[y]
		}
	}
	for y := range ph {
		row := g[y*pw : (y+1)*pw]
		copy(f, row)
		legacyDT1D(row, f[:pw], v, z)
	}
	res := make([]int64, width*height)
	for y := range height {
		copy(res[y*width:(y+1)*width], g[(y+1)*pw+1:(y+1)*pw+1+width])
	}
	return res
}

// legacyFeatherWeights is the old FeatherWeights (feather > 0).
func legacyFeatherWeights(dst []float32, mask []bool, width, height int, feather float64) {
	d2 := legacySquaredDistanceTransform(mask, width, height)
	for i, ok := range mask {
		if !ok {
			dst[i] = 0
			continue
		}
		dst[i] = float32(min(1, math.Sqrt(float64(d2[i]))/feather))
	}
}

// legacyAccumulate is the old Accumulate without its checks.
func legacyAccumulate(acc *CoaddBand, value, weight []float32, inputWeight float32, correction Affine) {
	tw := float64(inputWeight)
	gain, off := float64(correction.Gain), float64(correction.Offset)
	for i, v := range value {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		w := tw
		if weight != nil {
			w = float64(float64(weight[i]) * tw)
			if !positiveFinite(w) {
				continue
			}
		}
		c := float64(gain*x) + off
		acc.Sum[i] += float64(w * c)
		acc.Weight[i] += w
	}
}

// legacyDT1D is the 1-D lower envelope of parabolas (q−p)² + f(p) of
// Felzenszwalb–Huttenlocher, over the finite samples of f (math.MaxInt64 =
// +∞). d must not alias f. If every sample is infinite, d is all infinite.
// Envelope boundaries are float64 quotients of integers below 2^53; distinct
// boundaries differ by far more than their rounding for any image that fits
// in memory, and the distances themselves are evaluated in integers, so d is
// exact.
func legacyDT1D(d, f []int64, v []int, z []float64) {
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
		s := legacyIntersect(f, q, p)
		for s <= z[k] {
			k--
			p = v[k]
			s = legacyIntersect(f, q, p)
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

// legacyIntersect returns the abscissa where the parabolas rooted at q and p < q
// (heights f[q], f[p]) cross.
func legacyIntersect(f []int64, q, p int) float64 {
	return float64((f[q]+int64(q)*int64(q))-(f[p]+int64(p)*int64(p))) / float64(2*(q-p))
}
