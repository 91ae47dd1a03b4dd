package gpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSizeClassRoundsUpByQuarterPowers(t *testing.T) {
	tests := []struct {
		name            string
		size, max, want uint64
	}{
		{"tiny is 256", 4, 0, 256},
		{"exact power", 1024, 0, 1024},
		{"just above a power", 1025, 0, 1280},
		{"quarter steps", 1500, 0, 1536},
		{"above the cap falls back to the size", 3000, 3001, 3000},
		{"rounded to 4 under the cap", 3001, 3004, 3004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sizeClass(tt.size, tt.max)
			assert.Equal(t, tt.want, got)
			assert.GreaterOrEqual(t, got, tt.size)
			assert.LessOrEqual(t, float64(got), max(256, 1.25*float64(tt.size)+4), "waste at most 25 %")
		})
	}
}
