package pipeline

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
)

func TestCompareFitsGainAndOffsetBeforeTheRMS(t *testing.T) {
	ref := []float32{10, 20, 30, 40, nan32}
	img := []float32{0.1, 0.2, 0.3, 0.4, 7} // ref/100: a rescaling tool
	c, err := Compare(img, ref, false)
	require.NoError(t, err)
	assert.Equal(t, 4, c.Pixels, "NaN in either image is skipped")
	assert.Greater(t, c.RMS, 20.0)
	c, err = Compare(img, ref, true)
	require.NoError(t, err)
	assert.InDelta(t, 100, c.Gain, 1e-4)
	assert.InDelta(t, 0, c.RMS, 1e-4)

	c, err = Compare([]float32{1, 2, 3, 4}, []float32{1, 2, 3, 6}, false)
	require.NoError(t, err)
	assert.InDelta(t, 1, c.RMS, 1e-12)
	assert.InDelta(t, 2, c.MaxAbs, 1e-12)
	assert.InDelta(t, -0.5, c.Bias, 1e-12)

	_, err = Compare([]float32{1}, []float32{1, 2}, false)
	assert.Error(t, err)
	_, err = Compare([]float32{float32(math.NaN())}, []float32{1}, false)
	assert.Error(t, err)
}

func TestMosaicCFAPicksTheChannelOfEachSite(t *testing.T) {
	img := &fits.Image{Width: 2, Height: 2, Channels: 3, Pix: []float32{
		1, 1, 1, 1, // R
		2, 2, 2, 2, // G
		3, 3, 3, 3, // B
	}}
	got, err := MosaicCFA(img, "GRBG")
	require.NoError(t, err)
	assert.Equal(t, []float32{2, 1, 3, 2}, got)
	got, err = MosaicCFA(img, "rggb")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 2, 3}, got)
	_, err = MosaicCFA(img, "RRGB")
	assert.Error(t, err)
}
