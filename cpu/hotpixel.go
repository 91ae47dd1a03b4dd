package cpu

import (
	"fmt"
	"math"
)

// HotPixelOptions configures HotPixels (spec §1.2 step 3).
type HotPixelOptions struct {
	// Threshold is k in "x > median + k·σ"; ZeMosaic uses 3.
	Threshold float64 `json:"hot_pixel_threshold"`
	// CFA takes each 5×5 neighbourhood among the pixels of the same Bayer
	// colour (stride 2 in x and y), for a raw mosaic before debayering. Off,
	// the neighbourhood is the plain 5×5 block (one plane of a debayered or
	// mono frame, ZeMosaic's case).
	CFA bool `json:"hot_pixel_cfa"`
	// Isolation, when > 0, also requires x − med > Isolation·(y₂ − med),
	// y₂ the second-largest value of the neighbourhood: a defect is a lone
	// spike, while the pixels next to a star's peak are bright too. The spec's
	// σ rule alone replaces the cores of stars sharper than ~3 px FWHM (6 px
	// with CFA); 3 keeps them down to 2 px FWHM on plain neighbourhoods and
	// costs sensitivity only below ~8σ of the background noise. 0 is
	// ZeMosaic's rule.
	Isolation float64 `json:"hot_pixel_isolation"`
}

// DefaultHotPixelOptions returns ZeMosaic's k = 3 on plain 5×5
// neighbourhoods, with the isolation guard at 3 so that sharp stars keep
// their cores.
func DefaultHotPixelOptions() HotPixelOptions {
	return HotPixelOptions{Threshold: 3, Isolation: 3}
}

// Validate checks that the threshold is in (0, 1000] and the isolation
// factor in [0, 1000].
func (o HotPixelOptions) Validate() error {
	if !(o.Threshold > 0 && o.Threshold <= 1000) {
		return fmt.Errorf("%w: hot pixel threshold must be in (0, 1000], got %v", ErrInvalidOptions, o.Threshold)
	}
	if !(o.Isolation >= 0 && o.Isolation <= 1000) {
		return fmt.Errorf("%w: hot pixel isolation must be in [0, 1000], got %v", ErrInvalidOptions, o.Isolation)
	}
	return nil
}

// HotVarianceFloor is the floor of σ² in HotPixels, (1e-5)²: ZeMosaic's CPU floor σ ≥ 1e-5, the same on
// both backends (ZeMosaic's GPU used max(1e-5, 1e-5·max|x|), a divergence).
const HotVarianceFloor = float32(1e-10)

// HotWindow is the number of pixels in a HotPixels neighbourhood (5×5).
const HotWindow = 25

// HotReciprocals returns float32(1/n) for n = 0…HotWindow (entry 0 is 0):
// the reciprocals HotPixels multiplies by, which the WGSL twin reads from a
// buffer rather than dividing (WGSL division is only 2.5-ulp accurate).
func HotReciprocals() []float32 {
	r := make([]float32, HotWindow+1)
	for n := 1; n <= HotWindow; n++ {
		r[n] = float32(1 / float64(n))
	}
	return r
}

// HotPixels copies src (a W×H plane) to dst, replacing hot pixels by the
// median of their neighbourhood, and returns how many it replaced.
//
// The rule is ZeMosaic's (spec §1.2 step 3), computed for each finite pixel x
// over its neighbourhood N: the 5×5 block centred on it (with opt.CFA, the
// 5×5 same-colour pixels at stride 2, a 9×9 footprint), clipped to the image,
// centre included, non-finite pixels left out (NaN is no data, never 0):
//
//	med = median of N (mean of the two middle values, each halved, when |N| is even)
//	μ   = Σ N · r(|N|)            r(n) = float32(1/n)
//	σ²  = max(Σ (y−μ)² · r(|N|), 1e-10)
//	hot ⇔ d = x − med > 0 and d² > float32(k²)·σ²
//	      and, when opt.Isolation = g > 0, d > float32(g)·(y₂ − med)
//
// with y₂ the second-largest member of N (never met when x is not the
// largest, since then y₂ ≥ x).
//
// that is x > med + k·σ with σ the population standard deviation of the
// neighbourhood, as ZeMosaic's box filters give it, but computed about the
// mean (two passes) rather than as E[x²]−μ², which cancels catastrophically
// in float32 at ADU levels. Including the centre in σ is what keeps star
// cores: a sharp peak raises its own σ, a single hot pixel of amplitude H over
// noise s is caught when H ≳ 3.6·s. Decisions use the original src only (one
// pass, order-independent). Non-finite pixels are copied as they are.
//
// Arithmetic is float32, in a fixed order (row-major over N); each (y−μ)² is
// summed as three exact partial products of 12-bit halves, so a compiler
// contracting multiply-adds into FMA cannot change it. shaders/hotpixel.wgsl
// performs the same operations and gives the same bits.
//
// dst and src must have W·H samples and must not be the same slice (errors
// wrap ErrShape); opt must be valid.
func HotPixels(dst, src []float32, width, height int, opt HotPixelOptions) (int, error) {
	if err := opt.Validate(); err != nil {
		return 0, err
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != len(src) {
		return 0, fmt.Errorf("%w: hot pixels: %d×%d needs %d samples, got src %d, dst %d",
			ErrShape, width, height, width*height, len(src), len(dst))
	}
	if &dst[0] == &src[0] {
		return 0, fmt.Errorf("%w: hot pixels: dst and src must be different buffers", ErrShape)
	}
	rcp := HotReciprocals()
	k2 := float32(opt.Threshold * opt.Threshold)
	g := float32(opt.Isolation)
	step := 1
	if opt.CFA {
		step = 2
	}
	n := 0
	var win [HotWindow]float32
	for y := range height {
		for x := range width {
			i := y*width + x
			v := src[i]
			dst[i] = v
			if !finite32(v) {
				continue
			}
			m := 0
			for j := -2; j <= 2; j++ {
				yy := y + step*j
				if yy < 0 || yy >= height {
					continue
				}
				row := src[yy*width:][:width]
				for k := -2; k <= 2; k++ {
					xx := x + step*k
					if xx < 0 || xx >= width {
						continue
					}
					if s := row[xx]; finite32(s) {
						win[m] = s
						m++
					}
				}
			}
			if med, hot := hotDecide(win[:m], v, rcp[m], k2, g); hot {
				dst[i] = med
				n++
			}
		}
	}
	return n, nil
}

// hotDecide applies HotPixels' rule to the centre value v of the finite
// neighbourhood w (which it may sort), given r = float32(1/len(w)), k² and the
// isolation factor g.
//
// Two exact shortcuts skip the sort for most pixels, without changing any
// decision: with g ≥ 1 a centre that is not the strict maximum is never hot
// (y₂ ≥ x gives d ≤ g·(y₂ − med)); and since med ≥ min(w) and float32
// subtraction and squaring are monotone, (x − min)² ≤ k²σ² implies d² ≤ k²σ².
func hotDecide(w []float32, v, r, k2, g float32) (med float32, hot bool) {
	var sum float32
	least := v
	above := 0
	for _, s := range w {
		sum += s
		least = min(least, s)
		if s >= v {
			above++
		}
	}
	if g >= 1 && above >= 2 {
		return 0, false
	}
	mu := float32(sum * r)
	var ss float32
	for _, s := range w {
		d := s - mu
		hi := math.Float32frombits(math.Float32bits(d) & 0xfffff000)
		lo := d - hi
		ss += float32(hi * hi)
		ss += float32((2 * hi) * lo)
		ss += float32(lo * lo)
	}
	kv := float32(k2 * max(float32(ss*r), HotVarianceFloor))
	if span := v - least; !(span > 0) || float32(span*span) <= kv {
		return 0, false
	}
	insertionSort32(w)
	m := len(w)
	if m%2 == 1 {
		med = w[m/2]
	} else {
		med = float32(w[m/2-1]*0.5) + float32(w[m/2]*0.5)
	}
	d := v - med
	hot = d > 0 && float32(d*d) > kv
	if hot && g > 0 {
		hot = m >= 2 && d > float32(g*(w[m-2]-med))
	}
	return med, hot
}

// insertionSort32 sorts w ascending. The WGSL twin uses the same algorithm,
// so equal values of different sign (±0) end in the same places.
func insertionSort32(w []float32) {
	for i := 1; i < len(w); i++ {
		x := w[i]
		j := i - 1
		for j >= 0 && w[j] > x {
			w[j+1] = w[j]
			j--
		}
		w[j+1] = x
	}
}
