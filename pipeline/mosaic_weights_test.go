package pipeline

import (
	"bytes"
	"context"
	"math"
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
