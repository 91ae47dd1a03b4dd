package wcs

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gridWCS is a 1024×1024 frame at (150, 30) with the given scale in degrees/px and a small
// rotation, so that both CD off-diagonal terms are exercised.
func gridWCS(t *testing.T, proj string, scale float64, pv []float64) *WCS {
	t.Helper()
	s, c := math.Sincos(7 * deg2rad)
	w := &WCS{
		CType:      [2]string{"RA---" + proj, "DEC--" + proj},
		CRPix:      [2]float64{512.5, 512.5},
		CRVal:      [2]float64{150, 30},
		CD:         [2][2]float64{{-scale * c, scale * s}, {scale * s, scale * c}},
		LonPole:    math.NaN(),
		LatPole:    math.NaN(),
		Projection: proj,
		PV:         pv,
	}
	require.NoError(t, w.Init())
	return w
}

func TestProjectionRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		proj  string
		scale float64 // deg/px: 0.08 puts the grid corners ~58° from the reference point
		pv    []float64
	}{
		{"TAN round trips far from the centre", "TAN", 0.08, nil},
		{"SIN round trips over most of the hemisphere", "SIN", 0.05, nil},
		{"slant SIN with PV2_1 and PV2_2 round trips", "SIN", 0.05, []float64{0, 0.1, -0.05}},
		{"ARC round trips", "ARC", 0.08, nil},
		{"STG round trips", "STG", 0.08, nil},
		{"ZEA round trips", "ZEA", 0.08, nil},
		{"ZPN cubic round trips", "ZPN", 0.05, []float64{0, 1, 0, -0.2}},
		{"CAR with non-zero CRVAL round trips", "CAR", 0.08, nil},
		{"AIT round trips", "AIT", 0.08, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := gridWCS(t, tc.proj, tc.scale, tc.pv)
			worst := 0.0
			for y := -10.0; y <= 1034; y += 37.3 {
				for x := -10.0; x <= 1034; x += 41.7 {
					ra, dec, err := w.PixelToWorld(x, y)
					require.NoError(t, err, "pixel (%g, %g)", x, y)
					require.True(t, ra >= 0 && ra < 360, "ra %g out of [0, 360)", ra)
					bx, by, err := w.WorldToPixel(ra, dec)
					require.NoError(t, err, "world (%g, %g)", ra, dec)
					worst = max(worst, math.Abs(bx-x), math.Abs(by-y))
				}
			}
			assert.Less(t, worst, 1e-8, "worst round-trip error %g px", worst)
		})
	}
}

func TestReferencePixelGivesReferenceValue(t *testing.T) {
	for _, proj := range []string{"TAN", "SIN", "ARC", "STG", "ZEA", "ZPN", "CAR", "AIT"} {
		t.Run(proj, func(t *testing.T) {
			var pv []float64
			if proj == "ZPN" {
				pv = []float64{0, 1}
			}
			w := gridWCS(t, proj, 1.0/3600, pv)
			ra, dec, err := w.PixelToWorld(511.5, 511.5)
			require.NoError(t, err)
			assert.InDelta(t, 150, ra, 1e-12)
			assert.InDelta(t, 30, dec, 1e-12)
		})
	}
}

// TestKnownValues derives each projection's radial law by hand (paper II §5): the frame is
// centred on (0, 0) with CD = diag(-1/3600, 1/3600), so a step of 3600 px puts the point
// R = 1° (π/180 rad in R0 units) from the reference point in the projection plane.
func TestKnownValues(t *testing.T) {
	r := math.Pi / 180
	tests := []struct {
		name    string
		proj    string
		dx, dy  float64 // pixel offset from CRPIX
		ra, dec float64
	}{
		{"TAN +x is west by atan(R)", "TAN", 3600, 0, 360 - math.Atan(r)*rad2deg, 0},
		{"TAN +y is north by atan(R)", "TAN", 0, 3600, 0, math.Atan(r) * rad2deg},
		{"SIN +y is north by asin(R)", "SIN", 0, 3600, 0, math.Asin(r) * rad2deg},
		{"ARC -x is east by exactly R", "ARC", -3600, 0, 1, 0},
		{"STG +y is north by 2atan(R/2)", "STG", 0, 3600, 0, 2 * math.Atan(r/2) * rad2deg},
		{"ZEA -y is south by 2asin(R/2)", "ZEA", 0, -3600, 0, -2 * math.Asin(r/2) * rad2deg},
		{"CAR is linear in both axes", "CAR", -3600 * 20, 3600 * 10, 20, 10},
		{"TAN 45 degrees in the plane", "TAN", -3600 * 180 / math.Pi, 0, 45, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.proj, [2]float64{0, 0}, [2]float64{100, 100}, [2][2]float64{{-1.0 / 3600, 0}, {0, 1.0 / 3600}})
			require.NoError(t, err)
			ra, dec, err := w.PixelToWorld(99+tc.dx, 99+tc.dy)
			require.NoError(t, err)
			assert.InDelta(t, tc.ra, ra, 1e-10)
			assert.InDelta(t, tc.dec, dec, 1e-10)
		})
	}
}

func TestAITKnownValue(t *testing.T) {
	// Paper II eq. 107 at (φ, θ) = (90°, 0): γ = sqrt(2/(1+cos45°)), x = 2γ sin45°.
	w, err := New("AIT", [2]float64{0, 0}, [2]float64{1, 1}, [2][2]float64{{-1, 0}, {0, 1}})
	require.NoError(t, err)
	g := math.Sqrt(2 / (1 + math.Cos(math.Pi/4)))
	want := -2 * g * math.Sin(math.Pi/4) * rad2deg // RA increases to the left
	x, y, err := w.WorldToPixel(90, 0)
	require.NoError(t, err)
	assert.InDelta(t, want, x, 1e-10)
	assert.InDelta(t, 0, y, 1e-10)
}

func TestCARWithOffsetReferenceFollowsMeridian(t *testing.T) {
	// With CRVAL = (30, 20) the general rotation puts the celestial pole at native latitude
	// 70°, so the native meridian through the reference point is the celestial meridian α=30.
	w, err := New("CAR", [2]float64{30, 20}, [2]float64{1, 1}, [2][2]float64{{-1, 0}, {0, 1}})
	require.NoError(t, err)
	assert.InDelta(t, 0, w.LonPole, 1e-12, "paper II default φp = 0 when δ0 >= θ0")
	ra, dec, err := w.PixelToWorld(0, 10)
	require.NoError(t, err)
	assert.InDelta(t, 30, ra, 1e-10)
	assert.InDelta(t, 30, dec, 1e-10)
}

func TestOutOfDomainReturnsError(t *testing.T) {
	tests := []struct {
		name string
		proj string
		pix  bool // true: PixelToWorld at (x, y); false: WorldToPixel at (x, y)
		x, y float64
	}{
		{"TAN cannot show the opposite hemisphere", "TAN", false, 180, 0},
		{"SIN cannot show the far side", "SIN", false, 120, 0},
		{"SIN plane point outside the unit disc", "SIN", true, 99 - 3600*70, 99 - 3600*70},
		{"ZEA plane point beyond radius 2", "ZEA", true, 99 - 3600*130, 99},
		{"AIT plane point outside the ellipse", "AIT", true, 99 - 3600*200, 99 + 3600*100},
		{"CAR latitude beyond the pole", "CAR", true, 99, 99 + 3600*95},
		{"latitude above 90 is rejected", "TAN", false, 0, 91},
		{"NaN world coordinate is rejected", "TAN", false, math.NaN(), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.proj, [2]float64{0, 0}, [2]float64{100, 100}, [2][2]float64{{-1.0 / 3600, 0}, {0, 1.0 / 3600}})
			require.NoError(t, err)
			if tc.pix {
				_, _, err = w.PixelToWorld(tc.x, tc.y)
			} else {
				_, _, err = w.WorldToPixel(tc.x, tc.y)
			}
			require.ErrorIs(t, err, ErrOutOfDomain)
		})
	}
}

func TestFieldAtThePole(t *testing.T) {
	w := tanWCS(t, "TAN", 123, 89.9)
	// The pole lies straight up (+y, north) at plane distance tan(0.1°) radians.
	px, py, err := w.WorldToPixel(0, 90)
	require.NoError(t, err)
	assert.InDelta(t, 511.5, px, 1e-9)
	assert.InDelta(t, 511.5+3600*rad2deg*math.Tan(0.1*deg2rad), py, 1e-9)
	_, dec, err := w.PixelToWorld(px, py)
	require.NoError(t, err)
	assert.InDelta(t, 90, dec, 1e-9)
	for y := 0.0; y < 1024; y += 64 {
		for x := 0.0; x < 1024; x += 64 {
			ra, dec, err := w.PixelToWorld(x, y)
			require.NoError(t, err)
			require.True(t, ra >= 0 && ra < 360)
			bx, by, err := w.WorldToPixel(ra, dec)
			require.NoError(t, err)
			assert.InDelta(t, x, bx, 1e-8)
			assert.InDelta(t, y, by, 1e-8)
		}
	}
}

func TestFieldCrossingRAZero(t *testing.T) {
	w := tanWCS(t, "TAN", 0.05, 10) // 0.05° = 180 px: RA 0 runs through the frame
	fp := w.Footprint(1024, 1024, 8)
	require.Len(t, fp, 32)
	low, high := 0, 0
	for _, p := range fp {
		require.True(t, p[0] >= 0 && p[0] < 360, "ra %g", p[0])
		if p[0] < 1 {
			low++
		}
		if p[0] > 359 {
			high++
		}
	}
	assert.Positive(t, low, "points east of RA 0")
	assert.Positive(t, high, "points west of RA 0 are wrapped to ~360, not negative")
	// World coordinates given as negative or >360 RA map to the same pixel.
	x1, y1, err := w.WorldToPixel(359.9, 10)
	require.NoError(t, err)
	x2, y2, err := w.WorldToPixel(-0.1, 10)
	require.NoError(t, err)
	assert.InDelta(t, x1, x2, 1e-9)
	assert.InDelta(t, y1, y2, 1e-9)
}
