//go:build !(js && wasm)

package testsuite

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// The mosaic scenarios load the four real ISAAC cutouts (plate-solved, uneven overlaps) and a
// frame without WCS into the page, mosaic them from #mosaic-btn and compare what the page holds
// with pipeline.Mosaic run natively on the same files.

// mosaicSetup is the served page, the files and their native mosaic.
type mosaicSetup struct {
	url      string
	files    []string // the four cutouts, then flat.fits (no WCS)
	ref      *pipeline.MosaicResult
	nativeMS float64 // best of 3 native runs
}

func newMosaicSetup(t *testing.T) mosaicSetup {
	t.Helper()
	requireChromium(t)
	cutouts, err := filepath.Glob(filepath.Join(repoRoot(t), "..", "shared", "data", "isaac_cutouts", "isaac_*.fits"))
	require.NoError(t, err)
	if len(cutouts) != 4 {
		t.Skipf("real test data ../shared/data/isaac_cutouts absent (found %d files): skipping the browser mosaic", len(cutouts))
	}
	s := mosaicSetup{url: serve(t, site(t)) + "/index.html"}
	flat := filepath.Join(t.TempDir(), "flat.fits")
	img := &fits.Image{Width: 32, Height: 24, Channels: 1, Pix: make([]float32, 32*24)}
	for i := range img.Pix {
		img.Pix[i] = float32(100 + i%13)
	}
	require.NoError(t, fits.Write(flat, img, fits.WriteOptions{}))
	s.files = append(cutouts, flat)

	// The CLI's defaults (the page's, checked below) and skip_bad (the page lists and skips).
	opt := pipeline.DefaultMosaicOptions()
	opt.SkipBad = true
	srcs := make([]pipeline.FrameSource, len(s.files))
	for i, f := range s.files {
		srcs[i] = pipeline.DiskFrame(f)
	}
	s.nativeMS = math.Inf(1)
	for range 3 {
		start := time.Now()
		res, err := pipeline.Mosaic(context.Background(), srcs, opt, pipeline.Hooks{})
		require.NoError(t, err)
		s.nativeMS = min(s.nativeMS, float64(time.Since(start).Microseconds())/1000)
		s.ref = res
	}
	require.Equal(t, 4, s.ref.Used)
	return s
}

// requireMosaicDefaults checks that zmosaic.mosaicDefaults() are the CLI's.
func requireMosaicDefaults(t *testing.T, p *page) {
	t.Helper()
	var d struct {
		Interp     string  `json:"interp"`
		Feather    int     `json:"feather"`
		Match      string  `json:"match"`
		Projection string  `json:"projection"`
		PixelScale float64 `json:"pixel_scale"`
		NorthUp    bool    `json:"north_up"`
		Combine    string  `json:"combine"`
	}
	p.evalJSON(`zmosaic.mosaicDefaults()`, &d)
	o := pipeline.DefaultMosaicOptions()
	assert.Equal(t, string(o.Interp), d.Interp)
	assert.Equal(t, o.Feather, d.Feather)
	assert.Equal(t, o.Match, d.Match)
	assert.Equal(t, o.Projection, d.Projection)
	assert.InDelta(t, o.PixelScaleArcsec, d.PixelScale, 0)
	assert.Equal(t, o.NorthUp, d.NorthUp)
	assert.Equal(t, o.Combine, d.Combine)
	// The form shows them.
	var form struct {
		Interp, Feather, Match, Projection, Combine string
		NorthUp                                     bool
	}
	p.evalJSON(`({interp: document.querySelector("#opt-interp").value, feather: document.querySelector("#opt-feather").value,
		combine: document.querySelector("#opt-mosaic-combine").value,
		match: document.querySelector("#opt-match").value, projection: document.querySelector("#opt-projection").value,
		northup: document.querySelector("#opt-north-up").checked})`, &form)
	assert.Equal(t, []string{d.Interp, fmt.Sprint(d.Feather), d.Match, d.Projection, d.Combine},
		[]string{form.Interp, form.Feather, form.Match, form.Projection, form.Combine})
	assert.Equal(t, d.NorthUp, form.NorthUp)
}

// mosaicViaButton clicks #mosaic-btn and waits for data-state done (or fails on error).
func (p *page) mosaicViaButton(timeout time.Duration) {
	p.t.Helper()
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#status").dataset.state = "clicked"`))
	p.do(chromedp.Click(chromedp.CSS("#mosaic-btn")))
	p.waitJS(`["done","error"].includes(document.querySelector("#status").dataset.state)`, timeout)
	if s := p.evalString(`document.querySelector("#status").dataset.state`); s != "done" {
		p.t.Fatalf("mosaic ended in state %q: %s%s", s, p.evalString(`document.querySelector("#status").innerText + " / " + document.querySelector("#log").innerText`), p.consoleTail())
	}
}

// mosaicResult is what zmosaic.mosaic resolves to, plus the wall time the page measured.
type mosaicResult struct {
	Kind          string  `json:"kind"`
	Frames        int     `json:"frames"`
	Skipped       int     `json:"skipped"`
	Backend       string  `json:"backend"`
	BackendReason string  `json:"backend_reason"`
	Seconds       float64 `json:"seconds"`
	PixelScale    float64 `json:"pixel_scale"`
	WallMS        float64 `json:"wall_ms"`
}

func (p *page) mosaicAPI(backend string) mosaicResult {
	p.t.Helper()
	var r mosaicResult
	p.evalJSON(fmt.Sprintf(`(async () => {
		const o = Object.assign(zmosaic.mosaicDefaults(), {backend: %q});
		const t0 = performance.now();
		const r = await zmosaic.mosaic(o);
		return Object.assign({}, r, {wall_ms: performance.now() - t0});
	})()`, backend), &r)
	return r
}

// compareMosaic checks the page's mosaic against the native one: the same bits when it ran on
// the CPU (same Go code, same inputs). On WebGPU the reprojection is held to the table's entry
// for the interpolation, as testsuite's reprojection test applies it: ValueULP ulps of the
// largest |value| near the pixel plus 1.5·G·gpu.CoordTolerance, G the largest step between
// neighbouring values there (the native mosaic's 5×5 neighbourhood stands for the kernel's
// support: the coadd is a convex combination of matched, reprojected inputs); no-data
// decisions may differ only on CountMismatch of the pixels (coordinates on a footprint edge).
func compareMosaic(t *testing.T, ref *pipeline.MosaicResult, got []float32, backend string) {
	t.Helper()
	want := ref.Image.Pix
	require.Len(t, got, len(want))
	if backend == "cpu" {
		for i, w := range want {
			require.Equal(t, math.Float32bits(w), math.Float32bits(got[i]), "pixel %d: page %v, native %v: the CPU path gives the same bits", i, got[i], w)
		}
		t.Logf("page (cpu) vs native pipeline.Mosaic: %d pixels, bit-identical", len(want))
		return
	}
	key := "reproject/" + string(pipeline.DefaultMosaicOptions().Interp)
	tol, ok := Tolerances[key]
	require.True(t, ok, "the mosaic ran on %s but the tolerance table has no entry %q", backend, key)
	w, h := ref.Image.Width, ref.Image.Height
	at := func(x, y int) float64 { return float64(want[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)]) }
	diff, nanDiff, worst := 0, 0, 0.0
	for i, wv := range want {
		g := got[i]
		if math.Float32bits(g) == math.Float32bits(wv) {
			continue
		}
		diff++
		if (wv != wv) != (g != g) {
			nanDiff++
			continue
		}
		x, y := i%w, i/w
		m, grad := 0.0, 0.0
		for j := y - 2; j <= y+2; j++ {
			for k := x - 2; k <= x+2; k++ {
				v := at(k, j)
				if math.IsNaN(v) {
					continue
				}
				m = max(m, math.Abs(v))
				for _, n := range []float64{at(k+1, j), at(k, j+1)} {
					if !math.IsNaN(n) {
						grad = max(grad, math.Abs(n-v))
					}
				}
			}
		}
		d := math.Abs(float64(g) - float64(wv))
		bound := tol.ValueULP*ulpAt(m) + 1.5*grad*gpu.CoordTolerance
		worst = max(worst, d/bound)
		require.LessOrEqual(t, d, bound, "pixel (%d, %d): page %v, native %v (backend %s; %s)", x, y, g, wv, backend, tol.Why)
	}
	assert.LessOrEqual(t, float64(nanDiff), tol.CountMismatch*float64(len(want)), "no-data decisions that differ")
	t.Logf("page (%s) vs native pipeline.Mosaic: %d pixels, %d differ (%d of them no-data decisions), worst %.3f of the bound",
		backend, len(want), diff, nanDiff, worst)
}

func TestBrowserMosaicsTheISAACCutouts(t *testing.T) {
	s := newMosaicSetup(t)
	for _, tc := range []struct {
		name   string
		webgpu bool
	}{{"with WebGPU", true}, {"on the CPU path without WebGPU", false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBrowser(t, tc.webgpu)
			p := b.newPageTimeout(t, s.url, 4*time.Minute)
			requireMosaicDefaults(t, p)
			assert.Equal(t, "true", p.evalString(`String(document.querySelector("#mosaic-btn").disabled)`), "no file yet: Mosaic is off")
			p.upload(s.files...)
			rows := p.fileList()
			require.Len(t, rows, 5)
			for _, r := range rows[:4] {
				assert.Contains(t, r.Text, "WCS yes", r.Name)
			}
			assert.Contains(t, rows[4].Text, "WCS no")
			assert.Equal(t, "false", p.evalString(`String(document.querySelector("#mosaic-btn").disabled)`), "files with a WCS: Mosaic is on")

			p.mosaicViaButton(3 * time.Minute)
			got := p.resultFloat32()
			backend := p.evalString(`document.querySelector("#backend-badge").dataset.kind`)
			if backend == "gpu" {
				backend = "webgpu"
			}
			compareMosaic(t, s.ref, got, backend)

			// The file without WCS is listed as left out, with the localised reason.
			skipped := p.evalString(`document.querySelector('#files li[data-name="flat.fits"].skipped .file-skipped')?.innerText ?? ""`)
			requireCatalogText(t, "en", "wasm_mosaic_skip_no_wcs", skipped)
			var keys []string
			for _, it := range p.logItems() {
				keys = append(keys, it.Key)
			}
			assert.Subset(t, keys, []string{"mosaic_frame_skipped", "mosaic_grid", "mosaic_memory_plan", "mosaic_done"})

			// The preview is the stretched mosaic at its size, and not blank.
			var pv struct{ W, H, Min, Max, Transparent int }
			p.evalJSON(`(() => { const c = document.querySelector("#preview");
				const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
				let lo = 255, hi = 0, tr = 0;
				for (let i = 0; i < d.length; i += 4) { if (d[i+3] === 0) { tr++; continue; } lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
				return {w: c.width, h: c.height, min: lo, max: hi, transparent: tr}; })()`, &pv)
			assert.Equal(t, []int{s.ref.Image.Width, s.ref.Image.Height}, []int{pv.W, pv.H}, "preview size")
			assert.Greater(t, pv.Max-pv.Min, 100, "the preview shows an image, not a flat canvas")
			assert.Positive(t, pv.Transparent, "the corners no cutout covers are transparent")

			// The FITS the download button saves: the same bits, the output WCS, ALPHA.
			raw := p.bytesOf(`zmosaic.fitsBytes()`)
			img, hdr := decodeFITS(t, raw, "")
			require.Equal(t, len(got), len(img.Pix))
			for i := range got {
				require.Equal(t, math.Float32bits(got[i]), math.Float32bits(img.Pix[i]), "fitsBytes pixel %d", i)
			}
			w, err := wcs.FromHeader(hdr)
			require.NoError(t, err, "the mosaic FITS carries its WCS")
			ra, dec, err := w.PixelToWorld(100, 200)
			require.NoError(t, err)
			rra, rdec, err := s.ref.WCS.PixelToWorld(100, 200)
			require.NoError(t, err)
			assert.InDelta(t, rra, ra, 1e-9)
			assert.InDelta(t, rdec, dec, 1e-9)
			alpha, _ := decodeFITS(t, raw, "ALPHA")
			assert.Len(t, alpha.Pix, len(s.ref.Alpha))
			cov, _ := decodeFITS(t, p.bytesOf(`zmosaic.coverageFitsBytes()`), "")
			require.Len(t, cov.Pix, len(s.ref.Coverage))
			covDiff, covMax, covWorst := 0, 0.0, 0.0
			for i, c := range s.ref.Coverage {
				covMax = max(covMax, float64(c))
				if math.Float32bits(c) != math.Float32bits(cov.Pix[i]) {
					covDiff++
					covWorst = max(covWorst, math.Abs(float64(c)-float64(cov.Pix[i])))
				}
			}
			if backend == "cpu" {
				assert.Zero(t, covDiff, "the coverage download is the native coverage, bit for bit")
			} else {
				// The weights are reprojected too: on the GPU they carry its rounding.
				key := "reproject/" + string(pipeline.DefaultMosaicOptions().Interp)
				assert.LessOrEqual(t, covWorst, Tolerances[key].ValueULP*ulpAt(covMax), "coverage vs the native run")
				t.Logf("coverage: %d of %d pixels differ from the native run, worst |Δ| %.3g (max coverage %.3g)", covDiff, len(cov.Pix), covWorst, covMax)
			}
			assert.Equal(t, "false", p.evalString(`String(document.querySelector("#download-coverage").hidden)`))
			p.screenshot(map[bool]string{true: "mosaic-webgpu", false: "mosaic-cpu"}[tc.webgpu])

			// French: the reason is said again in French, without a new run.
			p.do(chromedpSelect("#lang", "fr"))
			p.waitJS(`zmosaic.lang() === "fr" && document.documentElement.lang === "fr"`, 5*time.Second)
			skipped = p.evalString(`document.querySelector('#files li[data-name="flat.fits"] .file-skipped')?.innerText ?? ""`)
			requireCatalogText(t, "fr", "wasm_mosaic_skip_no_wcs", skipped)

			// Timing through the API, best of 2 (the button's run warmed the code).
			var best mosaicResult
			for i := range 2 {
				r := p.mosaicAPI(map[bool]string{true: "auto", false: "cpu"}[tc.webgpu])
				require.Equal(t, "mosaic", r.Kind)
				require.Equal(t, 4, r.Frames)
				require.Equal(t, 1, r.Skipped)
				if i == 0 || r.WallMS < best.WallMS {
					best = r
				}
			}
			compareMosaic(t, s.ref, p.resultFloat32(), best.Backend)
			t.Logf("BenchmarkBrowserMosaic/isaac-4x600x600→%dx%d: page %s %.0f ms (mosaic %.0f ms)  native-cpu %.0f ms (best of 3, GOMAXPROCS %d)  ratio %.1f×; backend reason: %s",
				s.ref.Image.Width, s.ref.Image.Height, best.Backend, best.WallMS, best.Seconds*1000, s.nativeMS,
				runtime.GOMAXPROCS(0), best.WallMS/s.nativeMS, best.BackendReason)
			p.requireCleanConsole(consoleAllowed{
				text: "No available adapters",
				why:  "Chromium's notice that requestAdapter() found none without --enable-unsafe-webgpu (the situation this subtest creates)",
			})
		})
	}
}

// requireCatalogText checks that text is key's message in lang.
func requireCatalogText(t *testing.T, lang, key, text string) {
	t.Helper()
	msgs, err := locales.Raw(lang)
	require.NoError(t, err)
	tmpl, ok := msgs[key]
	require.True(t, ok, "%s is not in locales/%s.json", key, lang)
	assert.Regexp(t, templateRegexp(tmpl), strings.TrimSpace(text), "%s in %s", key, lang)
}

// decodeFITS reads one image HDU ("" = the first with data) of a FITS file in memory.
func decodeFITS(t *testing.T, raw []byte, hdu string) (*fits.Image, *fits.Header) {
	t.Helper()
	f, err := fits.NewReader(bytes.NewReader(raw), int64(len(raw)), "download.fits")
	require.NoError(t, err)
	defer f.Close()
	h, err := f.Image(hdu)
	require.NoError(t, err, "HDU %q", hdu)
	img, err := h.ReadImage()
	require.NoError(t, err)
	return img, h.Header
}
