package pipeline

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// sharedData returns ../shared/data beside the repository root, or skips the test.
func sharedData(t *testing.T) string {
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
	data := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, "isaac_full.fits")); err != nil {
		t.Skipf("real test data absent (%s): %v", data, err)
	}
	return data
}

// isaacCutouts are the origins of the four 600×600 crops of isaac_full.fits (data README).
var isaacCutouts = [4][2]int{{0, 0}, {412, 31}, {31, 412}, {424, 424}}

func TestMosaicOfExactCropsOnTheirFrameGridGivesBackTheFrame(t *testing.T) {
	data := sharedData(t)
	full, err := fits.ReadImage(filepath.Join(data, "isaac_full.fits"), "")
	require.NoError(t, err)
	grid, err := sky.GridFromHeader(full.Header, full.Width, full.Height)
	require.NoError(t, err)
	var srcs []FrameSource
	for i := range isaacCutouts {
		srcs = append(srcs, DiskFrame(filepath.Join(data, "isaac_cutouts", "isaac_"+string(rune('1'+i))+".fits")))
	}
	covered := make([]bool, full.Width*full.Height)
	for _, o := range isaacCutouts {
		for y := o[1]; y < o[1]+600; y++ {
			for x := o[0]; x < o[0]+600; x++ {
				covered[y*full.Width+x] = true
			}
		}
	}
	for _, tc := range []struct {
		name   string
		interp cpu.Interp
		budget int64
	}{
		{"lanczos3 in tall bands", cpu.InterpLanczos3, 1 << 30},
		{"bilinear in many bands", cpu.InterpBilinear, MinMemBudget},
		{"bicubic in many bands", cpu.InterpBicubic, MinMemBudget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := DefaultMosaicOptions()
			opt.Interp, opt.MemBudget = tc.interp, tc.budget
			opt.GridFrom, opt.GridWidth, opt.GridHeight = grid, full.Width, full.Height
			res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
			require.NoError(t, err)
			require.Equal(t, 4, res.Used)
			if tc.budget == MinMemBudget {
				require.Greater(t, res.Plan.Bands, 1, "the small budget must cut the mosaic into bands")
			}
			worst, n := 0.0, 0
			for i, v := range res.Image.Pix {
				if !covered[i] {
					require.True(t, math.IsNaN(float64(v)), "pixel %d is outside every cutout but has data %g", i, v)
					require.Zero(t, res.Coverage[i])
					require.Zero(t, res.Alpha[i])
					continue
				}
				require.Greater(t, res.Coverage[i], float32(0), "pixel (%d, %d) is covered", i%full.Width, i/full.Width)
				require.Equal(t, uint8(255), res.Alpha[i])
				d := math.Abs(float64(v - full.Pix[i]))
				worst = max(worst, d/max(1, math.Abs(float64(full.Pix[i]))))
				n++
			}
			t.Logf("%s: %d covered pixels, max relative |Δ| = %.3g, bands = %d", tc.name, n, worst, res.Plan.Bands)
			assert.Less(t, worst, 1e-5, "integer shifts must copy the pixels")
		})
	}
}

// smoothSky is a test scene in the pixels of a reference frame: slow waves, well sampled, so
// every kernel reproduces it to well under a percent.
func smoothSky(x, y float64) float32 {
	return float32(100 + 20*math.Sin(x/9) + 15*math.Cos(y/7) + 5*math.Sin((x+y)/13))
}

// shiftedFrame is the w×h crop at (ox, oy) of the reference frame whose WCS is ref, encoded
// as a FITS file in memory with its own WCS (CRPIX moved by the crop).
func shiftedFrame(t *testing.T, name string, ref *wcs.WCS, ox, oy, w, h int) FrameSource {
	t.Helper()
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for y := range h {
		for x := range w {
			img.Pix[y*w+x] = smoothSky(float64(x+ox), float64(y+oy))
		}
	}
	g := ref.Clone()
	g.CRPix[0] -= float64(ox)
	g.CRPix[1] -= float64(oy)
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	img.Header.Set("WCSNAME", "input", "a stale WCS key the mosaic must drop")
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

func testRefWCS(t *testing.T) *wcs.WCS {
	t.Helper()
	s := 1.0 / 3600 // 1"/px, north up
	ref, err := wcs.New("TAN", [2]float64{150, 20}, [2]float64{100, 80}, [2][2]float64{{-s, 0}, {0, s}})
	require.NoError(t, err)
	return ref
}

func TestMosaicOfTwoShiftedFramesCoversBothAndFollowsTheSky(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		shiftedFrame(t, "a.fits", ref, 0, 0, 160, 120),
		shiftedFrame(t, "b.fits", ref, 70, 45, 160, 120),
	}
	opt := DefaultMosaicOptions()
	opt.NorthUp = true
	ev := &collect{}
	res, err := Mosaic(t.Context(), srcs, opt, ev.hooks())
	require.NoError(t, err)
	require.Len(t, ev.find("mosaic_grid"), 1)
	require.Len(t, ev.find("mosaic_done"), 1)
	// The union is 230×165 px at the inputs' scale, plus the grid's margins.
	assert.InDelta(t, 230+4, res.Image.Width, 2)
	assert.InDelta(t, 165+4, res.Image.Height, 2)

	worst, n := 0.0, 0
	for y := range res.Image.Height {
		for x := range res.Image.Width {
			i := y*res.Image.Width + x
			ra, dec, err := res.WCS.PixelToWorld(float64(x), float64(y))
			require.NoError(t, err)
			rx, ry, err := ref.WorldToPixel(ra, dec)
			require.NoError(t, err)
			// Inside an input's outer pixel edges, within ±e (against rounding).
			in := func(e, x0, y0 float64) bool {
				return rx > x0-0.5-e && rx < x0+159.5+e && ry > y0-0.5-e && ry < y0+119.5+e
			}
			if in(-1e-3, 0, 0) || in(-1e-3, 70, 45) {
				require.Greater(t, res.Coverage[i], float32(0), "(%d, %d) lies inside an input", x, y)
			}
			inA, inB := in(1e-3, 0, 0), in(1e-3, 70, 45)
			if !inA && !inB {
				continue
			}
			// Away from every input's edge (where the kernel replicates the border) the mosaic
			// is the sky.
			nearA := inA && !(rx >= 4 && ry >= 4 && rx <= 155 && ry <= 115)
			nearB := inB && !(rx >= 74 && ry >= 49 && rx <= 225 && ry <= 160)
			if !nearA && !nearB {
				worst = max(worst, math.Abs(float64(res.Image.Pix[i]-smoothSky(rx, ry))))
				n++
			}
		}
	}
	t.Logf("%d interior pixels, max |Δ| = %.3g (scene amplitude 40)", n, worst)
	require.Greater(t, n, 20000)
	assert.Less(t, worst, 0.01)

	_, stale := res.Image.Header.Get("WCSNAME")
	assert.False(t, stale, "the inputs' WCS keys are replaced by the output grid's")
	got, err := wcs.FromHeader(res.Image.Header)
	require.NoError(t, err)
	assert.Equal(t, res.WCS.CRPix, got.CRPix)
}

func TestMosaicResultDoesNotDependOnTheBandHeight(t *testing.T) {
	ref := testRefWCS(t)
	for _, tc := range []struct {
		name string
		srcs []FrameSource
	}{
		{"plain inputs", []FrameSource{
			shiftedFrame(t, "a.fits", ref, 0, 0, 300, 200),
			shiftedFrame(t, "b.fits", ref, 150, 90, 300, 200),
		}},
		// An ALPHA hole (no data, feathered around) and a soft edge (weights 0.02..1) in the
		// first input, both cut by the bands at odd rows.
		{"an input with an ALPHA hole and soft edge", []FrameSource{
			alphaFrame(t, "a.fits", ref, 0, 0, 300, 200, 0, holeAndSoftEdge, false),
			shiftedFrame(t, "b.fits", ref, 150, 90, 300, 200),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(rows int) *MosaicResult {
				opt := DefaultMosaicOptions()
				opt.bandRows = rows
				res, err := Mosaic(t.Context(), tc.srcs, opt, Hooks{})
				require.NoError(t, err)
				return res
			}
			one := run(0)
			require.Equal(t, 1, one.Plan.Bands)
			for _, rows := range []int{7, 16, 61} { // bands that cut through both inputs at odd rows
				many := run(rows)
				require.Greater(t, many.Plan.Bands, 1)
				require.Equal(t, len(one.Image.Pix), len(many.Image.Pix))
				for i := range one.Image.Pix {
					a, b := one.Image.Pix[i], many.Image.Pix[i]
					require.True(t, math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b), "%d rows, pixel %d: %g vs %g", rows, i, a, b)
				}
				requireSameBits(t, one.Coverage, many.Coverage, "coverage")
				assert.Equal(t, one.Alpha, many.Alpha)
			}
		})
	}
}

func TestMosaicWithoutAWCSFailsOrSkipsTheInput(t *testing.T) {
	ref := testRefWCS(t)
	good := shiftedFrame(t, "good.fits", ref, 0, 0, 64, 48)
	img := &fits.Image{Width: 32, Height: 32, Channels: 1, Pix: make([]float32, 32*32), Header: fits.NewHeader()}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	bad := MemoryFrame{FileName: "nowcs.fits", Data: buf.Bytes()}

	_, err := Mosaic(t.Context(), []FrameSource{good, bad}, DefaultMosaicOptions(), Hooks{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nowcs.fits")

	opt := DefaultMosaicOptions()
	opt.SkipBad = true
	ev := &collect{}
	res, err := Mosaic(t.Context(), []FrameSource{good, bad}, opt, ev.hooks())
	require.NoError(t, err)
	assert.Equal(t, 1, res.Used)
	require.Len(t, res.Frames, 2)
	assert.NotEmpty(t, res.Frames[1].Error)
	require.Len(t, ev.find("mosaic_frame_skipped"), 1)
}

func TestMosaicOptionsValidateReportsEveryProblem(t *testing.T) {
	assert.NoError(t, DefaultMosaicOptions().Validate())
	o := DefaultMosaicOptions()
	o.Interp, o.Feather, o.Projection, o.PixelScaleArcsec, o.MemBudget = "nearest", -1, "XYZ", -2, 1
	err := o.Validate()
	require.Error(t, err)
	for _, want := range []string{"nearest", "feather", "XYZ", "pixel scale", "mem budget"} {
		assert.Contains(t, err.Error(), want)
	}
	o = DefaultMosaicOptions()
	o.GridFrom = testRefWCS(t)
	assert.ErrorContains(t, o.Validate(), "grid size")
}

func TestMosaicStopsWhenCancelled(t *testing.T) {
	ref := testRefWCS(t)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err := Mosaic(ctx, []FrameSource{shiftedFrame(t, "a.fits", ref, 0, 0, 64, 48)}, DefaultMosaicOptions(), Hooks{})
	require.ErrorIs(t, err, ctx.Err())
}
