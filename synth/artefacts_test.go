package synth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outliers lists the pixels brighter than truth + 20σ.
func outliers(o Options, truth, pix []float32) []int {
	var idx []int
	for i, v := range pix {
		if float64(v) > float64(truth[i])+20*pixelSigma(o, truth[i]) {
			idx = append(idx, i)
		}
	}
	return idx
}

func TestArtefactsAreBrightAndOnlyWhenEnabled(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Options)
		atLeast   int
		atMost    int
		samePlace bool // the outliers are the same in every frame
	}{
		{"clean twin has no 20-sigma pixel", func(o *Options) { o.Artefacts, o.Satellites = false, 1 }, 0, 0, true},
		{"hot pixels sit at fixed positions", func(o *Options) { o.CosmicRays, o.Satellites, o.HotPixels = 0, 0, 30 }, 30, 30, true},
		{"cosmic rays hit 1 to 3 pixels each", func(o *Options) { o.CosmicRays, o.Satellites, o.HotPixels = 40, 0, 0 }, 36, 120, false},
		{"a satellite crosses the frame", func(o *Options) { o.CosmicRays, o.Satellites, o.HotPixels = 0, 1, 0 }, 60, 2000, false},
		{"no satellite at probability zero", func(o *Options) { o.CosmicRays, o.Satellites, o.HotPixels = 0, 0, 0 }, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := smallOptions()
			tc.edit(&o)
			g, err := newGenerator(o)
			require.NoError(t, err)
			var first []int
			for i := range 3 {
				got := outliers(o, g.seen, g.frame(i).Pix)
				assert.GreaterOrEqual(t, len(got), tc.atLeast, "frame %d", i)
				assert.LessOrEqual(t, len(got), tc.atMost, "frame %d", i)
				if i == 0 {
					first = got
				} else if tc.samePlace {
					assert.Equal(t, first, got, "frame %d", i)
				} else {
					assert.NotEqual(t, first, got, "frame %d", i)
				}
			}
		})
	}
}

func TestCleanTwinIsTheSameFrameWithoutArtefacts(t *testing.T) {
	o := smallOptions()
	o.Satellites = 1
	dirty, err := GenerateFrame(o, 5)
	require.NoError(t, err)
	o.Artefacts = false
	clean, err := GenerateFrame(o, 5)
	require.NoError(t, err)

	changed := 0
	for i := range dirty.Pix {
		d := dirty.Pix[i] - clean.Pix[i]
		require.GreaterOrEqual(t, d, float32(0), "artefacts only add light (pixel %d)", i)
		if d > 0 {
			changed++
		}
	}
	assert.Positive(t, changed)
	assert.Less(t, changed, len(dirty.Pix)/20, "artefacts touch few pixels")
}

func TestSatelliteTrailIsStraightAndCrossesTheFrame(t *testing.T) {
	for _, theta := range []float64{0, 0.3, 1.5707963, 2.8} {
		w, h := 200, 100
		pix := make([]float32, w*h)
		addTrail(pix, w, h, theta, 100, 50, 1000)
		rows, cols := map[int]bool{}, map[int]bool{}
		for i, v := range pix {
			if v > 500 {
				rows[i/w], cols[i%w] = true, true
			}
		}
		// A line through the centre spans the whole width or the whole height.
		assert.True(t, len(cols) >= w-2 || len(rows) >= h-2, "theta %g: %d cols, %d rows", theta, len(cols), len(rows))
	}
}
