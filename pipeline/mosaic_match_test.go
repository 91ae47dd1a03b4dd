package pipeline

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// scaledFrame is shiftedFrame with the scene turned into gain·scene + offset, as a frame of
// another exposure or sky level would be.
func scaledFrame(t *testing.T, name string, ref *wcs.WCS, ox, oy, w, h int, gain, offset float32) FrameSource {
	t.Helper()
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for y := range h {
		for x := range w {
			img.Pix[y*w+x] = gain*smoothSky(float64(x+ox), float64(y+oy)) + offset
		}
	}
	g := ref.Clone()
	g.CRPix[0] -= float64(ox)
	g.CRPix[1] -= float64(oy)
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

// seamLevels are the medians of mosaic − scene over the interiors of the parts only frame a
// (at (0, 0)) and only frame b (at (bx, by)) cover, both frames w×h, in the scene's pixels.
func seamLevels(t *testing.T, res *MosaicResult, ref *wcs.WCS, bx, by, w, h float64) (onlyA, onlyB float64) {
	t.Helper()
	var da, db []float64
	inside := func(rx, ry, x0, y0 float64) bool {
		return rx >= x0+4 && ry >= y0+4 && rx <= x0+w-5 && ry <= y0+h-5
	}
	outside := func(rx, ry, x0, y0 float64) bool {
		return rx < x0-1 || ry < y0-1 || rx > x0+w || ry > y0+h
	}
	for y := range res.Image.Height {
		for x := range res.Image.Width {
			ra, dec, err := res.WCS.PixelToWorld(float64(x), float64(y))
			require.NoError(t, err)
			rx, ry, err := ref.WorldToPixel(ra, dec)
			require.NoError(t, err)
			d := float64(res.Image.Pix[y*res.Image.Width+x]) - float64(smoothSky(rx, ry))
			switch {
			case inside(rx, ry, 0, 0) && outside(rx, ry, bx, by):
				da = append(da, d)
			case inside(rx, ry, bx, by) && outside(rx, ry, 0, 0):
				db = append(db, d)
			}
		}
	}
	require.Greater(t, len(da), 1000)
	require.Greater(t, len(db), 1000)
	slices.Sort(da)
	slices.Sort(db)
	return quantile(da, 0.5), quantile(db, 0.5)
}

func TestMosaicMatchRemovesAnOffsetBetweenFrames(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		scaledFrame(t, "a.fits", ref, 0, 0, 320, 240, 1, 0),
		scaledFrame(t, "b.fits", ref, 140, 100, 320, 240, 1, 50),
	}
	for _, tc := range []struct {
		name     string
		match    string
		wantStep float64 // level of b's part minus a's
	}{
		{"offset matching makes the seam vanish", MatchOffset, 0},
		{"no matching leaves the offset", MatchNone, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := DefaultMosaicOptions()
			opt.NorthUp, opt.Match = true, tc.match
			ev := &collect{}
			res, err := Mosaic(t.Context(), srcs, opt, ev.hooks())
			require.NoError(t, err)
			a, b := seamLevels(t, res, ref, 140, 100, 320, 240)
			t.Logf("%s: median level a %.4f, b %.4f", tc.match, a, b)
			assert.InDelta(t, tc.wantStep, b-a, 1)
			assert.InDelta(t, 0, a, 1, "a is the anchor: its level is kept")
			if tc.match == MatchNone {
				assert.Nil(t, res.Corrections)
				assert.Empty(t, ev.find("mosaic_match"))
				return
			}
			require.Len(t, res.Corrections, 2)
			assert.Equal(t, cpu.Identity, res.Corrections[0], "the anchor (most overlaps, lowest index) is fixed")
			assert.InDelta(t, 1, res.Corrections[1].Gain, 1e-9)
			assert.InDelta(t, -50, res.Corrections[1].Offset, 1)
			require.Len(t, ev.find("mosaic_match"), 1)
			assert.Equal(t, "a.fits", ev.find("mosaic_match")[0].Params["anchor"])
			assert.Equal(t, 1, ev.find("mosaic_match")[0].Params["pairs"])
			hist := ""
			for _, c := range res.Image.Header.Cards() {
				if c.Key == "HISTORY" {
					hist += c.Comment + "|" + toString(c.Value) + "\n"
				}
			}
			assert.Contains(t, hist, "offset=-5", "the corrections are recorded in the header")
		})
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func TestMosaicGainOffsetMatchRecoversTheGain(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		scaledFrame(t, "a.fits", ref, 0, 0, 320, 240, 1, 0),
		scaledFrame(t, "b.fits", ref, 140, 100, 320, 240, 1.2, 30),
	}
	opt := DefaultMosaicOptions()
	opt.NorthUp, opt.Match = true, MatchGainOffset
	res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	require.Len(t, res.Corrections, 2)
	c := res.Corrections[1]
	t.Logf("correction of b: gain %.5f offset %.3f", c.Gain, c.Offset)
	// b = 1.2·a + 30, so a = b/1.2 − 25.
	assert.InDelta(t, 1/1.2, c.Gain, 0.02/1.2)
	assert.InDelta(t, -25, c.Offset, 2)
	a, b := seamLevels(t, res, ref, 140, 100, 320, 240)
	assert.InDelta(t, 0, b-a, 1)
}

func TestMosaicMatchIsSkippedWithoutOverlaps(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		scaledFrame(t, "a.fits", ref, 0, 0, 100, 80, 1, 0),
		scaledFrame(t, "b.fits", ref, 300, 0, 100, 80, 1, 50),
	}
	ev := &collect{}
	opt := DefaultMosaicOptions()
	opt.NorthUp = true
	res, err := Mosaic(t.Context(), srcs, opt, ev.hooks())
	require.NoError(t, err)
	assert.Nil(t, res.Corrections)
	require.Len(t, ev.find("mosaic_match_skipped"), 1)
}

func TestMosaicMatchDoesNotDependOnTheBandHeight(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		scaledFrame(t, "a.fits", ref, 0, 0, 300, 200, 1, 0),
		scaledFrame(t, "b.fits", ref, 150, 90, 300, 200, 1.1, 20),
	}
	run := func(rows int) *MosaicResult {
		opt := DefaultMosaicOptions()
		opt.Match, opt.bandRows = MatchGainOffset, rows
		res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
		require.NoError(t, err)
		return res
	}
	one, many := run(0), run(7)
	require.Greater(t, many.Plan.Bands, 1)
	assert.Equal(t, one.Corrections, many.Corrections)
	for i := range one.Image.Pix {
		a, b := one.Image.Pix[i], many.Image.Pix[i]
		require.True(t, math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b), "pixel %d: %g vs %g", i, a, b)
	}
}

func TestMosaicOptionsRejectAnUnknownMatch(t *testing.T) {
	o := DefaultMosaicOptions()
	assert.Equal(t, MatchOffset, o.Match)
	o.Match = "flux"
	assert.ErrorContains(t, o.Validate(), "flux")
}
