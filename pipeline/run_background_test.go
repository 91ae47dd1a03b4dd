package pipeline

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
)

func TestRunBackgroundChoices(t *testing.T) {
	tests := []struct {
		name, background string
		ok               bool
		degree           int
	}{
		{"none keeps the frames", BackgroundNone, false, 0},
		{"poly1 fits a plane", BackgroundPoly1, true, 1},
		{"poly2 fits a quadratic surface", BackgroundPoly2, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultRunOptions()
			o.Background = tt.background
			require.NoError(t, o.Validate())
			bg, ok, err := o.backgroundOptions()
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, tt.degree, bg.Degree)
				require.NoError(t, bg.Validate())
			}
		})
	}
	for _, bad := range []string{"", "Poly1", "poly3", "gradient"} {
		o := DefaultRunOptions()
		o.Background = bad
		err := o.Validate()
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "background")
	}
}

// TestRunBackgroundIsPartOfTheCacheKey: each choice gives its own key, and none keeps the
// keys it had before background removal existed (no background_fit field).
func TestRunBackgroundIsPartOfTheCacheKey(t *testing.T) {
	keys := map[string]bool{}
	for _, b := range []string{BackgroundNone, BackgroundPoly1, BackgroundPoly2} {
		o := DefaultRunOptions()
		o.Background = b
		r := &runState{opt: o}
		spec, _, err := r.prepSpec(&runFrame{scan: &ScanFrame{Path: "a.fits", Width: 8, Height: 8, Channels: 1}})
		require.NoError(t, err)
		assert.Equal(t, b == BackgroundNone, spec.BackgroundFit == "", b)
		k, err := CacheKey(CacheSource{Path: "/data/a.fits", Size: 10, Options: spec})
		require.NoError(t, err)
		keys[k] = true
	}
	assert.Len(t, keys, 3)
}

// TestRunBackgroundFitFailureKeepsTheFrame: a frame with too little sky for the fit (here a
// 12×12 frame, below the 2×3 boxes a plane needs) is kept as it is, with a warning, a header
// that says so and a HISTORY note; a frame that fits gets ZMBKG and a changed sky.
func TestRunBackgroundFitFailureKeepsTheFrame(t *testing.T) {
	var events []compute.Event
	o := quickRunOptions()
	o.Background = BackgroundPoly1
	runner := compute.NewRunner(t.Context(), o.computeOptions(), nil)
	defer runner.Close()
	r := &runState{ctx: t.Context(), opt: o, runner: runner, events: func(e compute.Event) { events = append(events, e) }}
	f := &runFrame{scan: &ScanFrame{Path: "tiny.fits"}}

	tiny := &fits.Image{Width: 12, Height: 12, Channels: 1, Pix: make([]float32, 144), Header: fits.NewHeader()}
	for i := range tiny.Pix {
		tiny.Pix[i] = float32(100 + i)
	}
	before := slices.Clone(tiny.Pix)
	note, err := r.removeBackground(f, tiny)
	require.NoError(t, err)
	assert.Contains(t, note, "not removed")
	assert.Equal(t, before, tiny.Pix)
	v, _ := tiny.Header.String("ZMBKG")
	assert.Equal(t, "none", v)
	require.Len(t, events, 1)
	assert.Equal(t, "preprocess_background_skipped", events[0].Key)
	assert.Equal(t, compute.Warn, events[0].Level)

	big := &fits.Image{Width: 64, Height: 48, Channels: 1, Pix: make([]float32, 64*48), Header: fits.NewHeader()}
	for i := range big.Pix {
		big.Pix[i] = float32(100 + i%64) // a ramp along x
	}
	note, err = r.removeBackground(f, big)
	require.NoError(t, err)
	assert.Contains(t, note, "background poly1")
	v, _ = big.Header.String("ZMBKG")
	assert.Equal(t, BackgroundPoly1, v)
	assert.InDelta(t, big.Pix[0], big.Pix[63], 1e-3, "the ramp is gone")
}
