package synth

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateAcceptsDefaultsAndBayerPatterns(t *testing.T) {
	for _, p := range []string{"", "none", "RGGB", "GRBG", "GBRG", "BGGR"} {
		o := DefaultOptions()
		o.Bayer = p
		assert.NoError(t, o.Validate(), "bayer %q", p)
	}
}

func TestValidateRejectsBadOptions(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"zero frames", func(o *Options) { o.Frames = 0 }},
		{"too many frames", func(o *Options) { o.Frames = maxFrames + 1 }},
		{"tiny width", func(o *Options) { o.Width = 4 }},
		{"negative height", func(o *Options) { o.Height = -1 }},
		{"too many pixels", func(o *Options) { o.Width, o.Height = 32768, 32768 }},
		{"unknown bayer pattern", func(o *Options) { o.Bayer = "RGBG" }},
		{"lower-case bayer pattern", func(o *Options) { o.Bayer = "rggb" }},
		{"negative stars", func(o *Options) { o.Stars = -1 }},
		{"zero fwhm", func(o *Options) { o.FWHM = 0 }},
		{"NaN fwhm", func(o *Options) { o.FWHM = nan }},
		{"negative sky", func(o *Options) { o.Sky = -1 }},
		{"NaN sky", func(o *Options) { o.Sky = nan }},
		{"negative read noise", func(o *Options) { o.ReadNoise = -0.1 }},
		{"zero gain", func(o *Options) { o.Gain = 0 }},
		{"negative cosmic rays", func(o *Options) { o.CosmicRays = -1 }},
		{"cosmic rays covering the frame", func(o *Options) { o.CosmicRays = o.Width * o.Height }},
		{"satellite probability above 1", func(o *Options) { o.Satellites = 1.5 }},
		{"NaN satellite probability", func(o *Options) { o.Satellites = nan }},
		{"negative hot pixels", func(o *Options) { o.HotPixels = -3 }},
		{"hot pixels covering the frame", func(o *Options) { o.HotPixels = o.Width * o.Height }},
		{"ra of 360", func(o *Options) { o.RA = 360 }},
		{"dec beyond the pole", func(o *Options) { o.Dec = -90.5 }},
		{"zero pixel scale", func(o *Options) { o.ScaleArcsec = 0 }},
		{"infinite pixel scale", func(o *Options) { o.ScaleArcsec = math.Inf(1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			require.ErrorIs(t, err, ErrInvalidOptions)
			assert.Regexp(t, "^synth: ", err.Error())

			_, err = GenerateFrame(o, 0)
			assert.ErrorIs(t, err, ErrInvalidOptions, "GenerateFrame validates")
			_, err = Truth(o)
			assert.ErrorIs(t, err, ErrInvalidOptions, "Truth validates")
		})
	}
}

func TestGenerateFrameRejectsIndexOutOfRange(t *testing.T) {
	o := smallOptions()
	for _, i := range []int{-1, o.Frames} {
		_, err := GenerateFrame(o, i)
		assert.Error(t, err, "index %d", i)
	}
}
