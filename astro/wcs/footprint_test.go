package wcs

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFootprintWalksTheOuterEdges(t *testing.T) {
	w := tanWCS(t, "TAN", 10, 20)
	fp := w.Footprint(1024, 1024, 4)
	require.Len(t, fp, 16)
	// Corners are the outer pixel edges, in order (-0.5,-0.5), (w-0.5,-0.5), (w-0.5,h-0.5), (-0.5,h-0.5).
	corners := [][2]float64{{-0.5, -0.5}, {1023.5, -0.5}, {1023.5, 1023.5}, {-0.5, 1023.5}}
	for i, c := range corners {
		ra, dec, err := w.PixelToWorld(c[0], c[1])
		require.NoError(t, err)
		assert.InDelta(t, ra, fp[4*i][0], 1e-12)
		assert.InDelta(t, dec, fp[4*i][1], 1e-12)
	}
	// Consecutive samples are evenly spaced: 256 px at 1"/px.
	for i := range fp {
		j := (i + 1) % len(fp)
		assert.InDelta(t, 256.0/3600, separation(fp[i][0], fp[i][1], fp[j][0], fp[j][1]), 1e-6)
	}
	assert.Len(t, w.Footprint(10, 10, 0), 4, "fewer than one sample per edge means corners only")
}

func TestPixelScaleAndRotation(t *testing.T) {
	w := tanWCS(t, "TAN", 10, 20)
	sx, sy := w.PixelScale(511.5, 511.5)
	assert.InDelta(t, 1, sx, 1e-9)
	assert.InDelta(t, 1, sy, 1e-9)
	assert.InDelta(t, 0, w.Rotation(), 1e-9, "north up")
	// Rotate the CD matrix by 40°: +y then points 40° east of north.
	s, c := math.Sincos(40 * deg2rad)
	w.CD = [2][2]float64{{-c / 3600, s / 3600}, {s / 3600, c / 3600}}
	require.NoError(t, w.Init())
	assert.InDelta(t, 40, w.Rotation(), 1e-6)
	// Off centre, TAN squeezes radial steps by cos²ζ (dζ/dR of ζ = atan R): at R = 0.5° the
	// radial scale is ~7.6e-5 below 1"/px, and the scale follows the rotated x axis.
	sx, _ = w.PixelScale(511.5+1800, 511.5)
	assert.InDelta(t, math.Pow(math.Cos(math.Atan(0.5*deg2rad)), 2), sx, 1e-8)
	sx, sy = tanWCS(t, "SIN", 10, 20).PixelScale(1e7, 0)
	assert.True(t, math.IsNaN(sx) && math.IsNaN(sy), "outside the domain the scale is NaN")
}

func TestCloneIsDeep(t *testing.T) {
	w := sipWCS(t, true)
	w.PV = []float64{0, 0.1}
	c := w.Clone()
	require.Equal(t, w, c)
	c.SIP.A[2][0] = 1
	c.SIP.AP[0][2] = 1
	c.PV[1] = 0.5
	c.CRVal[0] = 0
	assert.Equal(t, 3e-6, w.SIP.A[2][0])
	assert.Equal(t, -2e-6, w.SIP.AP[0][2])
	assert.Equal(t, 0.1, w.PV[1])
	assert.Equal(t, 210.0, w.CRVal[0])
}

func TestEditedFieldsTakeEffectWithoutInit(t *testing.T) {
	w := tanWCS(t, "TAN", 10, 20)
	w.CRVal = [2]float64{100, -30} // cached state is now stale
	ra, dec, err := w.PixelToWorld(511.5, 511.5)
	require.NoError(t, err)
	assert.InDelta(t, 100, ra, 1e-12)
	assert.InDelta(t, -30, dec, 1e-12)
	require.NoError(t, w.Init())
	x, y, err := w.WorldToPixel(100, -30)
	require.NoError(t, err)
	assert.InDelta(t, 511.5, x, 1e-9)
	assert.InDelta(t, 511.5, y, 1e-9)
}
