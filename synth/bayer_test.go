package synth

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedStarLightsOnlyRedSites(t *testing.T) {
	for _, pattern := range []string{"RGGB", "GRBG", "GBRG", "BGGR"} {
		t.Run(pattern, func(t *testing.T) {
			o := smallOptions()
			o.Bayer = pattern
			o.Sky = 200
			o.Artefacts = false
			sites, err := parseBayer(pattern)
			require.NoError(t, err)
			red := star{x: 80.2, y: 60.4, flux: 2e5, colour: [3]float64{3, 0, 0}}
			f := newGeneratorWithStars(o, sites, []star{red}).frame(0)

			skyTruth := renderTruth(o, nil, false)
			var redLit, otherLit int
			for y := 55; y <= 66; y++ {
				for x := 75; x <= 86; x++ {
					i := y*o.Width + x
					excess := float64(f.Pix[i]-skyTruth[i]) / pixelSigma(o, skyTruth[i])
					isRed := pattern[(y%2)*2+x%2] == 'R'
					if isRed && excess > 20 {
						redLit++
					}
					if !isRed && math.Abs(excess) > 5 {
						otherLit++
					}
				}
			}
			assert.GreaterOrEqual(t, redLit, 4, "R sites around the star are lit")
			assert.Zero(t, otherLit, "G and B sites see only sky")
		})
	}
}

func TestBayerFramesAreUint16AndTruthIsRGB(t *testing.T) {
	o := smallOptions()
	o.Bayer = "GBRG"
	f, err := GenerateFrame(o, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, f.Channels)
	for i, v := range f.Pix {
		require.True(t, v >= 0 && v <= 65535 && v == float32(math.Round(float64(v))), "pixel %d = %v", i, v)
	}
	pat, ok := f.Value("BAYERPAT")
	assert.True(t, ok)
	assert.Equal(t, "GBRG", pat)

	truth, err := Truth(o)
	require.NoError(t, err)
	require.Len(t, truth, 3*o.Width*o.Height)
	// Stars have colours: the R and B planes differ, the sky is grey.
	n := o.Width * o.Height
	assert.NotEqual(t, truth[:n], truth[2*n:])
	assert.Equal(t, truth[0], truth[n], "a star-free corner is grey sky")

	mono := o
	mono.Bayer = "none"
	monoTruth, err := Truth(mono)
	require.NoError(t, err)
	// The mono flux is the mean of the channels.
	for i := 0; i < n; i += 97 {
		mean := (float64(truth[i]) + float64(truth[n+i]) + float64(truth[2*n+i])) / 3
		assert.InDelta(t, float64(monoTruth[i]), mean, 1e-3*mean)
	}
}

func TestQuantizeUint16ClampsAndRounds(t *testing.T) {
	tests := []struct {
		name   string
		in     float32
		expect float32
	}{
		{"negative noise clamps to 0", -3.7, 0},
		{"rounds to nearest", 12.5, 13},
		{"saturates at 65535", 70000, 65535},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, quantizeUint16(tc.in))
		})
	}
}
