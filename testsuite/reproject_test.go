package testsuite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// reprojectGridStep is the pipeline's spacing of exact mapping samples (pipeline.mosaicGridStep).
const reprojectGridStep = 16

// rpProblem is one reprojection: a source frame and the coordinate grid of an output image.
type rpProblem struct {
	name    string
	sw, sh  int
	src     []float32
	w, h    int
	grid    *cpu.CoordGrid
	in, out *wcs.WCS // nil for the affine map
}

// skyFrame is a sky-like source: a tilted background with noise, Gaussian stars (σ 1.5…3 px,
// peaks up to 20000), single NaN pixels, a 3×3 NaN hole and two +Inf pixels.
func skyFrame(rng *rand.Rand, w, h int) []float32 {
	pix := make([]float32, w*h)
	type star struct{ x, y, s, a float64 }
	stars := make([]star, 40)
	for i := range stars {
		stars[i] = star{rng.Float64() * float64(w), rng.Float64() * float64(h), 1.5 + 1.5*rng.Float64(), 20000 * rng.Float64()}
	}
	for j := range h {
		for i := range w {
			v := 1000 + 0.3*float64(i) - 0.2*float64(j) + 10*rng.NormFloat64()
			for _, s := range stars {
				dx, dy := float64(i)-s.x, float64(j)-s.y
				if r2 := dx*dx + dy*dy; r2 < 100*s.s*s.s {
					v += s.a * math.Exp(-r2/(2*s.s*s.s))
				}
			}
			pix[j*w+i] = float32(v)
		}
	}
	for range 30 {
		pix[rng.IntN(len(pix))] = float32(math.NaN())
	}
	for j := 40; j < 43; j++ {
		for i := 60; i < 63; i++ {
			pix[j*w+i] = float32(math.NaN())
		}
	}
	pix[rng.IntN(len(pix))], pix[rng.IntN(len(pix))] = float32(math.Inf(1)), float32(math.Inf(1))
	return pix
}

// affineProblem rotates by 30°, scales by 0.9 and shifts so that part of the output is off
// the source.
func affineProblem() rpProblem {
	p := rpProblem{name: "affine", sw: 150, sh: 110, w: 120, h: 96}
	p.src = skyFrame(rand.New(rand.NewPCG(21, 22)), p.sw, p.sh)
	c, s := 0.9*math.Cos(math.Pi/6), 0.9*math.Sin(math.Pi/6)
	p.grid = cpu.NewCoordGrid(p.w, p.h, reprojectGridStep, func(x, y float64) (float64, float64, bool) {
		return c*x - s*y + 40.3, s*x + c*y - 12.7, true
	})
	return p
}

// sipHeader is the header of a 150×110 TAN-SIP cutout at 1"/px taken from the far corner of a
// 3000×2400 sensor (CRPIX outside the cutout, as in the astrometry.net thumbnail of
// ../shared/data), with distortion terms of the size a solver fits to such a sensor: quadratic
// ~1e-7 px⁻¹ and cubic ~1e-10 px⁻², which move the cutout's pixels by about 2 px.
func sipHeader() *fits.Header {
	h := fits.NewHeader()
	for _, c := range []struct {
		k string
		v any
	}{
		{"CTYPE1", "RA---TAN-SIP"}, {"CTYPE2", "DEC--TAN-SIP"},
		{"CRPIX1", -1350.5}, {"CRPIX2", 1140.5}, {"CRVAL1", 150.0}, {"CRVAL2", 2.2},
		{"CD1_1", -2.7777e-4}, {"CD1_2", 1.2e-6}, {"CD2_1", 0.9e-6}, {"CD2_2", 2.7781e-4},
		{"A_ORDER", 3}, {"A_0_2", -1.1e-7}, {"A_1_1", 1.6e-7}, {"A_2_0", 2.1e-7},
		{"A_0_3", 3e-11}, {"A_1_2", -5e-11}, {"A_2_1", 4e-11}, {"A_3_0", 1e-10},
		{"B_ORDER", 3}, {"B_0_2", 1.9e-7}, {"B_1_1", -1.3e-7}, {"B_2_0", 0.8e-7},
		{"B_0_3", -9e-11}, {"B_1_2", 2e-11}, {"B_2_1", -6e-11}, {"B_3_0", 3e-11},
	} {
		h.Set(c.k, c.v, "")
	}
	return h
}

// tanOutput is a w×h TAN grid centred on the input's pixel (cx, cy), at scale times the
// input's pixel size, rotated by 25° and offset by a tenth of its width.
func tanOutput(t *testing.T, in *wcs.WCS, cx, cy float64, w, h int, scale float64) *wcs.WCS {
	t.Helper()
	ra, dec, err := in.PixelToWorld(cx+0.1*float64(w), cy)
	require.NoError(t, err)
	sx, sy := in.PixelScale(cx, cy) // arcsec per pixel
	sc := scale * math.Sqrt(sx*sy) / 3600
	c, s := math.Cos(25*math.Pi/180), math.Sin(25*math.Pi/180)
	out, err := wcs.New("TAN", [2]float64{ra, dec}, [2]float64{float64(w+1) / 2, float64(h+1) / 2},
		[2][2]float64{{-sc * c, sc * s}, {sc * s, sc * c}})
	require.NoError(t, err)
	return out
}

// sipProblem maps a 120×96 TAN output at 1.15 input pixels, rotated by 25° and offset, onto
// the SIP cutout of sipHeader: output → sky → distorted input pixel.
func sipProblem(t *testing.T) rpProblem {
	t.Helper()
	p := rpProblem{name: "tan_sip", sw: 150, sh: 110, w: 120, h: 96}
	p.src = skyFrame(rand.New(rand.NewPCG(23, 24)), p.sw, p.sh)
	var err error
	p.in, err = wcs.FromHeader(sipHeader())
	require.NoError(t, err)
	require.NotNil(t, p.in.SIP, "the header's SIP terms are read")
	p.out = tanOutput(t, p.in, 74.5, 54.5, p.w, p.h, 1.15)
	p.grid = cpu.NewCoordGrid(p.w, p.h, reprojectGridStep, p.exact)
	return p
}

// thumbnailProblem is sipProblem on real data: the astrometry.net thumbnail of ../shared/data
// (256×256, TAN-SIP as the solver wrote it), onto a 200×180 TAN output. It skips when the
// file is absent.
func thumbnailProblem(t *testing.T) rpProblem {
	t.Helper()
	name := filepath.Join(repoRoot(t), "..", "shared", "data", "astrometrynet_thumbnail_sip.fits.gz")
	if _, err := os.Stat(name); err != nil {
		t.Skipf("real test data absent: %v", err)
	}
	img, err := fits.ReadImage(name, "")
	require.NoError(t, err)
	p := rpProblem{name: "thumbnail", sw: img.Width, sh: img.Height, src: img.Plane(0), w: 200, h: 180}
	p.in, err = wcs.FromHeader(img.Header)
	require.NoError(t, err)
	require.NotNil(t, p.in.SIP)
	p.out = tanOutput(t, p.in, float64(p.sw-1)/2, float64(p.sh-1)/2, p.w, p.h, 1.15)
	p.grid = cpu.NewCoordGrid(p.w, p.h, reprojectGridStep, p.exact)
	return p
}

// exact is the output → input mapping of a WCS problem, through the sky.
func (p rpProblem) exact(x, y float64) (ix, iy float64, ok bool) {
	ra, dec, err := p.out.PixelToWorld(x, y)
	if err != nil {
		return 0, 0, false
	}
	ix, iy, err = p.in.WorldToPixel(ra, dec)
	return ix, iy, err == nil
}

func (p rpProblem) cpu(t *testing.T, interp cpu.Interp) []float32 {
	t.Helper()
	dst := make([]float32, p.w*p.h)
	require.NoError(t, cpu.Reproject(dst, p.w, 0, p.h, p.src, p.sw, p.sh, p.grid, cpu.ReprojectOptions{Interp: interp}))
	return dst
}

// TestReprojectGridMatchesTheExactSIPMapping: the coordinate grid that both backends
// interpolate stays within 1e-3 px of the exact WCS mapping (PixelToWorld, then the SIP
// Newton inversion of WorldToPixel) at every output pixel.
func TestReprojectGridMatchesTheExactSIPMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(*testing.T) rpProblem
	}{{"synthetic sensor corner", sipProblem}, {"astrometry.net thumbnail", thumbnailProblem}} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.mk(t)
			plain := p.in.Clone()
			plain.SIP = nil
			var worst, moved float64
			var inside int
			for y := range p.h {
				for x := range p.w {
					ex, ey, ok := p.exact(float64(x), float64(y))
					require.True(t, ok, "(%d, %d)", x, y)
					gx, gy := p.grid.At(float64(x), float64(y))
					worst = max(worst, math.Abs(gx-ex), math.Abs(gy-ey))
					ra, dec, err := p.out.PixelToWorld(float64(x), float64(y))
					require.NoError(t, err)
					px, py, err := plain.WorldToPixel(ra, dec)
					require.NoError(t, err)
					moved = max(moved, math.Hypot(px-ex, py-ey))
					if ex >= 0 && ex < float64(p.sw) && ey >= 0 && ey < float64(p.sh) {
						inside++
					}
				}
			}
			t.Logf("%s, grid step %d: max |At − exact| = %.3g px over %d×%d pixels; SIP moves pixels by up to %.2f px",
				p.name, reprojectGridStep, worst, p.w, p.h, moved)
			assert.Greater(t, moved, 0.5, "the distortion is real")
			assert.Greater(t, inside, p.w*p.h/3, "the output overlaps the input")
			assert.LessOrEqual(t, worst, 1e-3)
		})
	}
}

// TestReprojectGoldens: the CPU reproduces the golden files bit for bit, and the GPU stays
// within the table's reproject entries of them.
func TestReprojectGoldens(t *testing.T) {
	var d *gpu.Device
	if !testing.Short() || os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
		d = openGPU(t)
	}
	for _, p := range []rpProblem{affineProblem(), sipProblem(t)} {
		for _, interp := range []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3} {
			name := fmt.Sprintf("reproject_%s_%s", p.name, interp)
			t.Run(name, func(t *testing.T) {
				golden := filepath.Join("testdata", name+"_golden.fits")
				ref := p.cpu(t, interp)
				if *update {
					img := &fits.Image{Width: p.w, Height: p.h, Channels: 1, Pix: ref, Header: fits.NewHeader()}
					img.Header.Set("ZMCASE", name, "zmosaic testsuite golden: reprojected image")
					require.NoError(t, fits.Write(golden, img, fits.WriteOptions{}))
				}
				img, err := fits.ReadImage(golden, "")
				require.NoError(t, err, "golden missing: run go test ./testsuite -update")
				require.Equal(t, [3]int{p.w, p.h, 1}, [3]int{img.Width, img.Height, img.Channels})
				requireSameFloats(t, img.Pix, ref)
				if d == nil {
					return
				}
				got := make([]float32, p.w*p.h)
				require.NoError(t, d.Reproject(t.Context(), got, p.w, 0, p.h, p.src, p.sw, p.sh, p.grid, cpu.ReprojectOptions{Interp: interp}))
				ulp, raw, abs, nanDiff := compareReprojection(t, p, interp, img.Pix, got)
				t.Logf("gpu: worst %.1f ulp beyond the coordinate term, %.1f ulp in all (max |Δ| %.3g), %d NaN decisions differ", ulp, raw, abs, nanDiff)
			})
		}
	}
}

// TestReprojectRunnerBandsGiveTheDevicesBits: through the Runner, band by band as the
// pipeline calls it, the GPU gives the same bits as one device call for the whole image.
func TestReprojectRunnerBandsGiveTheDevicesBits(t *testing.T) {
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		t.Skip("GPU cross-check")
	}
	d := openGPU(t)
	p := sipProblem(t)
	opt := cpu.ReprojectOptions{Interp: cpu.InterpLanczos3}
	whole := make([]float32, p.w*p.h)
	require.NoError(t, d.Reproject(t.Context(), whole, p.w, 0, p.h, p.src, p.sw, p.sh, p.grid, opt))
	var gpuChunks int
	r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendGPU, GPUBudget: compute.MinGPUBudget}, func(e compute.Event) {
		assert.Less(t, e.Level, compute.Warn, "%s %v", e.Key, e.Params)
	})
	defer r.Close()
	// 1 MiB holds the whole problem; reproject it in bands of 10 rows as the pipeline does.
	got := make([]float32, p.w*p.h)
	for y0 := 0; y0 < p.h; y0 += 10 {
		n := min(10, p.h-y0)
		require.NoError(t, r.Reproject(t.Context(), got[y0*p.w:(y0+n)*p.w], p.w, y0, n, p.src, p.sw, p.sh, p.grid, opt))
	}
	for _, o := range r.Report() {
		if o.Op == "reproject" {
			gpuChunks = o.ChunksGPU
			assert.Equal(t, "gpu", o.Backend)
		}
	}
	assert.Equal(t, (p.h+9)/10, gpuChunks)
	requireSameFloats(t, whole, got)
}

// TestReprojectRealSIPFrameOnEveryBackend: the real TAN-SIP frame, reprojected on the GPU,
// stays within the table of the CPU.
func TestReprojectRealSIPFrameOnEveryBackend(t *testing.T) {
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		t.Skip("GPU cross-check")
	}
	p := thumbnailProblem(t)
	d := openGPU(t)
	for _, interp := range []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3} {
		t.Run(string(interp), func(t *testing.T) {
			got := make([]float32, p.w*p.h)
			require.NoError(t, d.Reproject(t.Context(), got, p.w, 0, p.h, p.src, p.sw, p.sh, p.grid, cpu.ReprojectOptions{Interp: interp}))
			ulp, raw, abs, nanDiff := compareReprojection(t, p, interp, p.cpu(t, interp), got)
			t.Logf("gpu: worst %.1f ulp beyond the coordinate term, %.1f ulp in all (max |Δ| %.3g), %d NaN decisions differ", ulp, raw, abs, nanDiff)
		})
	}
}

// compareReprojection checks got (a GPU) against want (the CPU) with the table's entry for
// interp: NaN decisions may differ only where the CPU coordinate lies within
// gpu.CoordTolerance of an integer or of the footprint edge, on at most CountMismatch of the
// pixels; finite pixels within ValueULP ulps of the largest |sample| under the kernel plus
// 1.5·G·gpu.CoordTolerance, G the largest step between neighbouring samples there. It returns
// the worst ulps beyond the coordinate term, the worst ulps of |Δ| itself, the largest |Δ| and
// the NaN decisions that differ.
func compareReprojection(t *testing.T, p rpProblem, interp cpu.Interp, want, got []float32) (worstULP, rawULP, worstAbs float64, nanDiff int) {
	t.Helper()
	tol := Tolerances["reproject/"+string(interp)]
	require.Positive(t, tol.ValueULP, "no tolerance entry for %s", interp)
	half := map[cpu.Interp]int{cpu.InterpBilinear: 1, cpu.InterpBicubic: 2, cpu.InterpLanczos3: 3}[interp]
	near := func(v float64, n int) bool {
		e := gpu.CoordTolerance
		return math.Abs(v-math.Round(v)) < e || math.Abs(v+0.5) < e || math.Abs(v-float64(n)+0.5) < e
	}
	var finite int
	for k := range want {
		x, y := k%p.w, k/p.w
		ix, iy := p.grid.At(float64(x), float64(y))
		wn, gn := math.IsNaN(float64(want[k])), math.IsNaN(float64(got[k]))
		if wn != gn {
			nanDiff++
			assert.True(t, near(ix, p.sw) || near(iy, p.sh), "NaN decision differs at (%d, %d) → (%.7f, %.7f): cpu %v gpu %v", x, y, ix, iy, want[k], got[k])
			continue
		}
		if wn {
			continue
		}
		finite++
		// The kernel's support, one pixel wider for the GPU's coordinate error.
		m, g := 0.0, 0.0
		fx, fy := int(math.Floor(ix)), int(math.Floor(iy))
		at := func(i, j int) float64 {
			return float64(p.src[min(max(j, 0), p.sh-1)*p.sw+min(max(i, 0), p.sw-1)])
		}
		for j := fy - half; j <= fy+half+1; j++ {
			for i := fx - half; i <= fx+half+1; i++ {
				v := at(i, j)
				if math.IsInf(v, 0) || math.IsNaN(v) {
					continue
				}
				m = max(m, math.Abs(v))
				for _, n := range []float64{at(i+1, j), at(i, j+1)} {
					if !math.IsInf(n, 0) && !math.IsNaN(n) {
						g = max(g, math.Abs(n-v))
					}
				}
			}
		}
		d := math.Abs(float64(want[k]) - float64(got[k]))
		worstAbs = max(worstAbs, d)
		rawULP = max(rawULP, d/ulpAt(m))
		u := max(0, d-1.5*g*gpu.CoordTolerance) / ulpAt(m)
		worstULP = max(worstULP, u)
		if u > tol.ValueULP {
			t.Errorf("(%d, %d): gpu %v cpu %v: %.1f ulp of %g beyond 1.5·%g·%g > %.0f", x, y, got[k], want[k], u, m, g, gpu.CoordTolerance, tol.ValueULP)
		}
	}
	assert.Greater(t, finite, len(want)/3, "the output overlaps the source")
	assert.LessOrEqual(t, float64(nanDiff), tol.CountMismatch*float64(len(want)), "NaN decisions that differ")
	return worstULP, rawULP, worstAbs, nanDiff
}

func requireSameFloats(t *testing.T, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for k := range want {
		if math.Float32bits(want[k]) != math.Float32bits(got[k]) {
			t.Fatalf("pixel %d: %v vs %v (bits differ)", k, got[k], want[k])
		}
	}
}
