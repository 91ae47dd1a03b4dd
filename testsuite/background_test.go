package testsuite

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/synth"
)

// gradientFrame is a fixed 3-channel frame: per-channel sky levels under a curved gradient,
// Gaussian stars, noise, 1 % NaN and a NaN corner.
func gradientFrame(rng *rand.Rand, w, h int) []float32 {
	plane := w * h
	pix := make([]float32, 3*plane)
	type star struct{ x, y, a float64 }
	stars := make([]star, 25)
	for i := range stars {
		stars[i] = star{rng.Float64() * float64(w), rng.Float64() * float64(h), 200 + 20000*rng.Float64()}
	}
	level := [3]float64{700, 1300, 900}
	for c := range 3 {
		for y := range h {
			for x := range w {
				u, v := float64(x)/float64(w)-0.4, float64(y)/float64(h)-0.55
				s := level[c] + 150*u - 90*v + 200*(u*u+v*v)
				for _, st := range stars {
					d2 := (float64(x)-st.x)*(float64(x)-st.x) + (float64(y)-st.y)*(float64(y)-st.y)
					s += st.a * math.Exp(-d2/(2*1.4*1.4))
				}
				s += math.Sqrt(s) * rng.NormFloat64()
				if rng.IntN(100) == 0 || x+y < 6 {
					s = math.NaN()
				}
				pix[c*plane+y*w+x] = float32(s)
			}
		}
	}
	return pix
}

// subtracter runs SubtractBackground on one backend.
type subtracter struct {
	name string
	run  func(ctx context.Context, dst, src []float32, w, h, ch int, m cpu.BackgroundModel) error
}

func subtracters(t *testing.T) []subtracter {
	out := []subtracter{{"cpu", func(_ context.Context, dst, src []float32, w, h, ch int, m cpu.BackgroundModel) error {
		return cpu.SubtractBackground(dst, src, w, h, ch, m)
	}}}
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		return out
	}
	d := openGPU(t)
	r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendGPU}, func(e compute.Event) {
		if e.Level >= compute.Warn {
			t.Errorf("runner warned: %s %v", e.Key, e.Params)
		}
	})
	t.Cleanup(func() { _ = r.Close() })
	return append(out, subtracter{"gpu", d.SubtractBackground}, subtracter{"runner", r.SubtractBackground})
}

// TestBackgroundGolden: the fixed-seed colour frame, with a quadratic surface fitted on its
// luminance (on the CPU, for every backend), reproduces its golden bit for bit on the CPU,
// and the GPU and the Runner stay within the table (zero: same bits).
func TestBackgroundGolden(t *testing.T) {
	const w, h = 96, 64
	src := gradientFrame(rand.New(rand.NewPCG(43, 44)), w, h)
	opt := cpu.DefaultBackgroundOptions()
	opt.Degree, opt.Boxes = 2, 8
	m, err := cpu.FitBackground(src, w, h, 3, opt)
	require.NoError(t, err)
	t.Logf("fit: %d/%d boxes, level %.2f, range %.2f", m.Used, m.Boxes, m.Level[0], m.Range[0])
	tol, ok := Tolerances["preprocess/background"]
	require.True(t, ok, "tolerance entry")
	golden := filepath.Join("testdata", "preprocess_background_golden.fits")
	if *update {
		ref := make([]float32, len(src))
		require.NoError(t, cpu.SubtractBackground(ref, src, w, h, 3, m))
		img := &fits.Image{Width: w, Height: h, Channels: 3, Pix: ref, Header: fits.NewHeader()}
		img.Header.Set("ZMCASE", filepath.Base(golden), "zmosaic testsuite golden")
		require.NoError(t, fits.Write(golden, img, fits.WriteOptions{}))
	}
	img, err := fits.ReadImage(golden, "")
	require.NoError(t, err, "golden missing: run go test ./testsuite -update")
	require.Equal(t, len(src), len(img.Pix))
	for _, be := range subtracters(t) {
		got := make([]float32, len(src))
		require.NoError(t, be.run(t.Context(), got, src, w, h, 3, m), be.name)
		ulp, _ := comparePlanes(img.Pix, got, src)
		t.Logf("%s: worst %.0f ulp", be.name, ulp)
		if be.name == "cpu" {
			require.Zero(t, ulp, "cpu reproduces the golden")
			continue
		}
		require.LessOrEqual(t, ulp, tol.ValueULP, be.name)
	}
}

// skySpread measures how flat a mosaic's sky is: the luminance (sum of the channels) is cut
// into 24×24 px boxes, each box fully covered (no NaN) gives its 3σ-clipped median, and the
// spread is P95 − P5 of those medians (robust to the few boxes a bright star still biases).
func skySpread(t *testing.T, out string) (spread float64, boxes int) {
	img, err := fits.ReadImage(filepath.Join(out, pipeline.RunMosaicName), "")
	require.NoError(t, err)
	n := img.Width * img.Height
	lum := make([]float32, n)
	for c := range img.Channels {
		for i := range lum {
			lum[i] += img.Pix[c*n+i]
		}
	}
	const box = 24
	var meds []float32
	buf := make([]float32, 0, box*box)
	for by := 0; by+box <= img.Height; by += box {
		for bx := 0; bx+box <= img.Width; bx += box {
			buf = buf[:0]
			for y := by; y < by+box; y++ {
				buf = append(buf, lum[y*img.Width+bx:y*img.Width+bx+box]...)
			}
			if slices.ContainsFunc(buf, func(v float32) bool { return math.IsNaN(float64(v)) }) {
				continue
			}
			_, med, _, _ := cpu.SigmaClippedStats(buf, 3, 5)
			meds = append(meds, float32(med))
		}
	}
	p := cpu.Percentiles(meds, 5, 95)
	return p[1] - p[0], len(meds)
}

// TestRunWithBackgroundRemovalFlattensTheMosaic runs the pipeline on a small Seestar-like
// 2×2 mosaic (240×320 px frames: smaller ones overlap too little for the mosaic's offset
// matching, which joins the flattened tiles) whose sky carries synth's gradient (fixed on the sky: ±2 % across the set), with
// --background none and poly1. The per-frame plane removal leaves each tile flat and the
// mosaic's offset matching joins them, so the mosaic's sky spread (skySpread) must drop; the
// gradient's part in it with none is ~4 % of the sky over the set. Every cache key changes
// with the option and the cache entries say what was done (ZMBKG, HISTORY).
func TestRunWithBackgroundRemovalFlattensTheMosaic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline twice")
	}
	o := synth.SeestarOptions()
	o.Width, o.Height, o.Frames = 240, 320, 2
	o.Mosaic, o.Overlap = "2x2", 0.3
	o.Stars, o.Seed = 60, 11
	o.CosmicRays, o.Satellites = 5, 0
	root := t.TempDir()
	_, err := synth.Write(t.Context(), root, o, nil)
	require.NoError(t, err)
	in := filepath.Join(root, synth.LightsDir)

	run := func(background string) (*pipeline.RunReport, string) {
		opt := pipeline.DefaultRunOptions()
		opt.Backend = compute.BackendCPU
		opt.MemBudget = 128 << 20
		opt.Background = background
		out := filepath.Join(root, "out_"+background)
		rep, err := pipeline.Run(t.Context(), in, out, opt, pipeline.Hooks{})
		require.NoError(t, err)
		return rep, out
	}
	repNone, outNone := run(pipeline.BackgroundNone)
	repPoly, outPoly := run(pipeline.BackgroundPoly1)

	spreadNone, nb := skySpread(t, outNone)
	spreadPoly, np := skySpread(t, outPoly)
	t.Logf("mosaic sky spread (P95−P5 of %d/%d box medians of R+G+B): none %.2f ADU, poly1 %.2f ADU (%.0f %%)",
		nb, np, spreadNone, spreadPoly, 100*spreadPoly/spreadNone)
	require.Greater(t, nb, 20)
	assert.Less(t, spreadPoly, 0.3*spreadNone, "poly1 flattens the mosaic's sky (measured 11 %)")

	require.Equal(t, len(repNone.Inputs), len(repPoly.Inputs))
	for i := range repNone.Inputs {
		a, b := repNone.Inputs[i], repPoly.Inputs[i]
		require.Equal(t, a.File, b.File)
		require.NotEmpty(t, a.CacheKey)
		assert.NotEqual(t, a.CacheKey, b.CacheKey, "the background option is part of %s's cache key", a.File)
	}
	entry, err := fits.ReadImage(filepath.Join(outPoly, pipeline.CacheDirName, repPoly.Inputs[0].CacheKey+".fits"), "")
	require.NoError(t, err)
	v, ok := entry.Header.String("ZMBKG")
	require.True(t, ok, "the cache entry records the removal")
	assert.Equal(t, pipeline.BackgroundPoly1, v)
	entry, err = fits.ReadImage(filepath.Join(outNone, pipeline.CacheDirName, repNone.Inputs[0].CacheKey+".fits"), "")
	require.NoError(t, err)
	_, ok = entry.Header.String("ZMBKG")
	assert.False(t, ok, "none leaves the entry as before")
}
