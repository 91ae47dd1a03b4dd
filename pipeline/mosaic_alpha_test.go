package pipeline

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// pixelEdit overrides a frame pixel (x, y in the frame): value, ALPHA, and whether to apply.
type pixelEdit func(x, y int) (v float32, alpha uint8, ok bool)

// alphaFrame is shiftedFrame plus offset on every pixel and an ALPHA extension (255 unless
// edit says otherwise); with noAlpha the edits still change the pixels but no ALPHA is written.
func alphaFrame(t *testing.T, name string, ref *wcs.WCS, ox, oy, w, h int, offset float32, edit pixelEdit, noAlpha bool) FrameSource {
	t.Helper()
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	alpha := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			i := y*w + x
			img.Pix[i], alpha[i] = smoothSky(float64(x+ox), float64(y+oy))+offset, 255
			if edit != nil {
				if v, a, ok := edit(x, y); ok {
					img.Pix[i], alpha[i] = v, a
				}
			}
		}
	}
	g := ref.Clone()
	g.CRPix[0] -= float64(ox)
	g.CRPix[1] -= float64(oy)
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	opt := fits.WriteOptions{Alpha: alpha}
	if noAlpha {
		opt.Alpha = nil
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, opt))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

// holeAndSoftEdge: a 40×30 hole of garbage (1e6) with ALPHA 0 at (60, 50), and ALPHA fading
// from 1 to 255 over the 64 columns from x = 200 (a soft edge).
func holeAndSoftEdge(x, y int) (float32, uint8, bool) {
	switch {
	case x >= 60 && x < 100 && y >= 50 && y < 80:
		return 1e6, 0, true
	case x >= 200 && x < 264:
		return smoothSky(float64(x), float64(y)), uint8(1 + (x-200)*254/63), true
	}
	return 0, 0, false
}

// refGrid mosaics onto the reference frame's own grid (integer shifts: exact copies).
func refGrid(t *testing.T, opt *MosaicOptions, w, h int) {
	t.Helper()
	h0 := fits.NewHeader()
	for _, c := range testRefWCS(t).Cards() {
		h0.Set(c.Key, c.Value, c.Comment)
	}
	g, err := sky.GridFromHeader(h0, w, h)
	require.NoError(t, err)
	opt.GridFrom, opt.GridWidth, opt.GridHeight = g, w, h
}

func TestMosaicAlphaZeroIsNoDataAndSoftAlphaScalesTheWeight(t *testing.T) {
	ref := testRefWCS(t)
	a := alphaFrame(t, "a.fits", ref, 0, 0, 300, 200, 0, holeAndSoftEdge, false)
	opt := DefaultMosaicOptions()
	opt.Feather, opt.Match = 0, MatchNone // flat weights: coverage is the ALPHA factor itself
	refGrid(t, &opt, 300, 200)
	res, err := MosaicWith(t.Context(), cpuRunner(t), []FrameSource{a}, opt, Hooks{})
	require.NoError(t, err)
	at := func(x, y int) (float32, float32) {
		return res.Image.Pix[y*300+x], res.Coverage[y*300+x]
	}
	// The hole, away from its rim (where the Lanczos kernel sees NaN), is no data.
	for y := 50; y < 80; y++ {
		for x := 60; x < 100; x++ {
			v, c := at(x, y)
			require.True(t, v != v, "(%d, %d) has ALPHA 0 but value %g", x, y, v)
			require.Zero(t, c)
		}
	}
	// Around it, nothing of the 1e6 garbage leaks in.
	for _, p := range [][2]int{{56, 60}, {104, 60}, {80, 46}, {80, 84}} {
		v, c := at(p[0], p[1])
		assert.InDelta(t, smoothSky(float64(p[0]), float64(p[1])), v, 1e-3, "%v", p)
		assert.Equal(t, float32(1), c)
	}
	// The soft edge: weight = ALPHA/255, floored at alphaSoftFloor; the value is unchanged.
	for _, x := range []int{200, 203, 230, 263} {
		al := float64(1 + (x-200)*254/63)
		v, c := at(x, 100)
		assert.InDelta(t, max(al/255, alphaSoftFloor), c, 1e-6, "x = %d, ALPHA %g", x, al)
		assert.InDelta(t, smoothSky(float64(x), 100), v, 1e-3)
	}
	_, c := at(200, 100)
	assert.InDelta(t, alphaSoftFloor, c, 1e-7, "ALPHA 1 weighs the floor")
}

func TestMosaicInputWithAnOpaqueAlphaEqualsTheInputWithout(t *testing.T) {
	ref := testRefWCS(t)
	run := func(noAlpha bool) *MosaicResult {
		srcs := []FrameSource{
			alphaFrame(t, "a.fits", ref, 0, 0, 300, 200, 0, nil, noAlpha),
			alphaFrame(t, "b.fits", ref, 150, 90, 300, 200, 5, nil, noAlpha),
		}
		res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, DefaultMosaicOptions(), Hooks{})
		require.NoError(t, err)
		return res
	}
	with, without := run(false), run(true)
	requireSameBits(t, without.Image.Pix, with.Image.Pix, "image")
	requireSameBits(t, without.Coverage, with.Coverage, "coverage")
	assert.Equal(t, without.Corrections, with.Corrections)
}

func TestMosaicAlphaHoleIsExcludedFromEveryCombine(t *testing.T) {
	ref := testRefWCS(t)
	// b covers a's hole (a's pixels (60..99, 50..79) are b's (10..49, 20..49)).
	srcs := []FrameSource{
		alphaFrame(t, "a.fits", ref, 0, 0, 300, 200, 0, holeAndSoftEdge, false),
		alphaFrame(t, "b.fits", ref, 50, 30, 300, 200, 0, nil, false),
	}
	for _, combine := range []string{CombineMean, CombineMedian, CombineKappa} {
		t.Run(combine, func(t *testing.T) {
			opt := DefaultMosaicOptions()
			opt.Combine, opt.Match, opt.Feather = combine, MatchNone, 0
			refGrid(t, &opt, 350, 230)
			res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
			require.NoError(t, err)
			for y := 55; y < 75; y++ {
				for x := 65; x < 95; x++ {
					i := y*350 + x
					require.InDelta(t, smoothSky(float64(x), float64(y)), res.Image.Pix[i], 1e-3, "(%d, %d)", x, y)
					require.Equal(t, float32(1), res.Coverage[i], "only b weighs in the hole")
				}
			}
			// Beside the hole both inputs count.
			assert.Equal(t, float32(2), res.Coverage[40*350+120])
		})
	}
}

func TestMosaicMatchIgnoresSkySamplesWithAlphaZero(t *testing.T) {
	ref := testRefWCS(t)
	// b reads 10 more than a; half of their overlap (a's x in [150, 330), y ≥ 90) is garbage
	// in a, below the sky: ALPHA 0 there must keep it out of the sky samples.
	garbage := func(x, y int) (float32, uint8, bool) {
		if x >= 150 && x < 330 && y >= 90 {
			return -500 - smoothSky(float64(x), float64(y)), 0, true
		}
		return 0, 0, false
	}
	run := func(noAlpha bool) *MosaicResult {
		srcs := []FrameSource{
			alphaFrame(t, "a.fits", ref, 0, 0, 500, 300, 0, garbage, noAlpha),
			alphaFrame(t, "b.fits", ref, 150, 90, 500, 300, 10, nil, false),
		}
		opt := DefaultMosaicOptions()
		opt.Match = MatchOffset
		res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
		require.NoError(t, err)
		require.Len(t, res.Corrections, 2, "the pair is measured")
		return res
	}
	res := run(false)
	assert.InDelta(t, -10, res.Corrections[1].Offset, 0.05, "b is brought down to a")
	assert.InDelta(t, 0, res.Corrections[0].Offset, 1e-9, "a is the anchor")
	// Without the ALPHA the garbage is data, and the same pair measures something else.
	bad := run(true)
	assert.Greater(t, math.Abs(float64(bad.Corrections[1].Offset+10)), 1.0)
}

func TestAlphaHDUFindsTheMaskAndRefusesOneOfAnotherSize(t *testing.T) {
	small := &fits.Image{Width: 32, Height: 48, Channels: 1, Pix: make([]float32, 32*48), Header: fits.NewHeader()}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, small, fits.WriteOptions{Alpha: make([]uint8, 32*48)}))
	f, err := fits.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "small.fits")
	require.NoError(t, err)
	defer f.Close()

	primary, err := f.Image("")
	require.NoError(t, err)
	idx, found, err := alphaHDU(f, primary)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "ALPHA", f.Images[idx].Name)

	_, _, err = alphaHDU(f, &fits.ImageHDU{Index: 0, Width: 64, Height: 48, Channels: 1})
	assert.ErrorContains(t, err, "ALPHA extension is 32×48, the image is 64×48")

	sel, err := f.Image("alpha")
	require.NoError(t, err)
	_, found, err = alphaHDU(f, sel)
	require.NoError(t, err)
	assert.False(t, found, "the ALPHA HDU mosaicked itself has no ALPHA")
}
