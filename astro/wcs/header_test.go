package wcs

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func baseHeader() mapHeader {
	return mapHeader{
		"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
		"CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": 83.8, "CRVAL2": -5.4,
		"CD1_1": -2e-4, "CD1_2": 1e-5, "CD2_1": 1.2e-5, "CD2_2": 2e-4,
	}
}

// sameMapping checks that two WCS send a grid of pixels to the same sky positions.
func sameMapping(t *testing.T, a, b *WCS, tol float64) {
	t.Helper()
	for y := -50.0; y < 700; y += 97 {
		for x := -50.0; x < 700; x += 89 {
			ra1, d1, err := a.PixelToWorld(x, y)
			require.NoError(t, err)
			ra2, d2, err := b.PixelToWorld(x, y)
			require.NoError(t, err)
			require.Less(t, skyErr(ra1, d1, ra2, d2), tol, "pixel (%g, %g)", x, y)
		}
	}
}

func TestCROTA2MatchesEquivalentCD(t *testing.T) {
	// Paper II §6.1: CD1_1 = CDELT1 cosρ, CD1_2 = -CDELT2 sinρ, CD2_1 = CDELT1 sinρ,
	// CD2_2 = CDELT2 cosρ.
	const cdelt1, cdelt2, rho = -2e-4, 3e-4, 30.0
	s, c := math.Sincos(rho * deg2rad)
	rot := mapHeader{"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": 83.8, "CRVAL2": -5.4, "CDELT1": cdelt1, "CDELT2": cdelt2, "CROTA2": rho}
	cd := mapHeader{"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": 83.8, "CRVAL2": -5.4,
		"CD1_1": cdelt1 * c, "CD1_2": -cdelt2 * s, "CD2_1": cdelt1 * s, "CD2_2": cdelt2 * c}
	a, err := FromHeader(rot)
	require.NoError(t, err)
	b, err := FromHeader(cd)
	require.NoError(t, err)
	sameMapping(t, a, b, 1e-12)
	// With CDELT1 < 0 < CDELT2, a positive CROTA2 turns +y from north towards west.
	assert.InDelta(t, -rho, a.Rotation(), 1e-6)
}

func TestPCCDELTMatchesCD(t *testing.T) {
	pc := mapHeader{"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN", "CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": 83.8, "CRVAL2": -5.4, "CDELT1": -2e-4, "CDELT2": 2e-4,
		"PC1_1": 1.0, "PC1_2": -0.05, "PC2_1": 0.06, "PC2_2": 1.0}
	cd := mapHeader{"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN", "CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": 83.8, "CRVAL2": -5.4,
		"CD1_1": -2e-4, "CD1_2": -2e-4 * -0.05, "CD2_1": 2e-4 * 0.06, "CD2_2": 2e-4}
	a, err := FromHeader(pc)
	require.NoError(t, err)
	b, err := FromHeader(cd)
	require.NoError(t, err)
	assert.InDeltaSlice(t, b.CD[0][:], a.CD[0][:], 1e-18)
	assert.InDeltaSlice(t, b.CD[1][:], a.CD[1][:], 1e-18)
	sameMapping(t, a, b, 1e-12)
}

func TestMissingCDEntriesAreZero(t *testing.T) {
	h := baseHeader()
	delete(h, "CD1_2")
	w, err := FromHeader(h)
	require.NoError(t, err)
	assert.Equal(t, 0.0, w.CD[0][1])
	assert.Equal(t, -2e-4, w.CD[0][0])
}

func TestSwappedAxesMatchNormalOrder(t *testing.T) {
	h := baseHeader()
	sw := mapHeader{"CTYPE1": "DEC--TAN", "CTYPE2": "RA---TAN", "CRPIX1": 300.5, "CRPIX2": 200.5,
		"CRVAL1": -5.4, "CRVAL2": 83.8,
		"CD1_1": h["CD2_1"], "CD1_2": h["CD2_2"], "CD2_1": h["CD1_1"], "CD2_2": h["CD1_2"]}
	a, err := FromHeader(h)
	require.NoError(t, err)
	b, err := FromHeader(sw)
	require.NoError(t, err)
	sameMapping(t, a, b, 1e-12)
	x, y, err := b.WorldToPixel(83.9, -5.3)
	require.NoError(t, err)
	bx, by, err := b.PixelToWorld(x, y)
	require.NoError(t, err)
	assert.InDelta(t, 83.9, bx, 1e-10)
	assert.InDelta(t, -5.3, by, 1e-10)
}

func TestFrameDefaults(t *testing.T) {
	tests := []struct {
		name    string
		extra   mapHeader
		radesys string
		equinox float64
	}{
		{"no RADESYS and no EQUINOX means ICRS", mapHeader{}, "ICRS", 0},
		{"EQUINOX before 1984 means FK4", mapHeader{"EQUINOX": 1950.0}, "FK4", 1950},
		{"EQUINOX 2000 means FK5", mapHeader{"EQUINOX": 2000.0}, "FK5", 2000},
		{"EPOCH stands in for EQUINOX", mapHeader{"EPOCH": 1950.0}, "FK4", 1950},
		{"FK5 without EQUINOX is J2000", mapHeader{"RADESYS": "FK5"}, "FK5", 2000},
		{"FK4 without EQUINOX is B1950", mapHeader{"RADESYS": "FK4 "}, "FK4", 1950},
		{"explicit ICRS is kept", mapHeader{"RADESYS": "ICRS", "EQUINOX": 2000.0}, "ICRS", 2000},
		{"old RADECSYS spelling is read", mapHeader{"RADECSYS": "FK5", "EQUINOX": 2000.0}, "FK5", 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := baseHeader()
			for k, v := range tc.extra {
				h[k] = v
			}
			w, err := FromHeader(h)
			require.NoError(t, err)
			assert.Equal(t, tc.radesys, w.RADESys)
			assert.Equal(t, tc.equinox, w.Equinox)
		})
	}
}

func TestPoleDefaults(t *testing.T) {
	tests := []struct {
		name    string
		ctype   string
		crval2  float64
		lonPole float64
	}{
		{"zenithal below the pole defaults LONPOLE to 180", "TAN", -5.4, 180},
		{"CAR north of the equator defaults LONPOLE to 0", "CAR", 20, 0},
		{"CAR south of the equator defaults LONPOLE to 180", "CAR", -20, 180},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := baseHeader()
			h["CTYPE1"], h["CTYPE2"] = "RA---"+tc.ctype, "DEC--"+tc.ctype
			h["CRVAL2"] = tc.crval2
			w, err := FromHeader(h)
			require.NoError(t, err)
			assert.Equal(t, tc.lonPole, w.LonPole)
			ra, dec, err := w.PixelToWorld(299.5, 199.5)
			require.NoError(t, err)
			assert.InDelta(t, 83.8, ra, 1e-10)
			assert.InDelta(t, tc.crval2, dec, 1e-10)
		})
	}
}

func TestFromHeaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		change mapHeader
		drop   []string
		want   error
	}{
		{"no CTYPE means no celestial axes", nil, []string{"CTYPE1", "CTYPE2"}, ErrNoCelestialAxes},
		{"linear axes are not celestial", mapHeader{"CTYPE1": "PIXEL", "CTYPE2": "PIXEL"}, nil, ErrNoCelestialAxes},
		{"RA without a projection code is linear", mapHeader{"CTYPE1": "RA", "CTYPE2": "DEC"}, nil, ErrNoCelestialAxes},
		{"a spectral second axis is not a pair", mapHeader{"CTYPE2": "VELO-LSR"}, nil, ErrNoCelestialAxes},
		{"galactic longitude with equatorial latitude is not a pair", mapHeader{"CTYPE1": "GLON-TAN"}, nil, ErrNoCelestialAxes},
		{"TPV is not supported", mapHeader{"CTYPE1": "RA---TPV", "CTYPE2": "DEC--TPV"}, nil, ErrUnsupportedProjection},
		{"mixed projections are rejected", mapHeader{"CTYPE2": "DEC--SIN"}, nil, ErrUnsupportedProjection},
		{"an unknown suffix is rejected", mapHeader{"CTYPE1": "RA---TAN-TAB", "CTYPE2": "DEC--TAN-TAB"}, nil, ErrUnsupportedProjection},
		{"missing CRVAL is reported", nil, []string{"CRVAL2"}, ErrMissingKey},
		{"no scale keys at all is reported", nil, []string{"CD1_1", "CD1_2", "CD2_1", "CD2_2"}, ErrMissingKey},
		{"a zero CD matrix is singular", mapHeader{"CD1_1": 0.0, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": 0.0}, nil, ErrSingularCD},
		{"SIP without A_ORDER is reported", mapHeader{"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP"}, nil, ErrMissingKey},
		{"ZPN without coefficients is rejected", mapHeader{"CTYPE1": "RA---ZPN", "CTYPE2": "DEC--ZPN"}, nil, ErrUnsupportedProjection},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := baseHeader()
			for k, v := range tc.change {
				h[k] = v
			}
			for _, k := range tc.drop {
				delete(h, k)
			}
			_, err := FromHeader(h)
			require.ErrorIs(t, err, tc.want)
			assert.Regexp(t, "^wcs: ", err.Error())
		})
	}
}

func TestGalacticAxesAreCelestial(t *testing.T) {
	h := baseHeader()
	h["CTYPE1"], h["CTYPE2"] = "GLON-CAR", "GLAT-CAR"
	h["EQUINOX"] = 2000.0
	w, err := FromHeader(h)
	require.NoError(t, err)
	assert.Empty(t, w.RADESys, "RADESYS only applies to equatorial axes")
	ra, dec, err := w.PixelToWorld(299.5, 199.5)
	require.NoError(t, err)
	assert.InDelta(t, 83.8, ra, 1e-10)
	assert.InDelta(t, -5.4, dec, 1e-10)
}

func TestSIPKeysIgnoredWithoutSIPSuffix(t *testing.T) {
	h := baseHeader()
	h["A_ORDER"], h["B_ORDER"], h["A_2_0"] = 2, 2, 1e-3
	w, err := FromHeader(h)
	require.NoError(t, err)
	assert.Nil(t, w.SIP, "astropy drops SIP keys when CTYPE lacks -SIP")
}

func TestCardsRoundTrip(t *testing.T) {
	zpn := baseHeader()
	zpn["CTYPE1"], zpn["CTYPE2"] = "RA---ZPN", "DEC--ZPN"
	zpn["PV2_1"], zpn["PV2_3"] = 1.0, -0.2
	sip := baseHeader()
	sip["CTYPE1"], sip["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
	sip["A_ORDER"], sip["B_ORDER"], sip["A_2_0"], sip["B_1_1"] = 2, 2, 1e-6, -2e-6
	sip["AP_ORDER"], sip["BP_ORDER"], sip["AP_2_0"], sip["BP_1_1"] = 2, 2, -1e-6, 2e-6
	cases := map[string]mapHeader{"ZPN with PV terms": zpn, "TAN-SIP with inverse": sip, "plain TAN": baseHeader()}
	if findDataDir() != "" {
		cases["real SIP file"] = nil // filled below from the file
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var w *WCS
			var err error
			if h == nil {
				w = readWCS(t, filepath.Join(dataDir(t), "astrometrynet_thumbnail_sip.fits.gz"))
			} else {
				w, err = FromHeader(h)
				require.NoError(t, err)
			}
			back, err := FromHeader(headerFromCards(w.Cards()))
			require.NoError(t, err)
			assert.Equal(t, w, back)
		})
	}
}
