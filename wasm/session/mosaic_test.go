package session

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// isaacCutouts returns the paths of the four real ISAAC cutouts (../shared/data beside the
// repository root), or skips the test.
func isaacCutouts(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
	paths, err := filepath.Glob(filepath.Join(dir, "..", "shared", "data", "isaac_cutouts", "isaac_*.fits"))
	require.NoError(t, err)
	if len(paths) != 4 {
		t.Skipf("real test data ../shared/data/isaac_cutouts absent (found %d files): skipping the mosaic tests", len(paths))
	}
	return paths
}

// noWCSFrame is a valid FITS image whose header has no WCS.
func noWCSFrame(t *testing.T) []byte {
	t.Helper()
	img := &fits.Image{Width: 16, Height: 12, Channels: 1, Pix: make([]float32, 16*12)}
	for i := range img.Pix {
		img.Pix[i] = float32(i % 7)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return buf.Bytes()
}

// addIsaac adds the cutouts as the page does (bytes), with a file without WCS and a corrupt
// one between them, and returns the cutouts as disk sources for the library.
func addIsaac(t *testing.T, s *Session) []pipeline.FrameSource {
	t.Helper()
	var disk []pipeline.FrameSource
	for i, p := range isaacCutouts(t) {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		info := s.AddFile(filepath.Base(p), b)
		require.Equal(t, true, info["wcs"], "%s has a WCS", p)
		disk = append(disk, pipeline.DiskFrame(p))
		if i == 1 {
			assert.Equal(t, false, s.AddFile("flat.fits", noWCSFrame(t))["wcs"])
			assert.Equal(t, false, s.AddFile("broken.fits", []byte("SIMPLE  = garbage"))["ok"])
		}
	}
	return disk
}

func TestMosaicOfTheISAACCutoutsEqualsTheLibraryOnDiskAndSkipsFilesWithoutWCS(t *testing.T) {
	s := newSession(t, "fr", Env{Adapter: func(context.Context) map[string]any { panic("a CPU mosaic probed an adapter") }})
	disk := addIsaac(t, s)

	var mu sync.Mutex
	var keys []string
	phases := map[string]int{}
	hooks := Hooks{
		Progress: func(p string, done, total int) { mu.Lock(); phases[p] = done; mu.Unlock() },
		Event: func(e map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, e["key"].(string))
			assert.NotEmpty(t, e["message"])
		},
	}
	sum, err := s.Mosaic(t.Context(), map[string]any{"backend": "cpu"}, hooks)
	require.NoError(t, err)

	// The library on the files on disk, with the CLI's defaults (another memory budget than the
	// page's: the result must not depend on the band height).
	opt := pipeline.DefaultMosaicOptions()
	want, err := pipeline.Mosaic(t.Context(), disk, opt, pipeline.Hooks{})
	require.NoError(t, err)

	assert.Equal(t, "mosaic", sum["kind"])
	assert.Equal(t, want.Image.Width, sum["width"])
	assert.Equal(t, want.Image.Height, sum["height"])
	assert.Greater(t, want.Image.Width, 1000, "four 600 px cutouts spread over ~1024 px")
	assert.Equal(t, 1, sum["channels"])
	assert.Equal(t, 4, sum["frames"])
	assert.Equal(t, 2, sum["skipped"])
	assert.Equal(t, "cpu", sum["backend"])
	assert.Contains(t, sum["backend_reason"], "reprojection sur le CPU", "the Runner's reason, in French")
	assert.InDelta(t, 0.148, sum["pixel_scale"], 0.002, "ISAAC's 0.148\"/px")
	assert.Equal(t, true, sum["matched"])
	skipped := sum["skipped_files"].([]any)
	require.Len(t, skipped, 2)
	assert.Equal(t, map[string]any{"name": "flat.fits", "key": "wasm_mosaic_skip_no_wcs", "params": map[string]any{},
		"reason": "écarté de la mosaïque : son en-tête n'a pas de WCS utilisable (faites d'abord la réduction astrométrique)"}, skipped[0])
	assert.Equal(t, "broken.fits", skipped[1].(map[string]any)["name"])
	assert.Contains(t, skipped[1].(map[string]any)["reason"], "n'est pas une image FITS lisible", "the file's own read error")
	assert.Contains(t, keys, "mosaic_frame_skipped")
	assert.Contains(t, keys, "mosaic_grid")
	assert.Contains(t, keys, "mosaic_done")
	for _, p := range []string{"scan", "write"} {
		assert.Positive(t, phases[p], p)
	}

	got, err := s.ResultFloat32()
	require.NoError(t, err)
	require.Len(t, got, len(want.Image.Pix))
	nan := 0
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want.Image.Pix[i]) {
			t.Fatalf("pixel %d: page %v, library %v: the page must give the library's bits", i, got[i], want.Image.Pix[i])
		}
		if got[i] != got[i] {
			nan++
		}
	}
	assert.Positive(t, nan, "the corners no cutout covers are NaN (no data)")
	assert.Less(t, nan, len(got)/4)

	// The FITS download is the CLI's mosaic file: same pixels, the output WCS, ALPHA.
	raw, err := s.FITSBytes()
	require.NoError(t, err)
	f, err := fits.NewReader(bytes.NewReader(raw), int64(len(raw)), "mosaic.fits")
	require.NoError(t, err)
	defer f.Close()
	hdu, err := f.Image("")
	require.NoError(t, err)
	back, err := hdu.ReadImage()
	require.NoError(t, err)
	assert.Equal(t, len(want.Image.Pix), len(back.Pix))
	w, err := wcs.FromHeader(hdu.Header)
	require.NoError(t, err, "the mosaic FITS carries its WCS")
	wx, wy, err := want.WCS.PixelToWorld(10, 20)
	require.NoError(t, err)
	gx, gy, err := w.PixelToWorld(10, 20)
	require.NoError(t, err)
	assert.InDelta(t, wx, gx, 1e-9)
	assert.InDelta(t, wy, gy, 1e-9)
	alpha, err := f.Image("ALPHA")
	require.NoError(t, err)
	a, err := alpha.ReadImage()
	require.NoError(t, err)
	for i, v := range want.Alpha {
		require.Equal(t, float32(v), a.Pix[i], "ALPHA pixel %d", i)
	}

	cov, err := s.CoverageFITSBytes()
	require.NoError(t, err)
	cf, err := fits.NewReader(bytes.NewReader(cov), int64(len(cov)), "coverage.fits")
	require.NoError(t, err)
	defer cf.Close()
	ch, err := cf.Image("")
	require.NoError(t, err)
	cimg, err := ch.ReadImage()
	require.NoError(t, err)
	assert.Equal(t, want.Coverage, cimg.Pix)
	unit, _ := ch.Header.String("BUNIT")
	assert.Equal(t, "weight", unit)

	pngData, err := s.PNGBytes(math.NaN(), math.NaN(), math.NaN())
	require.NoError(t, err)
	dec, err := png.Decode(bytes.NewReader(pngData))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, want.Image.Width, want.Image.Height), dec.Bounds())
	_, _, rgba, err := s.PreviewRGBA(1, 99.9, 12)
	require.NoError(t, err)
	assert.Equal(t, uint8(0), rgba[3], "the uncovered corner is transparent")
}

func TestMosaicNeedsFilesWithAWCSAndACoverageNeedsAMosaic(t *testing.T) {
	s := newSession(t, "en", Env{})
	_, err := s.Mosaic(t.Context(), nil, Hooks{})
	assert.EqualError(t, err, "no files to mosaic: add plate-solved FITS frames first")
	s.AddFile("flat.fits", noWCSFrame(t))
	_, err = s.Mosaic(t.Context(), nil, Hooks{})
	assert.EqualError(t, err, "no file carries a WCS: a mosaic needs plate-solved frames (the file list shows WCS yes/no)")
	_, err = s.Mosaic(t.Context(), map[string]any{"feather": 2.5}, Hooks{})
	assert.EqualError(t, err, "invalid option feather: want a whole number, got 2.5")

	_, err = s.Stack(t.Context(), map[string]any{"backend": "cpu", "reject": "none"}, Hooks{})
	require.NoError(t, err, "a one-frame stack without WCS is fine")
	_, err = s.CoverageFITSBytes()
	assert.EqualError(t, err, "no mosaic yet: mosaic some frames first")

	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	_, err = s.Mosaic(t.Context(), nil, Hooks{})
	assert.EqualError(t, err, "a stack is already running; wait for it to finish")
}

func TestMosaicDefaultsAreTheCLIs(t *testing.T) {
	opt, st, err := ParseMosaicOptions(MosaicDefaults())
	require.NoError(t, err)
	want := pipeline.DefaultMosaicOptions()
	want.MemBudget, want.SkipBad = memBudget, true
	want.Compute.SoftwareInAuto = true
	assert.Equal(t, want, opt)
	assert.Equal(t, cpu.DefaultStretchOptions(), st)
	d := MosaicDefaults()
	assert.Equal(t, "lanczos3", d["interp"])
	assert.Equal(t, "auto", d["gpu_budget"])
}

func TestParseMosaicOptions(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]any
		check   func(t *testing.T, o pipeline.MosaicOptions, c compute.Options)
		wantErr string
	}{
		{name: "strings from inputs are numbers and projections upper case",
			in: map[string]any{"feather": "8", "pixel_scale": "0.3", "projection": " sin ", "interp": "Bicubic", "north_up": true, "match": "gain-offset"},
			check: func(t *testing.T, o pipeline.MosaicOptions, _ compute.Options) {
				assert.Equal(t, 8, o.Feather)
				assert.InDelta(t, 0.3, o.PixelScaleArcsec, 0)
				assert.Equal(t, "SIN", o.Projection)
				assert.Equal(t, cpu.InterpBicubic, o.Interp)
				assert.True(t, o.NorthUp)
				assert.Equal(t, pipeline.MatchGainOffset, o.Match)
			}},
		{name: "compute keys reach the runner options",
			in: map[string]any{"backend": "gpu", "gpu_budget": "64MiB"},
			check: func(t *testing.T, _ pipeline.MosaicOptions, c compute.Options) {
				assert.Equal(t, compute.BackendGPU, c.Backend)
				assert.Equal(t, int64(64<<20), c.GPUBudget)
			}},
		{name: "a stack option is unknown here", in: map[string]any{"reject": "winsor"}, wantErr: "option reject: unknown option"},
		{name: "combine and kappa bounds are the mosaic's",
			in: map[string]any{"combine": "kappa", "kappa_low": "2.5", "kappa_high": 4.0},
			check: func(t *testing.T, o pipeline.MosaicOptions, _ compute.Options) {
				assert.Equal(t, pipeline.CombineKappa, o.Combine)
				assert.Equal(t, []float32{2.5, 4}, []float32{o.KappaLow, o.KappaHigh})
			}},
		{name: "a stack-only combine fails validation", in: map[string]any{"combine": "max"}, wantErr: "unknown combine"},
		{name: "north_up must be a boolean", in: map[string]any{"north_up": "yes"}, wantErr: "want true or false"},
		{name: "an unknown interpolation fails validation", in: map[string]any{"interp": "nearest"}, wantErr: "nearest"},
		{name: "an unknown match fails validation", in: map[string]any{"match": "gain"}, wantErr: "unknown match"},
		{name: "a negative feather fails validation", in: map[string]any{"feather": -1.0}, wantErr: "feather must be >= 0"},
		{name: "a negative scale fails validation", in: map[string]any{"pixel_scale": -0.1}, wantErr: "pixel scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, err := ParseMosaicOptions(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, o, o.Compute)
		})
	}
}

// reprojectingGPU is fakeGPU that also reprojects (with package cpu), as a WebGPU device does.
type reprojectingGPU struct{ fakeGPU }

func (reprojectingGPU) Reproject(_ context.Context, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error {
	return cpu.Reproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt)
}

func TestMosaicReprojectsOnTheBrowsersAdapterThroughTheRunner(t *testing.T) {
	env := Env{
		Adapter: func(context.Context) map[string]any {
			return map[string]any{"name": "", "vendor": "google", "architecture": "swiftshader", "description": "", "fallback": true}
		},
		Open: func(context.Context, gpu.Options) (compute.Device, error) { return reprojectingGPU{}, nil },
	}
	s := newSession(t, "en", env)
	disk := addIsaac(t, s)
	var msgs []string
	sum, err := s.Mosaic(t.Context(), nil, Hooks{Event: func(e map[string]any) { msgs = append(msgs, e["message"].(string)) }})
	require.NoError(t, err)
	assert.Equal(t, "webgpu", sum["backend"])
	assert.Contains(t, sum["backend_reason"], "google swiftshader")
	assert.Equal(t, "swiftshader", sum["adapter"].(map[string]any)["architecture"])
	assert.NotNil(t, sum["limits"])
	assert.Contains(t, msgs, "reprojecting on the GPU: google swiftshader", "wgpu's generic adapter name is replaced")

	want, err := pipeline.Mosaic(t.Context(), disk, pipeline.DefaultMosaicOptions(), pipeline.Hooks{})
	require.NoError(t, err)
	got, err := s.ResultFloat32()
	require.NoError(t, err)
	require.Len(t, got, len(want.Image.Pix))
	for i := range got {
		require.Equal(t, math.Float32bits(want.Image.Pix[i]), math.Float32bits(got[i]),
			"pixel %d: a device that computes cpu.Reproject gives the library's bits", i)
	}
}
