package cpu

import (
	"fmt"
	"math"
	"slices"
)

// FitBackground fits a background model to the CHW image src (channels planes of
// width×height). The steps, on each fitted plane (the luminance, or every channel with
// opt.PerChannel):
//
//  1. The frame is tiled by a grid of nx×ny boxes, side ≈ min(W, H)/opt.Boxes (at least
//     8 px), edges at k·W/nx and k·H/ny so the whole frame is covered.
//  2. Each box with at least half of its pixels finite (NaN is no data, never 0) gives one
//     sample: the median of its finite pixels after a opt.Kappa sigma clip (SigmaClippedStats,
//     5 passes), at the box's centre, with its uncertainty 1.2533·σ/√n.
//  3. A polynomial of degree opt.Degree is fitted to the samples by least squares in float64,
//     coordinates normalised to [−1, 1]. Samples further than opt.Reject·s from the surface
//     are dropped and the fit repeated (kept samples may come back) until the kept set is
//     stable (at most 10 fits); s = 1.4826·MAD of the kept residuals, floored at the median
//     sample uncertainty so that a noise-free sky does not reject everything. Fitting the
//     surface, rather than comparing each box with its neighbours, keeps the boxes at the
//     edges of a steep gradient.
//  4. The level, the median of the surface over the box centres, is subtracted from the
//     constant term: SubtractBackground then removes the gradient and keeps the sky level.
//
// The luminance is 0.299R + 0.587G + 0.114B for 3 channels (spec §4.7), the mean of the
// channels otherwise, NaN where any channel is; with one channel it is the channel.
//
// Errors wrap ErrShape or ErrInvalidOptions for bad arguments and ErrBackgroundFit when fewer
// boxes than twice the number of terms have sky to fit (a frame mostly NaN, or too small).
// src is not modified; the result depends only on src and opt.
func FitBackground(src []float32, width, height, channels int, opt BackgroundOptions) (BackgroundModel, error) {
	if err := opt.Validate(); err != nil {
		return BackgroundModel{}, fmt.Errorf("cpu: %w", err)
	}
	if width <= 0 || height <= 0 || channels <= 0 || len(src) != width*height*channels {
		return BackgroundModel{}, fmt.Errorf("%w: background fit: %d×%d×%d needs that many samples, got %d",
			ErrShape, width, height, channels, len(src))
	}
	m := BackgroundModel{Degree: opt.Degree, Width: width, Height: height}
	plane := width * height
	g := newBoxGrid(width, height, opt.Boxes)
	fitOne := func(p []float32) ([]float64, float64, float64, error) {
		boxes := g.measure(p, width, opt.Kappa)
		m.Boxes += len(boxes)
		coef, used, err := fitSurface(boxes, opt.Degree, opt.Reject)
		m.Used += used
		if err != nil {
			return nil, 0, 0, err
		}
		level, span := g.levelAndRange(coef, opt.Degree)
		coef[0] -= level
		return coef, level, span, nil
	}
	if opt.PerChannel || channels == 1 {
		for c := range channels {
			coef, level, span, err := fitOne(src[c*plane : (c+1)*plane])
			if err != nil {
				return BackgroundModel{}, fmt.Errorf("%w: channel %d: %w", ErrBackgroundFit, c, err)
			}
			m.Coeffs, m.Level, m.Range = append(m.Coeffs, coef), append(m.Level, level), append(m.Range, span)
		}
		return m, nil
	}
	coef, level, span, err := fitOne(luminancePlane(src, plane, channels))
	if err != nil {
		return BackgroundModel{}, fmt.Errorf("%w: luminance: %w", ErrBackgroundFit, err)
	}
	for range channels {
		m.Coeffs = append(m.Coeffs, slices.Clone(coef))
		m.Level, m.Range = append(m.Level, level), append(m.Range, span)
	}
	return m, nil
}

// luminancePlane is the weighted sum of the channels in float64, NaN where any is not finite.
func luminancePlane(src []float32, plane, channels int) []float32 {
	w := []float64{0.299, 0.587, 0.114}
	if channels != 3 {
		w = make([]float64, channels)
		for c := range w {
			w[c] = 1 / float64(channels)
		}
	}
	out := make([]float32, plane)
	for i := range out {
		s := 0.0
		for c := range channels {
			v := src[c*plane+i]
			if !finite32(v) {
				s = math.NaN()
				break
			}
			s += w[c] * float64(v)
		}
		out[i] = float32(s)
	}
	return out
}

// boxGrid is FitBackground's tiling: box (bx, by) covers columns xs[bx]…xs[bx+1]−1 and rows
// ys[by]…ys[by+1]−1.
type boxGrid struct {
	width, height int
	xs, ys        []int
}

func newBoxGrid(width, height, boxes int) boxGrid {
	side := max(8, min(width, height)/boxes)
	edges := func(n int) []int {
		k := max(1, int(math.Round(float64(n)/float64(side))))
		e := make([]int, k+1)
		for i := range e {
			e[i] = i * n / k
		}
		return e
	}
	return boxGrid{width: width, height: height, xs: edges(width), ys: edges(height)}
}

// centre is the pixel coordinate of the middle of box k along edges e.
func centre(e []int, k int) float64 { return float64(e[k]+e[k+1]-1) / 2 }

// boxSample is one box's sky: value at normalised (u, v), with uncertainty sigma.
type boxSample struct {
	u, v, value, sigma float64
}

// measure returns the sample of every box with at least half of its pixels finite.
func (g boxGrid) measure(p []float32, width int, kappa float64) []boxSample {
	var out []boxSample
	var buf []float32
	for by := range len(g.ys) - 1 {
		for bx := range len(g.xs) - 1 {
			buf = buf[:0]
			for y := g.ys[by]; y < g.ys[by+1]; y++ {
				buf = append(buf, p[y*width+g.xs[bx]:y*width+g.xs[bx+1]]...)
			}
			if 2*countFinite(buf) < len(buf) {
				continue
			}
			_, med, std, n := SigmaClippedStats(buf, kappa, 5)
			if n == 0 {
				continue
			}
			out = append(out, boxSample{
				u:     axisCoord(centre(g.xs, bx), g.width),
				v:     axisCoord(centre(g.ys, by), g.height),
				value: med,
				sigma: 1.2533 * std / math.Sqrt(float64(n)),
			})
		}
	}
	return out
}

func countFinite(x []float32) int {
	n := 0
	for _, v := range x {
		if finite32(v) {
			n++
		}
	}
	return n
}

// levelAndRange returns the median and the max − min of the surface at every box centre.
func (g boxGrid) levelAndRange(coef []float64, degree int) (level, span float64) {
	terms := BackgroundTerms(degree)
	var vals []float64
	for by := range len(g.ys) - 1 {
		for bx := range len(g.xs) - 1 {
			u, v := axisCoord(centre(g.xs, bx), g.width), axisCoord(centre(g.ys, by), g.height)
			vals = append(vals, evalTerms(coef, terms, u, v))
		}
	}
	slices.Sort(vals)
	return sortedMedian(vals), vals[len(vals)-1] - vals[0]
}

// evalTerms is Σ coef[k]·u^i·v^j in float64.
func evalTerms(coef []float64, terms [][2]int, u, v float64) float64 {
	s := 0.0
	for k, t := range terms {
		s += coef[k] * ipow(u, t[0]) * ipow(v, t[1])
	}
	return s
}

func ipow(x float64, n int) float64 {
	r := 1.0
	for range n {
		r *= x
	}
	return r
}

// maxSurfaceFits bounds FitBackground's reject-and-refit loop.
const maxSurfaceFits = 10

// fitSurface fits the degree-d polynomial to the samples with iterative rejection (see
// FitBackground step 3) and returns its coefficients and the number of samples kept.
func fitSurface(s []boxSample, degree int, reject float64) ([]float64, int, error) {
	terms := BackgroundTerms(degree)
	need := 2 * len(terms)
	if len(s) < need {
		return nil, 0, fmt.Errorf("%d boxes with sky, a degree-%d surface needs %d", len(s), degree, need)
	}
	floor := 0.0
	{
		sig := make([]float64, len(s))
		for i, b := range s {
			sig[i] = b.sigma
		}
		slices.Sort(sig)
		// A noise-free sky has σ = 0: the float64 rounding of the fit must not reject it.
		floor = max(sortedMedian(sig), 1e-9*math.Abs(s[len(s)/2].value), 1e-30)
	}
	keep := make([]bool, len(s))
	for i := range keep {
		keep[i] = true
	}
	var coef []float64
	used := len(s)
	res := make([]float64, 0, len(s))
	for range maxSurfaceFits {
		var err error
		if coef, err = leastSquares(s, keep, terms); err != nil {
			return nil, used, err
		}
		res = res[:0]
		for i, b := range s {
			if keep[i] {
				res = append(res, math.Abs(b.value-evalTerms(coef, terms, b.u, b.v)))
			}
		}
		slices.Sort(res)
		scale := max(1.4826*sortedMedian(res), floor)
		changed, n := false, 0
		for i, b := range s {
			k := math.Abs(b.value-evalTerms(coef, terms, b.u, b.v)) <= reject*scale
			changed = changed || k != keep[i]
			keep[i] = k
			if k {
				n++
			}
		}
		if n < need {
			return nil, n, fmt.Errorf("%d of %d boxes agree with a degree-%d surface, %d needed", n, len(s), degree, need)
		}
		used = n
		if !changed {
			break
		}
	}
	for _, a := range coef {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return nil, used, fmt.Errorf("non-finite surface coefficient")
		}
	}
	return coef, used, nil
}

// leastSquares solves the normal equations of the kept samples (unweighted) by Gaussian
// elimination with partial pivoting, in float64. With coordinates in [−1, 1] and degree ≤ 3
// the system is well conditioned for any grid of at least two boxes per term.
func leastSquares(s []boxSample, keep []bool, terms [][2]int) ([]float64, error) {
	m := len(terms)
	a := make([]float64, m*(m+1)) // augmented matrix, row-major
	phi := make([]float64, m)
	for i, b := range s {
		if !keep[i] {
			continue
		}
		for k, t := range terms {
			phi[k] = ipow(b.u, t[0]) * ipow(b.v, t[1])
		}
		for r := range m {
			for c := range m {
				a[r*(m+1)+c] += phi[r] * phi[c]
			}
			a[r*(m+1)+m] += phi[r] * b.value
		}
	}
	for col := range m {
		p := col
		for r := col + 1; r < m; r++ {
			if math.Abs(a[r*(m+1)+col]) > math.Abs(a[p*(m+1)+col]) {
				p = r
			}
		}
		if !(math.Abs(a[p*(m+1)+col]) > 1e-12*math.Abs(a[0])) {
			return nil, fmt.Errorf("the box centres do not determine a degree-%d surface", terms[len(terms)-1][1])
		}
		if p != col {
			for c := range m + 1 {
				a[p*(m+1)+c], a[col*(m+1)+c] = a[col*(m+1)+c], a[p*(m+1)+c]
			}
		}
		for r := col + 1; r < m; r++ {
			f := a[r*(m+1)+col] / a[col*(m+1)+col]
			for c := col; c <= m; c++ {
				a[r*(m+1)+c] -= f * a[col*(m+1)+c]
			}
		}
	}
	x := make([]float64, m)
	for r := m - 1; r >= 0; r-- {
		v := a[r*(m+1)+m]
		for c := r + 1; c < m; c++ {
			v -= a[r*(m+1)+c] * x[c]
		}
		x[r] = v / a[r*(m+1)+r]
	}
	return x, nil
}
