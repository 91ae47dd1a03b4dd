package testsuite

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// rawMosaic is a fixed Seestar-like GRBG frame: sky with a gradient and per-colour levels,
// Gaussian stars, hot pixels and cosmic-ray hits, 1 % NaN and a few ±Inf.
func rawMosaic(rng *rand.Rand, w, h int) []float32 {
	level := [3]float64{700, 1300, 900} // R, G, B sky
	pix := make([]float32, w*h)
	type star struct{ x, y, a float64 }
	stars := make([]star, 12)
	for i := range stars {
		stars[i] = star{rng.Float64() * float64(w), rng.Float64() * float64(h), 500 + 15000*rng.Float64()}
	}
	for y := range h {
		for x := range w {
			v := level[cpu.BayerGRBG.ColourAt(x, y)] + 0.5*float64(x) - 0.3*float64(y)
			for _, s := range stars {
				d2 := (float64(x)-s.x)*(float64(x)-s.x) + (float64(y)-s.y)*(float64(y)-s.y)
				v += s.a * math.Exp(-d2/(2*1.3*1.3))
			}
			v += math.Sqrt(v) * rng.NormFloat64()
			switch r := rng.Float64(); {
			case r < 0.004:
				v += 2000 + 30000*rng.Float64() // hot pixel / cosmic ray
			case r < 0.014:
				v = math.NaN()
			case r < 0.015:
				v = math.Inf(1 - 2*rng.IntN(2))
			}
			pix[y*w+x] = float32(v)
		}
	}
	return pix
}

// preprocessor runs both preprocessing kernels on one backend.
type preprocessor struct {
	name      string
	debayer   func(ctx context.Context, dst, src []float32, w, h int, p cpu.BayerPattern) error
	hotPixels func(ctx context.Context, dst, src []float32, w, h int, opt cpu.HotPixelOptions) (int, error)
}

func preprocessors(t *testing.T) []preprocessor {
	out := []preprocessor{{"cpu",
		func(_ context.Context, dst, src []float32, w, h int, p cpu.BayerPattern) error {
			return cpu.Debayer(dst, src, w, h, p)
		},
		func(_ context.Context, dst, src []float32, w, h int, opt cpu.HotPixelOptions) (int, error) {
			return cpu.HotPixels(dst, src, w, h, opt)
		}}}
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		return out
	}
	d := openGPU(t)
	// A Runner forced onto its own GPU; a warning (a fallback) fails the test.
	r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendGPU}, func(e compute.Event) {
		if e.Level >= compute.Warn {
			t.Errorf("runner warned: %s %v", e.Key, e.Params)
		}
	})
	t.Cleanup(func() { _ = r.Close() })
	return append(out,
		preprocessor{"gpu", d.Debayer, d.HotPixels},
		preprocessor{"runner", r.Debayer, r.HotPixels})
}

// TestPreprocessGoldens: the fixed-seed frame reproduces its golden files bit for bit on the CPU
// (debayered RGB; hot-pixel-corrected mosaic), and the other backends stay within the table
// (zero: same bits, same detections).
func TestPreprocessGoldens(t *testing.T) {
	const w, h = 67, 41
	src := rawMosaic(rand.New(rand.NewPCG(41, 42)), w, h)
	backends := preprocessors(t)
	hotOpt := cpu.HotPixelOptions{Threshold: 3, CFA: true, Isolation: 3}
	cases := []struct {
		name     string
		channels int
		run      func(p preprocessor) ([]float32, error)
	}{
		{"debayer", 3, func(p preprocessor) ([]float32, error) {
			dst := make([]float32, 3*w*h)
			return dst, p.debayer(t.Context(), dst, src, w, h, cpu.BayerGRBG)
		}},
		{"hotpixels", 1, func(p preprocessor) ([]float32, error) {
			dst := make([]float32, w*h)
			_, err := p.hotPixels(t.Context(), dst, src, w, h, hotOpt)
			return dst, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tol, ok := Tolerances["preprocess/"+c.name]
			require.True(t, ok, "tolerance entry")
			golden := filepath.Join("testdata", "preprocess_"+c.name+"_golden.fits")
			if *update {
				ref, err := c.run(backends[0])
				require.NoError(t, err)
				img := &fits.Image{Width: w, Height: h, Channels: c.channels, Pix: ref, Header: fits.NewHeader()}
				img.Header.Set("ZMCASE", filepath.Base(golden), "zmosaic testsuite golden")
				require.NoError(t, fits.Write(golden, img, fits.WriteOptions{}))
			}
			img, err := fits.ReadImage(golden, "")
			require.NoError(t, err, "golden missing: run go test ./testsuite -update")
			require.Equal(t, w*h*c.channels, len(img.Pix))
			for _, be := range backends {
				got, err := c.run(be)
				require.NoError(t, err, be.name)
				ulp, mism := comparePlanes(img.Pix, got, src)
				t.Logf("%s: worst %.0f ulp, %.4f%% detections differ", be.name, ulp, 100*mism)
				if be.name == "cpu" {
					require.Zero(t, ulp, "cpu reproduces the golden")
					require.Zero(t, mism)
					continue
				}
				require.LessOrEqual(t, ulp, tol.ValueULP, be.name)
				require.LessOrEqual(t, mism, tol.CountMismatch, be.name)
			}
		})
	}
}

// comparePlanes returns the worst |Δ| in ulps of the reference (NaN must match NaN) and, for a
// single plane the size of src, the fraction of pixels where one result changed src and the
// other did not (differing hot-pixel detections).
func comparePlanes(want, got, src []float32) (worstULP, mismatch float64) {
	if len(want) != len(got) {
		return math.Inf(1), 1
	}
	for i := range want {
		a, b := float64(want[i]), float64(got[i])
		switch {
		case math.IsNaN(a) || math.IsNaN(b):
			if math.IsNaN(a) != math.IsNaN(b) {
				worstULP = math.Inf(1)
			}
		case math.Float32bits(want[i]) != math.Float32bits(got[i]):
			worstULP = max(worstULP, math.Abs(a-b)/ulpAt(a), 1)
		}
	}
	if len(want) == len(src) {
		n := 0
		for i := range src {
			cw := math.Float32bits(want[i]) != math.Float32bits(src[i])
			cg := math.Float32bits(got[i]) != math.Float32bits(src[i])
			if cw != cg {
				n++
			}
		}
		mismatch = float64(n) / float64(len(src))
	}
	return worstULP, mismatch
}
