package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// star is a Gaussian source of a synthetic field.
type star struct{ x, y, amp float64 }

// starField draws a W×H sky: background 1000 ADU with Gaussian noise of
// sqrt(100 + signal) ADU (read noise 10 plus shot noise) and nStars Gaussian
// stars of the given FWHM and peak 300–20000 ADU, at least 8 px from the
// border. It returns the image and the stars.
func starField(rng *rand.Rand, w, h, nStars int, fwhm float64) ([]float32, []star) {
	s := fwhm / 2.3548
	stars := make([]star, nStars)
	for i := range stars {
		stars[i] = star{8 + rng.Float64()*float64(w-16), 8 + rng.Float64()*float64(h-16), 300 + rng.Float64()*19700}
	}
	pix := make([]float32, w*h)
	for y := range h {
		for x := range w {
			sig := 0.0
			for _, st := range stars {
				dx, dy := float64(x)-st.x, float64(y)-st.y
				if d2 := dx*dx + dy*dy; d2 < 100 {
					sig += st.amp * math.Exp(-d2/(2*s*s))
				}
			}
			pix[y*w+x] = float32(1000 + sig + math.Sqrt(100+sig)*rng.NormFloat64())
		}
	}
	return pix, stars
}

// injectDefects adds n single-pixel defects of +150…+40000 ADU (15 to
// 4000 σ of the background noise) at positions at least minSep px from any
// star (closer, a star's wings raise the local σ and may hide a faint defect,
// as in ZeMosaic) and 6 px from each other, and returns their indices.
func injectDefects(rng *rand.Rand, pix []float32, w, h, n int, stars []star, minSep float64) []int {
	var at []int
	for len(at) < n {
		x, y := 2+rng.IntN(w-4), 2+rng.IntN(h-4)
		ok := true
		for _, st := range stars {
			if math.Hypot(float64(x)-st.x, float64(y)-st.y) < minSep {
				ok = false
			}
		}
		for _, j := range at {
			if math.Hypot(float64(x-j%w), float64(y-j/w)) < 6 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		amp := 150 * math.Pow(40000.0/150, rng.Float64())
		pix[y*w+x] += float32(amp)
		at = append(at, y*w+x)
	}
	return at
}

// TestHotPixelsFindsDefectsAndKeepsStarCores: every injected defect (15–4000 σ, ≥ 12 px from a
// star) is replaced; star cores are kept (the isolation guard) except where stated; the other
// replacements are noise peaks, whose measured rate bounds the test.
func TestHotPixelsFindsDefectsAndKeepsStarCores(t *testing.T) {
	tests := []struct {
		name      string
		fwhm      float64
		cfa       bool
		isolation float64
		maxCores  int     // star cores (of 40) replaced at most
		minCores  int     // … and at least (ZeMosaic's rule on sharp stars)
		maxOther  float64 // other replacements, fraction of pixels (measured ×~1.5)
	}{
		{"default guard keeps 2 px stars", 2, false, 3, 0, 0, 2e-4},
		{"default guard keeps 2.5 px stars", 2.5, false, 3, 0, 0, 2e-4},
		{"cfa with guard keeps 4 px stars", 4, true, 3, 0, 0, 2e-4},
		{"cfa with guard loses few 3 px stars", 3, true, 3, 3, 0, 2e-4},
		{"zemosaic rule keeps 3 px stars", 3, false, 0, 0, 0, 1.5e-3},
		{"zemosaic rule clips 2 px stars", 2, false, 0, 40, 30, 2e-3},
		{"zemosaic rule on cfa clips 4 px stars", 4, true, 0, 40, 30, 5e-3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(tt.fwhm*10)))
			const w, h = 256, 256
			pix, stars := starField(rng, w, h, 40, tt.fwhm)
			defects := injectDefects(rng, pix, w, h, 80, stars, 12)
			dst := make([]float32, len(pix))
			opt := HotPixelOptions{Threshold: 3, CFA: tt.cfa, Isolation: tt.isolation}
			n, err := HotPixels(dst, pix, w, h, opt)
			require.NoError(t, err)
			for _, j := range defects {
				assert.NotEqual(t, pix[j], dst[j], "defect at (%d, %d) not replaced", j%w, j/w)
			}
			cores := 0
			for _, st := range stars {
				j := int(math.Round(st.y))*w + int(math.Round(st.x))
				if dst[j] != pix[j] {
					cores++
				}
			}
			other := float64(n-len(defects)-cores) / float64(w*h)
			t.Logf("%d replaced: %d defects, %d of %d star cores, other %.2g of pixels", n, len(defects), cores, len(stars), other)
			assert.LessOrEqual(t, cores, tt.maxCores, "star cores replaced")
			assert.GreaterOrEqual(t, cores, tt.minCores, "star cores replaced")
			assert.LessOrEqual(t, other, tt.maxOther, "other replacements")
		})
	}
}

func TestHotPixelsReplacesByMedianAndKeepsNaN(t *testing.T) {
	const w, h = 7, 7
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(100 + i%5) // values 100…104
	}
	nan := float32(math.NaN())
	src[3*w+3] = 5000 // hot, centre
	src[0] = nan
	src[1*w+5] = nan
	dst := make([]float32, len(src))
	n, err := HotPixels(dst, src, w, h, DefaultHotPixelOptions())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	// The 5×5 block around (3, 3) minus the NaN at (5, 1): 24 values, 4 or 5 of each of
	// 100…104 plus 5000; the median of 24 is the mean of the 12th and 13th.
	var win []float32
	for y := 1; y <= 5; y++ {
		for x := 1; x <= 5; x++ {
			if v := src[y*w+x]; !math.IsNaN(float64(v)) {
				win = append(win, v)
			}
		}
	}
	insertionSort32(win)
	assert.Equal(t, win[11]*0.5+win[12]*0.5, dst[3*w+3])
	assert.True(t, math.IsNaN(float64(dst[0])), "NaN stays NaN")
	assert.True(t, math.IsNaN(float64(dst[1*w+5])), "NaN stays NaN")
	for i := range src {
		if i != 3*w+3 && !math.IsNaN(float64(src[i])) {
			assert.Equal(t, src[i], dst[i], "pixel %d", i)
		}
	}
}

func TestHotPixelsCFAUsesSameColourNeighbours(t *testing.T) {
	// A mosaic whose R pixels (even x, even y) are 10× brighter than the rest: in plain mode
	// every R pixel towers over its mixed neighbourhood; in CFA mode each colour is uniform.
	const w, h = 12, 10
	src := make([]float32, w*h)
	for y := range h {
		for x := range w {
			src[y*w+x] = 100
			if x%2 == 0 && y%2 == 0 {
				src[y*w+x] = 1000
			}
		}
	}
	dst := make([]float32, len(src))
	n, err := HotPixels(dst, src, w, h, HotPixelOptions{Threshold: 3, CFA: true})
	require.NoError(t, err)
	assert.Zero(t, n, "uniform colours have no hot pixel")
	src[4*w+6] = 5000 // an R pixel
	n, err = HotPixels(dst, src, w, h, HotPixelOptions{Threshold: 3, CFA: true, Isolation: 3})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, float32(1000), dst[4*w+6], "replaced by the median of the R pixels")
}

func TestHotPixelsRejectsBadArguments(t *testing.T) {
	buf := make([]float32, 12)
	tests := []struct {
		name     string
		dst, src []float32
		w, h     int
		opt      HotPixelOptions
		want     error
	}{
		{"zero threshold", make([]float32, 12), buf, 4, 3, HotPixelOptions{}, ErrInvalidOptions},
		{"NaN threshold", make([]float32, 12), buf, 4, 3, HotPixelOptions{Threshold: math.NaN()}, ErrInvalidOptions},
		{"negative isolation", make([]float32, 12), buf, 4, 3, HotPixelOptions{Threshold: 3, Isolation: -1}, ErrInvalidOptions},
		{"short dst", make([]float32, 11), buf, 4, 3, DefaultHotPixelOptions(), ErrShape},
		{"wrong size", make([]float32, 12), buf, 5, 3, DefaultHotPixelOptions(), ErrShape},
		{"in place", buf, buf, 4, 3, DefaultHotPixelOptions(), ErrShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HotPixels(tt.dst, tt.src, tt.w, tt.h, tt.opt)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func BenchmarkHotPixels(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 512, 512
	pix, _ := starField(rng, w, h, 100, 3)
	dst := make([]float32, len(pix))
	b.SetBytes(4 * w * h)
	for b.Loop() {
		_, _ = HotPixels(dst, pix, w, h, DefaultHotPixelOptions())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(w*h), "ns/pixel")
}
