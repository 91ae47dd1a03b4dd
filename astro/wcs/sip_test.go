package wcs

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sipWCS is a 2048² TAN-SIP frame whose cubic distortion moves the corners by ~10 px.
func sipWCS(t testing.TB, withInverse bool) *WCS {
	t.Helper()
	w, err := New("TAN", [2]float64{210, -40}, [2]float64{1024.5, 1024.5}, [2][2]float64{{-1e-4, 2e-6}, {1.5e-6, 1e-4}})
	require.NoError(t, err)
	w.SIP = &SIP{
		Order: 3,
		A:     [][]float64{{0, 0, 2e-6, 1e-9}, {0, -1e-6, 5e-10}, {3e-6, -2e-10}, {1.2e-9}},
		B:     [][]float64{{0, 0, -1e-6, 8e-10}, {0, 2.5e-6, 1e-10}, {-2e-6, 3e-10}, {-7e-10}},
	}
	if withInverse {
		// First-order inverse: good to ~1 px, enough as a first guess only.
		w.SIP.APOrder = 3
		w.SIP.AP = [][]float64{{0, 0, -2e-6, -1e-9}, {0, 1e-6, -5e-10}, {-3e-6, 2e-10}, {-1.2e-9}}
		w.SIP.BP = [][]float64{{0, 0, 1e-6, -8e-10}, {0, -2.5e-6, -1e-10}, {2e-6, -3e-10}, {7e-10}}
	}
	w.CType = [2]string{"RA---TAN-SIP", "DEC--TAN-SIP"}
	return w
}

func TestSIPRoundTrip(t *testing.T) {
	for _, inv := range []bool{false, true} {
		name := "forward only, solved by iteration"
		if inv {
			name = "AP/BP as first guess, refined by iteration"
		}
		t.Run(name, func(t *testing.T) {
			w := sipWCS(t, inv)
			plain := w.Clone()
			plain.SIP = nil
			moved, worst := 0.0, 0.0
			for y := -100.0; y < 2200; y += 113 {
				for x := -100.0; x < 2200; x += 127 {
					ra, dec, err := w.PixelToWorld(x, y)
					require.NoError(t, err)
					// The distortion is real: the same sky point sits elsewhere without SIP.
					px, py, err := plain.WorldToPixel(ra, dec)
					require.NoError(t, err)
					moved = max(moved, math.Hypot(px-x, py-y))
					bx, by, err := w.WorldToPixel(ra, dec)
					require.NoError(t, err)
					worst = max(worst, math.Abs(bx-x), math.Abs(by-y))
				}
			}
			assert.Greater(t, moved, 5.0, "distortion should move corners by several pixels")
			assert.Less(t, worst, 1e-6, "worst SIP round trip %g px", worst)
		})
	}
}

func TestSIPOffsetsAreOneBased(t *testing.T) {
	// A pure A_1_0 term scales u = x+1-CRPIX1: at 0-based x = CRPIX1-1 it must vanish.
	w, err := New("TAN", [2]float64{10, 10}, [2]float64{50, 60}, [2][2]float64{{-1e-4, 0}, {0, 1e-4}})
	require.NoError(t, err)
	w.SIP = &SIP{Order: 1, A: [][]float64{{0, 0}, {0.5}}, B: [][]float64{{0, 0}, {0}}}
	ra, dec, err := w.PixelToWorld(49, 59)
	require.NoError(t, err)
	assert.InDelta(t, 10, ra, 1e-12)
	assert.InDelta(t, 10, dec, 1e-12)
	// One pixel to the right the offset u = 1 becomes 1.5: the plain TAN frame puts that sky
	// point at 0-based x = 1.5 + CRPIX1 - 1. (With 0-based offsets it would stay at 50.)
	ra, dec, err = w.PixelToWorld(50, 59)
	require.NoError(t, err)
	x, y, err := (&WCS{CType: [2]string{"RA---TAN", "DEC--TAN"}, CRPix: w.CRPix, CRVal: w.CRVal, CD: w.CD,
		LonPole: math.NaN(), LatPole: math.NaN()}).WorldToPixel(ra, dec)
	require.NoError(t, err)
	assert.InDelta(t, 50.5, x, 1e-9)
	assert.InDelta(t, 59, y, 1e-9)
}

func TestSIPWithoutPreimageFailsCleanly(t *testing.T) {
	// u' = u + 1e-3·u² never goes below -250 px: a sky point at u' = -400 has no pre-image.
	w, err := New("TAN", [2]float64{10, 10}, [2]float64{1, 1}, [2][2]float64{{-1e-4, 0}, {0, 1e-4}})
	require.NoError(t, err)
	plain := w.Clone()
	w.SIP = &SIP{Order: 2, A: [][]float64{{0}, {0}, {1e-3}}, B: [][]float64{{0}}}
	ra, dec, err := plain.PixelToWorld(-400, 0)
	require.NoError(t, err)
	_, _, err = w.WorldToPixel(ra, dec)
	require.ErrorIs(t, err, ErrNoConvergence)
}

func TestHandBuiltSIPWithHugeOrderIsAnError(t *testing.T) {
	w := sipWCS(t, false)
	w.SIP.Order = 40
	_, _, err := w.PixelToWorld(1, 1)
	require.Error(t, err)
	_, _, err = w.WorldToPixel(210, -40)
	require.Error(t, err)
}
