package pipeline

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

func inputWithCount(key string, n int) *mosaicInput {
	h := fits.NewHeader()
	if key != "" {
		h.Set(key, n, "")
	}
	return &mosaicInput{r: &frameReader{meta: &fits.ImageHDU{Header: h}}}
}

func TestInputWeightsFollowTheFrameCounts(t *testing.T) {
	ins := []*mosaicInput{inputWithCount("NCOMBINE", 10), inputWithCount("MT_NFRAMES", 40), inputWithCount("", 0), inputWithCount("NCOMBINE", 20)}
	tests := []struct {
		mode string
		want []float32
	}{
		{InputWeightsNone, []float32{1, 1, 1, 1}},
		// counts 10, 40, 1, 20: median 15
		{InputWeightsFrames, []float32{10.0 / 15, 40.0 / 15, 1.0 / 15, 20.0 / 15}},
		{InputWeightsTempered, []float32{float32(math.Sqrt(10.0 / 15)), 1.35, 0.75, float32(math.Sqrt(20.0 / 15))}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			w, err := inputWeights(ins, tt.mode)
			require.NoError(t, err)
			assert.InDeltaSlice(t, tt.want, w, 1e-6)
		})
	}
	_, err := inputWeights(ins, "loudest")
	assert.ErrorContains(t, err, "loudest")
}

// Two overlapping constant inputs, one claiming 4× the frames of the other: where both
// have full feather weight the mosaic is their frame-weighted mean, and the header says so.
func TestMosaicInputWeightsBlendByFrameCount(t *testing.T) {
	ref := testRefWCS(t)
	a := constantFrame(t, "a.fits", ref, 0, 100, 10)
	b := constantFrame(t, "b.fits", ref, 20, 200, 40)
	opt := DefaultMosaicOptions()
	opt.Match, opt.Feather, opt.InputWeights = MatchNone, 0, InputWeightsFrames
	res, err := Mosaic(context.Background(), []FrameSource{a, b}, opt, Hooks{})
	require.NoError(t, err)
	assert.Equal(t, []float32{0.4, 1.6}, res.InputWeights)
	img := res.Image
	// the grid's centre column lies in the overlap of a (x 0..99) and b (x 20..119)
	v := img.Pix[(img.Height/2)*img.Width+img.Width/2]
	assert.InDelta(t, (0.4*100+1.6*200)/2.0, float64(v), 1e-3)
	c, _ := img.Header.Get("ZMINWGT")
	assert.Equal(t, InputWeightsFrames, c.Value)
}

// constantFrame is a 100×80 frame of value v on ref's grid shifted by ox columns, with
// NCOMBINE = n.
func constantFrame(t *testing.T, name string, ref *wcs.WCS, ox int, v float32, n int) FrameSource {
	t.Helper()
	const w, h = 100, 80
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for i := range img.Pix {
		img.Pix[i] = v
	}
	g := ref.Clone()
	g.CRPix[0] -= float64(ox)
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	img.Header.Set("NCOMBINE", n, "")
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

// A frame and a 2×2-binned frame of the same flat sky (each binned pixel holds the flux of four
// fine pixels) mosaic onto the fine grid to the fine frame's values: the binned input is
// multiplied by its pixel-area ratio, 1/4, and the header and report say so.
func TestMosaicScalesInputsToTheOutputPixelArea(t *testing.T) {
	const s = 1.0 / 3600
	fine, err := wcs.New("TAN", [2]float64{150, 20}, [2]float64{50.5, 40.5}, [2][2]float64{{-s, 0}, {0, s}})
	require.NoError(t, err)
	// Binned pixel centre (1-based) c_b = (c_f − 0.5)/2 + 0.5 for the same sky point.
	binned, err := wcs.New("TAN", [2]float64{150, 20}, [2]float64{25.5, 20.5}, [2][2]float64{{-2 * s, 0}, {0, 2 * s}})
	require.NoError(t, err)
	a := wcsConstantFrame(t, "fine.fits", fine, 100, 80, 100)
	b := wcsConstantFrame(t, "binned.fits", binned, 50, 40, 400)
	opt := DefaultMosaicOptions()
	opt.Match, opt.Feather, opt.InputWeights = MatchNone, 0, InputWeightsNone
	opt.GridFrom, opt.GridWidth, opt.GridHeight = fine, 100, 80
	res, err := Mosaic(context.Background(), []FrameSource{a, b}, opt, Hooks{})
	require.NoError(t, err)
	assert.Zero(t, res.Frames[0].FluxScale, "the fine input is on the output scale")
	assert.InDelta(t, 0.25, res.Frames[1].FluxScale, 1e-9)
	img := res.Image
	n := 0
	for y := 8; y < img.Height-8; y++ {
		for x := 8; x < img.Width-8; x++ {
			require.InDelta(t, 100, img.Pix[y*img.Width+x], 1e-3, "pixel (%d, %d)", x, y)
			n++
		}
	}
	require.Positive(t, n)
	var hist []string
	for _, c := range img.Header.Cards() {
		if c.Key == "HISTORY" {
			hist = append(hist, c.Comment)
		}
	}
	assert.Contains(t, strings.Join(hist, "\n"), "binned.fits weight=1 flux_scale=0.25")
}

// wcsConstantFrame is a w×h frame of value v with the WCS ws.
func wcsConstantFrame(t *testing.T, name string, ws *wcs.WCS, w, h int, v float32) FrameSource {
	t.Helper()
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for i := range img.Pix {
		img.Pix[i] = v
	}
	for _, c := range ws.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}
