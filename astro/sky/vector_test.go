package sky

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeparation(t *testing.T) {
	tests := []struct {
		name                 string
		ra1, dec1, ra2, dec2 float64
		want, tol            float64
	}{
		{"same point is zero", 10, 20, 10, 20, 0, 0},
		{"one degree along the equator", 0, 0, 1, 0, 1, 1e-12},
		{"pole to equator is ninety", 123, 90, 45, 0, 90, 1e-12},
		{"across RA zero", 359.5, 0, 0.5, 0, 1, 1e-12},
		{"one milliarcsecond keeps precision", 10, 45, 10, 45 + 1.0/3600e3, 1.0 / 3600e3, 1e-14},
		{"tiny RA step scales with cos dec", 0, 60, 1e-6, 60, 0.5e-6, 1e-17},
		{"antipodal is 180", 10, 20, 190, -20, 180, 1e-12},
		{"nearly antipodal keeps precision", 0, 0, 180, 1e-6, 180 - 1e-6, 1e-11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Separation(tc.ra1, tc.dec1, tc.ra2, tc.dec2)
			assert.InDelta(t, tc.want, got, tc.tol)
			assert.InDelta(t, got, Separation(tc.ra2, tc.dec2, tc.ra1, tc.dec1), 1e-15, "symmetric")
		})
	}
}

func TestUnitVectorRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		ra, dec float64
	}{
		{"equator", 0, 0},
		{"ordinary", 201.5, -43.25},
		{"near RA 360", 359.999999, 12},
		{"near north pole", 77, 89.9999999},
		{"near south pole", 300, -89.999999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := UnitVector(tc.ra, tc.dec)
			assert.InDelta(t, 1, v[0]*v[0]+v[1]*v[1]+v[2]*v[2], 1e-15)
			ra, dec := FromVector(v)
			assert.Less(t, Separation(ra, dec, tc.ra, tc.dec), 1e-12)
			assert.InDelta(t, tc.dec, dec, 1e-12)
		})
	}
	ra, dec := FromVector([3]float64{0, 0, 2})
	assert.Equal(t, [2]float64{0, 90}, [2]float64{ra, dec}, "pole gets RA 0")
	ra, _ = FromVector([3]float64{0, 0, 0})
	assert.True(t, math.IsNaN(ra), "zero vector has no direction")
}

func TestMean(t *testing.T) {
	tests := []struct {
		name    string
		points  [][2]float64
		ra, dec float64
	}{
		{"across RA zero", [][2]float64{{359.9, 0}, {0.1, 0}}, 0, 0},
		{"across RA zero off the equator", [][2]float64{{359, 30}, {1, 30}}, 0, math.Atan(math.Tan(30*deg2rad)/math.Cos(deg2rad)) * rad2deg},
		{"around the north pole", [][2]float64{{0, 89}, {90, 89}, {180, 89}, {270, 89}}, 0, 90},
		{"near the pole on one side", [][2]float64{{10, 89.5}, {190, 89.7}}, 10, 89.9},
		{"single point", [][2]float64{{42, -17}}, 42, -17},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ra, dec, err := Mean(tc.points)
			require.NoError(t, err)
			assert.Less(t, Separation(ra, dec, tc.ra, tc.dec), 1e-5, "got (%g, %g)", ra, dec)
			assert.GreaterOrEqual(t, ra, 0.0)
			assert.Less(t, ra, 360.0)
		})
	}
}

func TestMeanErrors(t *testing.T) {
	tests := []struct {
		name   string
		points [][2]float64
		want   error
	}{
		{"empty", nil, ErrDegenerate},
		{"antipodal pair", [][2]float64{{10, 20}, {190, -20}}, ErrDegenerate},
		{"balanced on the equator", [][2]float64{{0, 0}, {120, 0}, {240, 0}}, ErrDegenerate},
		{"NaN coordinate", [][2]float64{{0, math.NaN()}}, ErrNonFinite},
		{"infinite coordinate", [][2]float64{{math.Inf(1), 0}}, ErrNonFinite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Mean(tc.points)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "sky: ")
		})
	}
}
