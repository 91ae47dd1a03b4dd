package pipeline

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// rotatedFrame is a w×h frame of smoothSky rotated by deg about a centre a little off the
// reference's, so that its rows cross the output rows at an angle.
func rotatedFrame(t *testing.T, name string, deg float64, w, h int) FrameSource {
	t.Helper()
	s := 1.0 / 3600
	c, sn := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	g, err := wcs.New("TAN", [2]float64{150.01, 20.01}, [2]float64{float64(w) / 2, float64(h) / 2}, [2][2]float64{{-s * c, s * sn}, {s * sn, s * c}})
	require.NoError(t, err)
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for y := range h {
		for x := range w {
			img.Pix[y*w+x] = smoothSky(float64(x), float64(y))
		}
	}
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

func TestInputWindowIsTheRowsTheBandsCoordinateGridMapsTo(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{shiftedFrame(t, "a.fits", ref, 0, 0, 300, 200), rotatedFrame(t, "r.fits", 17, 260, 240)}
	opt := DefaultMosaicOptions()
	res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
	require.NoError(t, err)
	w, h := res.Image.Width, res.Image.Height
	inputs, err := scanMosaicInputs(srcs, opt, Hooks{}, &MosaicResult{})
	require.NoError(t, err)
	for _, in := range inputs {
		in.x0, in.x1, in.y0, in.y1 = outputBox(in, res.WCS, w, h)
	}
	profileInputs(inputs, res.WCS, 2)
	checked := 0
	for _, in := range inputs {
		for _, band := range [][2]int{{0, 1}, {0, 7}, {5, 40}, {16, 17}, {33, 160}, {in.y0, in.y1}, {in.y1 - 3, in.y1}} {
			ry0, ry1 := max(band[0], in.y0), min(band[1], in.y1)
			if ry0 >= ry1 {
				continue
			}
			// What reprojectInput computed before the profile: the grid's own samples.
			_, _, gy0, gh := gridRows(ry0, ry1)
			cg := cpu.NewCoordGrid(in.x1-in.x0, gh, mosaicGridStep, func(x, y float64) (float64, float64, bool) {
				ra, dec, err := res.WCS.PixelToWorld(float64(in.x0)+x, float64(gy0)+y)
				if err != nil {
					return 0, 0, false
				}
				ix, iy, err := in.w.WorldToPixel(ra, dec)
				return ix, iy, err == nil && !math.IsNaN(ix) && !math.IsNaN(iy)
			})
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, y := range cg.Y {
				if !math.IsNaN(y) {
					lo, hi = min(lo, y), max(hi, y)
				}
			}
			pad := float64(lanczosRadius + opt.Feather + 2)
			ih := float64(in.r.meta.Height)
			wantOK := lo <= ih-0.5 && hi >= -0.5
			wy0, wy1, ok := in.window(ry0, ry1, opt.Feather)
			require.Equal(t, wantOK, ok, "%s rows [%d, %d)", in.r.src.Name(), ry0, ry1)
			if ok {
				assert.Equal(t, int(max(math.Floor(lo-pad), 0)), wy0, "%s rows [%d, %d)", in.r.src.Name(), ry0, ry1)
				assert.Equal(t, int(min(math.Ceil(hi+pad)+1, ih)), wy1, "%s rows [%d, %d)", in.r.src.Name(), ry0, ry1)
				checked++
			}
		}
	}
	require.Greater(t, checked, 8)
}

func TestPlanMosaicWithRealWindowsFitsMoreSlotsOrTallerBands(t *testing.T) {
	// The memcheck mosaic: 25 panels of 2400², a 10.1k² output streamed to files at 256 MiB.
	s := MosaicShape{Width: 10105, Height: 10103, Channels: 1, MaxInputPixels: 2400 * 2400, Workers: 2}
	for i := range 25 {
		x, y := (i%5)*1920, (i/5)*1920
		s.Boxes = append(s.Boxes, image.Rect(x, y, x+2530, y+2530))
	}
	s.SinkBytes = (&MosaicFileSink{PreviewSide: DefaultPreviewSide, Coverage: "c"}).HeldBytes(s.Width, s.Height, 1)
	s.FinishBytes = (&MosaicFileSink{PreviewSide: DefaultPreviewSide}).FinishBytes(s.Width, s.Height, 1)
	whole, err := PlanMosaic(s, 256<<20)
	require.NoError(t, err)
	// A band of R rows reads R + 126 (the 3° tilt across 2400 columns) + 2×37 (kernel and
	// feather pad) + up to 48 (grid lattice) rows of a 2400-wide input.
	s.WindowPixels = func(rows int) int64 { return 2400 * int64(rows+126+74+48) }
	real, err := PlanMosaic(s, 256<<20)
	require.NoError(t, err)
	t.Logf("whole-frame windows: %d rows × %d slots, %.0f MiB; real windows: %d rows × %d slots, %.0f MiB",
		whole.BandRows, whole.Slots, mib(whole.PeakBytes), real.BandRows, real.Slots, mib(real.PeakBytes))
	assert.LessOrEqual(t, real.PeakBytes, int64(256<<20))
	assert.Greater(t, real.BandRows*real.Slots, whole.BandRows*whole.Slots)
	assert.Equal(t, 2, real.Slots)

	// An ALPHA on some input costs 4 B per window pixel more.
	s.Alpha = true
	withAlpha, err := PlanMosaic(s, 256<<20)
	require.NoError(t, err)
	assert.LessOrEqual(t, withAlpha.PeakBytes, int64(256<<20))
	assert.LessOrEqual(t, withAlpha.BandRows, real.BandRows)
}

func TestPlanMosaicSaysWhenThePreviewStretchDoesNotFit(t *testing.T) {
	s := MosaicShape{Width: 2000, Height: 2000, Channels: 3, MaxInputPixels: 100 * 100, Workers: 1}
	s.SinkBytes = (&MosaicFileSink{PreviewSide: 2000}).HeldBytes(2000, 2000, 3)
	s.FinishBytes = (&MosaicFileSink{PreviewSide: 2000}).FinishBytes(2000, 2000, 3)
	require.Positive(t, s.FinishBytes)
	_, err := PlanMosaic(s, s.SinkBytes+s.FinishBytes-1)
	require.ErrorContains(t, err, "too small")
	p, err := PlanMosaic(s, s.SinkBytes+s.FinishBytes+(8<<20))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, p.PeakBytes, s.SinkBytes+s.FinishBytes)
}

func TestMosaicIsBitIdenticalForAnyBudget(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		alphaFrame(t, "a.fits", ref, 0, 0, 300, 200, 0, holeAndSoftEdge, false),
		rotatedFrame(t, "r.fits", 11, 280, 220),
		shiftedFrame(t, "b.fits", ref, 150, 90, 300, 200),
	}
	dir := t.TempDir()
	var first []*fits.Image
	plans := map[[2]int]bool{}
	for i, budget := range []int64{MinMemBudget, 24 << 20, 1 << 30} {
		opt := DefaultMosaicOptions()
		opt.MemBudget = budget
		opt.PixelScaleArcsec = 0.3 // a 1900×1500 output: a few bands at the smallest budgets
		sink := &MosaicFileSink{Name: filepath.Join(dir, fmt.Sprint(i, ".fits")), Coverage: filepath.Join(dir, fmt.Sprint(i, "_cov.fits"))}
		res, err := MosaicTo(t.Context(), cpuRunner(t), srcs, opt, Hooks{}, sink)
		require.NoError(t, err)
		require.NoError(t, sink.Close())
		assert.LessOrEqual(t, res.Plan.PeakBytes, budget)
		plans[[2]int{res.Plan.BandRows, res.Plan.Slots}] = true
		t.Logf("%s: %d rows × %d bands, %d slots", FormatSize(budget), res.Plan.BandRows, res.Plan.Bands, res.Plan.Slots)
		img, err := fits.ReadImage(sink.Name, "")
		require.NoError(t, err)
		cov, err := fits.ReadImage(sink.Coverage, "")
		require.NoError(t, err)
		if first == nil {
			first = []*fits.Image{img, cov}
			continue
		}
		requireSameBits(t, first[0].Pix, img.Pix, "image")
		requireSameBits(t, first[1].Pix, cov.Pix, "coverage")
	}
	require.Greater(t, len(plans), 1, "the budgets must give different plans")
}
