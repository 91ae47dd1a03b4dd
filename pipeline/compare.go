package pipeline

import (
	"fmt"
	"math"
	"strings"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// Comparison is how far an image is from a reference, over the pixels valid in both.
type Comparison struct {
	Pixels int     `json:"pixels"`  // pixels compared
	RMS    float64 `json:"rms"`     // root mean square of (gain·image + offset − reference)
	MaxAbs float64 `json:"max_abs"` // largest absolute difference
	Bias   float64 `json:"bias"`    // mean difference
	Gain   float64 `json:"gain"`    // 1 unless fitted
	Offset float64 `json:"offset"`  // 0 unless fitted
}

// Compare measures img against ref (same length). With fit, img is first mapped by the
// least-squares gain and offset onto ref, so tools that rescale their output (Siril writes
// 16-bit stacks as [0,1] floats) are compared on their errors, not on their units.
// Sums are float64.
func Compare(img, ref []float32, fit bool) (Comparison, error) {
	if len(img) != len(ref) {
		return Comparison{}, fmt.Errorf("pipeline: compare: %d pixels against %d", len(img), len(ref))
	}
	c := Comparison{Gain: 1}
	var n, sx, sy, sxx, sxy float64
	for i, v := range img {
		x, y := float64(v), float64(ref[i])
		if x != x || y != y || math.IsInf(x, 0) || math.IsInf(y, 0) {
			continue
		}
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	if n == 0 {
		return c, fmt.Errorf("pipeline: compare: no pixel is valid in both images")
	}
	if fit {
		den := n*sxx - sx*sx
		if den == 0 {
			return c, fmt.Errorf("pipeline: compare: the image is constant, no gain can be fitted")
		}
		c.Gain = (n*sxy - sx*sy) / den
		c.Offset = (sy - c.Gain*sx) / n
	}
	var s2, s1 float64
	for i, v := range img {
		x, y := float64(v), float64(ref[i])
		if x != x || y != y || math.IsInf(x, 0) || math.IsInf(y, 0) {
			continue
		}
		d := c.Gain*x + c.Offset - y
		s1 += d
		s2 += d * d
		c.MaxAbs = max(c.MaxAbs, math.Abs(d))
	}
	c.Pixels = int(n)
	c.RMS = math.Sqrt(s2 / n)
	c.Bias = s1 / n
	return c, nil
}

// MosaicCFA samples a 3-channel CHW image through a 2×2 colour filter pattern ("GRBG",
// "RGGB", "GBRG", "BGGR", read row-major from pixel (0,0)), giving the mono image a Bayer
// sensor would record: the reference for stacks of raw CFA frames.
func MosaicCFA(img *fits.Image, pattern string) ([]float32, error) {
	if img.Channels != 3 {
		return nil, fmt.Errorf("pipeline: CFA reference needs 3 channels, got %d", img.Channels)
	}
	p := strings.ToUpper(pattern)
	if len(p) != 4 || strings.Trim(p, "RGB") != "" || strings.Count(p, "G") != 2 || strings.Count(p, "R") != 1 {
		return nil, fmt.Errorf("pipeline: unknown Bayer pattern %q (GRBG, RGGB, GBRG or BGGR)", pattern)
	}
	ch := map[byte]int{'R': 0, 'G': 1, 'B': 2}
	w, h := img.Width, img.Height
	out := make([]float32, w*h)
	for y := range h {
		for x := range w {
			c := ch[p[(y%2)*2+x%2]]
			out[y*w+x] = img.Pix[(c*h+y)*w+x]
		}
	}
	return out, nil
}
