package synth

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// mosaicOptions is a small 3×3 rotated, dithered mosaic of two frames per panel.
func mosaicOptions() Options {
	o := smallOptions()
	o.Frames = 2
	o.Mosaic = "3x3"
	o.Overlap = 0.3
	o.RotateDeg = 3
	o.DitherPx = 4
	return o
}

func frameWCSFromHeader(t *testing.T, f Frame) *wcs.WCS {
	t.Helper()
	w, err := wcs.FromHeader(fitsHeader(f.Header))
	require.NoError(t, err)
	return w
}

func TestValidateRejectsBadMosaicOptions(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"mosaic without rows", func(o *Options) { o.Mosaic = "3" }},
		{"mosaic with zero columns", func(o *Options) { o.Mosaic = "0x2" }},
		{"mosaic too wide", func(o *Options) { o.Mosaic = "33x1" }},
		{"mosaic not numeric", func(o *Options) { o.Mosaic = "axb" }},
		{"overlap of a whole panel", func(o *Options) { o.Overlap = 1 }},
		{"negative overlap", func(o *Options) { o.Overlap = -0.1 }},
		{"NaN overlap", func(o *Options) { o.Overlap = math.NaN() }},
		{"NaN rotation", func(o *Options) { o.RotateDeg = math.NaN() }},
		{"dither beyond a quarter frame", func(o *Options) { o.DitherPx = 31 }},
		{"negative dither", func(o *Options) { o.DitherPx = -1 }},
		{"too many frames over the panels", func(o *Options) { o.Frames = maxFrames/9 + 1 }},
		{"truth grid too large", func(o *Options) { o.Width, o.Height, o.Mosaic = 8192, 8192, "4x4" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := mosaicOptions()
			tc.edit(&o)
			require.ErrorIs(t, o.Validate(), ErrInvalidOptions)
			_, err := GenerateFrame(o, 0)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	o := mosaicOptions()
	o.Mosaic = "2X4"
	require.NoError(t, o.Validate(), "upper-case X is accepted")
	nx, ny := o.Panels()
	assert.Equal(t, [3]int{2, 4, 16}, [3]int{nx, ny, o.TotalFrames()})
}

// neighbourOffset returns where the centre of panel q falls in panel p's pixels, relative to
// p's centre.
func neighbourOffset(t *testing.T, o Options, p, q int) (dx, dy float64) {
	t.Helper()
	wp, err := PanelWCS(o, p)
	require.NoError(t, err)
	wq, err := PanelWCS(o, q)
	require.NoError(t, err)
	x, y, err := wp.WorldToPixel(wq.CRVal[0], wq.CRVal[1])
	require.NoError(t, err)
	return x - float64(o.Width-1)/2, y - float64(o.Height-1)/2
}

func TestNeighbouringPanelsOverlapByTheRequestedFraction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		overlap float64
		rotate  float64
	}{
		{"30 % north up", 0.3, 0},
		{"30 % rotated 3 degrees", 0.3, 3},
		{"50 % rotated -20 degrees", 0.5, -20},
		{"no overlap", 0, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := mosaicOptions()
			o.Overlap, o.RotateDeg = tc.overlap, tc.rotate
			for r := range 3 {
				for c := range 3 {
					p := r*3 + c
					if c < 2 { // right-hand neighbour: shifted along the panel's own x axis
						dx, dy := neighbourOffset(t, o, p, p+1)
						frac := 1 - dx/float64(o.Width)
						assert.InDelta(t, tc.overlap, frac, 0.02*math.Max(tc.overlap, 0.1), "panel %d → %d x overlap", p, p+1)
						assert.InDelta(t, 0, dy, 0.02*float64(o.Height), "panel %d → %d stays on the row", p, p+1)
					}
					if r < 2 { // upper neighbour
						dx, dy := neighbourOffset(t, o, p, p+3)
						frac := 1 - dy/float64(o.Height)
						assert.InDelta(t, tc.overlap, frac, 0.02*math.Max(tc.overlap, 0.1), "panel %d → %d y overlap", p, p+3)
						assert.InDelta(t, 0, dx, 0.02*float64(o.Width), "panel %d → %d stays in the column", p, p+3)
					}
				}
			}
			centre, err := PanelWCS(o, 4)
			require.NoError(t, err)
			assert.InDelta(t, o.RA, centre.CRVal[0], 1e-9, "the middle panel is centred on the field")
			assert.InDelta(t, o.Dec, centre.CRVal[1], 1e-9)
		})
	}
}

func TestFramesCarryThePanelRotation(t *testing.T) {
	for _, rot := range []float64{0, 3, -12.5} {
		o := mosaicOptions()
		o.RotateDeg = rot
		for _, i := range []int{0, 5, 17} {
			f, err := GenerateFrame(o, i)
			require.NoError(t, err)
			w := frameWCSFromHeader(t, f)
			assert.InDelta(t, rot, w.Rotation(), 1e-6, "rotation %g frame %d", rot, i)
			sx, sy := w.PixelScale(float64(o.Width-1)/2, float64(o.Height-1)/2)
			assert.InDelta(t, o.ScaleArcsec, sx, 1e-6)
			assert.InDelta(t, o.ScaleArcsec, sy, 1e-6)
			want, err := FrameWCS(o, i)
			require.NoError(t, err)
			assert.Equal(t, want.CRVal, w.CRVal, "the header holds FrameWCS")
		}
	}
}

func TestDithersMoveFramesWithinTheRequestedRange(t *testing.T) {
	o := mosaicOptions()
	o.Mosaic, o.Frames, o.DitherPx = "", 12, 5
	panel, err := PanelWCS(o, 0)
	require.NoError(t, err)
	var moved int
	for i := range o.Frames {
		w, err := FrameWCS(o, i)
		require.NoError(t, err)
		x, y, err := panel.WorldToPixel(w.CRVal[0], w.CRVal[1])
		require.NoError(t, err)
		dx, dy := x-float64(o.Width-1)/2, y-float64(o.Height-1)/2
		assert.LessOrEqual(t, math.Abs(dx), o.DitherPx+1e-6)
		assert.LessOrEqual(t, math.Abs(dy), o.DitherPx+1e-6)
		if math.Hypot(dx, dy) > 0.5 {
			moved++
		}
	}
	assert.Greater(t, moved, o.Frames/2, "most frames are dithered by more than half a pixel")
}

// starOnlyTruth returns frame i's noise-free truth minus its background.
func starOnlyTruth(t *testing.T, o Options, w *wcs.WCS) []float64 {
	t.Helper()
	truth, err := TruthOn(o, w, o.Width, o.Height)
	require.NoError(t, err)
	dark := o
	dark.Stars = 0
	bg, err := TruthOn(dark, w, o.Width, o.Height)
	require.NoError(t, err)
	out := make([]float64, len(truth))
	for i := range out {
		out[i] = float64(truth[i]) - float64(bg[i])
	}
	return out
}

// centroid is the first moment of img in a (2r+1)² window around (x, y).
func centroid(img []float64, width, height int, x, y float64, r int) (cx, cy float64) {
	var s, sx, sy float64
	x0, y0 := int(math.Round(x)), int(math.Round(y))
	for j := max(0, y0-r); j <= min(height-1, y0+r); j++ {
		for i := max(0, x0-r); i <= min(width-1, x0+r); i++ {
			v := img[j*width+i]
			s += v
			sx += v * float64(i)
			sy += v * float64(j)
		}
	}
	return sx / s, sy / s
}

func TestStarInAnOverlapHasOneSkyPositionInBothPanels(t *testing.T) {
	o := mosaicOptions()
	o.Mosaic, o.Overlap = "2x1", 0.5
	o.Width, o.Height, o.Stars = 320, 240, 60
	sc, err := newSkyScene(o)
	require.NoError(t, err)
	w0, err := FrameWCS(o, 0) // panel 0
	require.NoError(t, err)
	w1, err := FrameWCS(o, o.Frames+1) // panel 1, another dither
	require.NoError(t, err)

	const win = 12
	inside := func(w *wcs.WCS, s skyStar) (float64, float64, bool) {
		x, y, err := w.WorldToPixel(s.ra, s.dec)
		m := float64(win + 2)
		return x, y, err == nil && x > m && y > m && x < float64(o.Width)-1-m && y < float64(o.Height)-1-m
	}
	isolated := func(s skyStar) bool {
		for _, u := range sc.stars {
			sep := math.Hypot((u.ra-s.ra)*math.Cos(s.dec*math.Pi/180), u.dec-s.dec) * 3600 / o.ScaleArcsec
			if sep > 0 && sep < 2*win && u.flux > 1e-2*s.flux {
				return false
			}
		}
		return true
	}
	star0, star1 := starOnlyTruth(t, o, w0), starOnlyTruth(t, o, w1)
	checked, inOverlap := 0, 0
	for _, s := range sc.stars {
		x0, y0, ok0 := inside(w0, s)
		x1, y1, ok1 := inside(w1, s)
		if !ok0 || !ok1 {
			continue
		}
		inOverlap++
		if !isolated(s) {
			continue
		}
		cx0, cy0 := centroid(star0, o.Width, o.Height, x0, y0, win)
		cx1, cy1 := centroid(star1, o.Width, o.Height, x1, y1, win)
		ra0, dec0, err := w0.PixelToWorld(cx0, cy0)
		require.NoError(t, err)
		ra1, dec1, err := w1.PixelToWorld(cx1, cy1)
		require.NoError(t, err)
		sepPx := math.Hypot((ra1-ra0)*math.Cos(dec0*math.Pi/180), dec1-dec0) * 3600 / o.ScaleArcsec
		assert.Less(t, sepPx, 0.02, "star at %.5f %.5f: panels disagree by %.4f px", s.ra, s.dec, sepPx)
		assert.Greater(t, math.Hypot(x1-x0, y1-y0), 50.0, "the two frames see the star at different pixels")
		checked++
	}
	require.Positive(t, checked, "at least one isolated star lies in the overlap (%d there)", inOverlap)
}

func TestTruthOnAFrameWCSEqualsTheFrameTruth(t *testing.T) {
	for _, bayer := range []string{"none", "RGGB"} {
		o := mosaicOptions()
		o.Bayer = bayer
		g, err := newGenerator(o)
		require.NoError(t, err)
		for _, i := range []int{0, 7, 17} {
			f, err := GenerateFrame(o, i)
			require.NoError(t, err)
			_, want, err := g.sky.frameTruth(i)
			require.NoError(t, err)
			got, err := TruthOn(o, frameWCSFromHeader(t, f), o.Width, o.Height)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for j := range want {
				require.InDelta(t, want[j], got[j], 1e-5*math.Abs(float64(want[j])), "bayer %s frame %d pixel %d", bayer, i, j)
			}
		}
	}
}

func TestMosaicFramesAreDeterministic(t *testing.T) {
	o := mosaicOptions()
	a, err := GenerateFrame(o, 9)
	require.NoError(t, err)
	b, err := GenerateFrame(o, 9)
	require.NoError(t, err)
	requireBitIdentical(t, a.Pix, b.Pix, "same options, same frame")
	assert.Equal(t, a.Header, b.Header)

	o2 := o
	o2.Seed++
	c, err := GenerateFrame(o2, 9)
	require.NoError(t, err)
	wa, wc := frameWCSFromHeader(t, a), frameWCSFromHeader(t, c)
	assert.NotEqual(t, wa.CRVal, wc.CRVal, "another seed dithers differently")
	assert.NotEqual(t, a.Pix, c.Pix)
}

func TestTruthOnMatchesTruthForASinglePointing(t *testing.T) {
	o := smallOptions()
	want, err := Truth(o)
	require.NoError(t, err)
	w, err := FrameWCS(o, 0)
	require.NoError(t, err)
	got, err := TruthOn(o, w, o.Width, o.Height)
	require.NoError(t, err)
	for j := range want {
		require.InDelta(t, want[j], got[j], 1e-4*float64(want[j]), "pixel %d", j)
	}
}

func TestWriteMosaicWritesAllPanelsTruthAndSkyCatalog(t *testing.T) {
	o := mosaicOptions()
	o.Mosaic, o.Width, o.Height, o.Stars = "2x1", 64, 48, 20
	dir := filepath.Join(t.TempDir(), "set")
	paths, err := Write(t.Context(), dir, o, nil)
	require.NoError(t, err)
	require.Len(t, paths, o.TotalFrames()+2)
	assert.Equal(t, filepath.Join(dir, LightsDir, "frame_0004.fits"), paths[3])

	f, err := GenerateFrame(o, 3)
	require.NoError(t, err)
	img, err := fits.ReadImage(paths[3], "")
	require.NoError(t, err)
	requireBitIdentical(t, f.Pix, img.Pix, paths[3])

	nat, nw, nh, err := NaturalGrid(o)
	require.NoError(t, err)
	assert.InDelta(t, 0, nat.Rotation(), 1e-9, "the natural grid is north up")
	assert.Greater(t, nw, o.Width+o.Width/2, "the natural grid spans both panels")
	truth, err := fits.ReadImage(paths[len(paths)-2], "")
	require.NoError(t, err)
	require.Equal(t, []int{nw, nh}, []int{truth.Width, truth.Height})
	want, err := TruthOn(o, nat, nw, nh)
	require.NoError(t, err)
	requireBitIdentical(t, want, truth.Pix, "truth.fits")

	fh, err := os.Open(paths[len(paths)-1])
	require.NoError(t, err)
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"ra", "dec", "flux"}, rows[0])
	sc, err := newSkyScene(o)
	require.NoError(t, err)
	assert.Len(t, rows, len(sc.stars)+1)
}
