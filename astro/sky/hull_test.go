package sky

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rotated returns pts rotated by angle degrees about the origin and shifted by off.
func rotated(pts [][2]float64, angle float64, off [2]float64) [][2]float64 {
	s, c := math.Sincos(angle * math.Pi / 180)
	out := make([][2]float64, len(pts))
	for i, p := range pts {
		out[i] = [2]float64{c*p[0] - s*p[1] + off[0], s*p[0] + c*p[1] + off[1]}
	}
	return out
}

func TestConvexHull(t *testing.T) {
	square := [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	tests := []struct {
		name   string
		points [][2]float64
		want   [][2]float64
	}{
		{"square with interior and edge points", [][2]float64{{0.5, 0.5}, {1, 1}, {0, 0}, {0.5, 0}, {0, 1}, {1, 0}, {0.2, 0.7}},
			square},
		{"duplicates collapse", [][2]float64{{1, 1}, {1, 1}, {0, 0}, {1, 0}, {0, 1}, {0, 0}}, square},
		{"two points", [][2]float64{{3, 4}, {1, 2}, {3, 4}}, [][2]float64{{1, 2}, {3, 4}}},
		{"empty", nil, [][2]float64{}},
		{"triangle is counter-clockwise", [][2]float64{{0, 0}, {0, 2}, {2, 0}}, [][2]float64{{0, 0}, {2, 0}, {0, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ConvexHull(tc.points)
			if len(tc.want) == 0 {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConvexHullContainsEveryPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([][2]float64, 500)
	for i := range pts {
		pts[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	h := ConvexHull(pts)
	require.GreaterOrEqual(t, len(h), 3)
	for i := range h {
		a, b := h[i], h[(i+1)%len(h)]
		for _, p := range pts {
			cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
			require.GreaterOrEqual(t, cross, -1e-12, "point %v right of hull edge %v→%v", p, a, b)
		}
	}
}

func TestMinAreaRect(t *testing.T) {
	square := [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}}
	rect := [][2]float64{{0, 0}, {4, 0}, {4, 1}, {0, 1}}
	tests := []struct {
		name   string
		points [][2]float64
		angle  float64
		area   float64
	}{
		{"square rotated 30°", rotated(square, 30, [2]float64{5, -3}), 30, 4},
		{"square rotated -20°", rotated(square, -20, [2]float64{0, 0}), -20, 4},
		{"rectangle rotated 100° reduces to 10°", rotated(rect, 100, [2]float64{1, 1}), 10, 4},
		{"axis-aligned rectangle", rect, 0, 4},
		{"rectangle at exactly 45°", rotated(rect, 45, [2]float64{0, 0}), 45, 4},
		{"octagon-ish cloud keeps hull edge", rotated([][2]float64{{0, 0}, {3, 0}, {3, 1}, {0, 1}, {1.5, 0.5}, {2, 0.2}}, 12.5, [2]float64{-7, 2}), 12.5, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MinAreaRect(ConvexHull(tc.points))
			assert.InDelta(t, tc.angle, r.Angle, 1e-9)
			assert.InDelta(t, tc.area, r.Area, 1e-12)
			assert.InDelta(t, r.Area, (r.Max[0]-r.Min[0])*(r.Max[1]-r.Min[1]), 1e-15)
		})
	}
}

func TestMinAreaRectBeatsEveryOtherAngle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([][2]float64, 200)
	for i := range pts {
		pts[i] = [2]float64{3 * rng.NormFloat64(), rng.NormFloat64()}
	}
	h := ConvexHull(pts)
	best := MinAreaRect(h)
	for a := -45.0; a <= 45; a += 0.25 {
		assert.GreaterOrEqual(t, boundsAt(h, a).Area, best.Area-1e-12, "angle %g", a)
	}
}

func TestMinAreaRectOfDegenerateHull(t *testing.T) {
	r := MinAreaRect([][2]float64{{0, 0}, {2, 1}})
	assert.Equal(t, 0.0, r.Angle)
	assert.Equal(t, [2]float64{2, 1}, r.Max)
	assert.Equal(t, 0.0, MinAreaRect(nil).Area)
}
