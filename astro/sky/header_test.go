package sky

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// mapHeader is a wcs.Header backed by a map, for synthetic headers.
type mapHeader map[string]any

func (h mapHeader) Float(key string) (float64, bool) {
	switch v := h[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

func (h mapHeader) String(key string) (string, bool) {
	v, ok := h[key].(string)
	return v, ok
}

func headerFromCards(cards []wcs.Card) mapHeader {
	h := mapHeader{}
	for _, c := range cards {
		h[c.Key] = c.Value
	}
	return h
}

func TestGridFromHeaderRoundTripsAnOptimalGrid(t *testing.T) {
	frames, scales := mosaic(t, "TAN", [2]float64{150, 30}, 30, 1.0, 2, 2)
	g, w, h, err := OptimalGrid(footprints(frames, 4), scales, DefaultGridOptions())
	require.NoError(t, err)
	got, err := GridFromHeader(headerFromCards(g.Cards()), w, h)
	require.NoError(t, err)
	assert.Equal(t, g.CRVal, got.CRVal)
	assert.Equal(t, g.CRPix, got.CRPix)
	for i := range 2 {
		for j := range 2 {
			assert.InDelta(t, g.CD[i][j], got.CD[i][j], 1e-15)
		}
	}
}

func TestGridFromHeaderErrors(t *testing.T) {
	good := mapHeader{
		"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 50.0, "CRPIX2": 50.0,
		"CRVAL1": 10.0, "CRVAL2": 20.0, "CD1_1": -1e-4, "CD2_2": 1e-4,
	}
	noCType := mapHeader{}
	for k, v := range good {
		noCType[k] = v
	}
	delete(noCType, "CTYPE1")
	hugeScale := mapHeader{}
	for k, v := range good {
		hugeScale[k] = v
	}
	hugeScale["CD1_1"], hugeScale["CD2_2"] = -5.0, 5.0
	tests := []struct {
		name  string
		h     wcs.Header
		w, hh int
		is    error
	}{
		{"nil header", nil, 100, 100, nil},
		{"zero width", good, 0, 100, nil},
		{"negative height", good, 100, -1, nil},
		{"too large", good, MaxGridSide + 1, 100, ErrGridTooLarge},
		{"no celestial axes", noCType, 100, 100, wcs.ErrNoCelestialAxes},
		{"scale outside the sanity range", hugeScale, 100, 100, wcs.ErrScaleOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GridFromHeader(tc.h, tc.w, tc.hh)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sky: ")
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}
	got, err := GridFromHeader(good, 100, 100)
	require.NoError(t, err)
	assert.Equal(t, [2]float64{10, 20}, got.CRVal)
}

// dataDir returns ../shared/data beside the repository root or skips the test.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found: skipping real-data test")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data", "isaac_cutouts")
	if _, err := os.Stat(filepath.Join(d, "isaac_1.fits")); err != nil {
		t.Skip("real test data ../shared/data/isaac_cutouts absent: skipping ISAAC mosaic grid")
	}
	return d
}

func TestOptimalGridOnISAACCutouts(t *testing.T) {
	dir := dataDir(t)
	var frames []*wcs.WCS
	var sizes [][2]int
	var fps [][][2]float64
	var scales []float64
	for i := 1; i <= 4; i++ {
		f, err := fits.Open(filepath.Join(dir, fmt.Sprintf("isaac_%d.fits", i)))
		require.NoError(t, err)
		img, err := f.Image("")
		require.NoError(t, err)
		w, err := wcs.FromHeader(img.Header)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		frames = append(frames, w)
		sizes = append(sizes, [2]int{img.Width, img.Height})
		fps = append(fps, w.Footprint(img.Width, img.Height, 4))
		scales = append(scales, math.Sqrt(math.Abs(w.CD[0][0]*w.CD[1][1]-w.CD[0][1]*w.CD[1][0]))*3600)
	}
	g, w, h, err := OptimalGrid(fps, scales, DefaultGridOptions())
	require.NoError(t, err)
	t.Logf("ISAAC grid %d×%d at %.8f\"/px, CRVAL %v, rotation %.4f°", w, h, gridScale(g), g.CRVal, g.Rotation())
	assert.InDelta(t, 0.1484, gridScale(g), 1e-6)
	for k, f := range frames {
		requireInside(t, g, w, h, [][][2]float64{f.Footprint(sizes[k][0], sizes[k][1], 32)})
	}
	// The cutouts come from one 1024×1024 frame at origins up to (424, 424): the grid is
	// that frame plus the margins, give or take a pixel, and aligned with it.
	assert.InDelta(t, 1024+4, w, 2)
	assert.InDelta(t, 1024+4, h, 2)
	assert.InDelta(t, 0, reduceQuarter(axisAngle(t, g, frames[0], 300, 300)), 0.01)
}
