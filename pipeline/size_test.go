package pipeline

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSizeAcceptsBinaryAndDecimalUnits(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"256MiB", 256 << 20}, {"2GiB", 2 << 30}, {"1.5G", 3 << 29}, {"512MB", 512e6},
		{"1048576", 1 << 20}, {" 64 mib ", 64 << 20}, {"10k", 10 << 10}, {"1.0 GiB", 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseSizeRejectsNonsense(t *testing.T) {
	for _, in := range []string{"", "MiB", "-1GiB", "abc", "1e30GiB", "NaN"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseSize(in)
			assert.Error(t, err)
		})
	}
}

func TestFormatSizeFlagRoundTrips(t *testing.T) {
	for _, b := range []int64{1 << 30, 256 << 20, 12345} {
		got, err := ParseSize(FormatSizeFlag(b))
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}
}

func TestPlanStackFitsTheBudget(t *testing.T) {
	// 64 frames of 2048² float32 within 256 MiB: the streaming case.
	p, err := PlanStack(64, 2048, 2048, 1, 4, 2, 256<<20)
	require.NoError(t, err)
	assert.LessOrEqual(t, p.PeakBytes, int64(256<<20))
	assert.Greater(t, p.BandRows, 100, "a 256 MiB budget leaves room for hundreds of rows")
	assert.Equal(t, (2048+p.BandRows-1)/p.BandRows, p.Bands)
	assert.Greater(t, p.StatsStride, 0)

	// A generous budget takes the whole frame in one band.
	p, err = PlanStack(4, 100, 50, 3, 2, 2, 1<<30)
	require.NoError(t, err)
	assert.Equal(t, 50, p.BandRows)
	assert.Equal(t, 1, p.Bands)
	assert.Equal(t, 1, p.StatsStride)
}

func TestPlanStackSaysHowMuchIsNeeded(t *testing.T) {
	_, err := PlanStack(2000, 8192, 8192, 3, 4, 2, 64<<20)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least")
	_, err = PlanStack(0, 10, 10, 1, 4, 1, 1<<30)
	assert.Error(t, err)
}
