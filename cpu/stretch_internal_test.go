package cpu

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stretchTestPlane is n samples of a noisy sky with NaN and ±Inf holes, a few outliers and
// repeated values (ranks inside runs of equal samples).
func stretchTestPlane(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(1000 + 30*rng.NormFloat64())
		switch rng.IntN(40) {
		case 0:
			x[i] = float32(math.NaN())
		case 1:
			x[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		case 2:
			x[i] = float32(rng.IntN(5)) // a run of equal small values
		case 3:
			x[i] = float32(-1e6 * rng.Float64())
		}
	}
	return x
}

func TestStretchRowsGiveTheSameBytesForAnyWorkers(t *testing.T) {
	for _, tc := range []struct{ w, h, nc int }{{1, 1, 1}, {37, 53, 3}, {200, 150, 1}, {5, 300, 3}} {
		pix := stretchTestPlane(tc.w*tc.h*tc.nc, uint64(tc.w))
		opt := DefaultStretchOptions()
		vmin, vmax := StretchLimits(pix, tc.w, tc.h, tc.nc, opt)
		var ref *image.NRGBA
		for _, workers := range []int{1, 3, 8} {
			img := image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))
			stretchRows(img, pix, tc.w, tc.h, tc.nc, vmin, vmax, opt.Asinh, workers)
			if ref == nil {
				ref = img
				continue
			}
			require.Equal(t, ref.Pix, img.Pix, "%+v, %d workers", tc, workers)
		}
		// And the row-wise layout is the channel-by-channel definition.
		row := make([]uint8, tc.w)
		plane := tc.w * tc.h
		for c := range tc.nc {
			for y := range tc.h {
				StretchChannel(row, pix[c*plane+y*tc.w:][:tc.w], vmin[c], vmax[c], opt.Asinh)
				for x, v := range row {
					o := ref.PixOffset(x, y)
					if tc.nc == 1 {
						require.Equal(t, []uint8{v, v, v}, ref.Pix[o:o+3])
					} else {
						require.Equal(t, v, ref.Pix[o+c])
					}
					alpha := uint8(255)
					for k := range tc.nc {
						if !finite32(pix[k*plane+y*tc.w+x]) {
							alpha = 0
						}
					}
					require.Equal(t, alpha, ref.Pix[o+3])
				}
			}
		}
	}
}

func TestRadixPercentilesEqualPercentiles(t *testing.T) {
	ps := []float64{0, 0.5, 1, 25, 50, 99.9, 100, -1, math.NaN(), 101}
	same := func(a, b float64) bool { return a == b || (a != a && b != b) }
	for _, tc := range []struct {
		name string
		x    []float32
	}{
		{"noisy sky", stretchTestPlane(300000, 1)},
		{"small", stretchTestPlane(17, 2)},
		{"one sample", []float32{3}},
		{"no finite sample", []float32{float32(math.NaN()), float32(math.Inf(1))}},
		{"empty", nil},
		{"all equal", []float32{7, 7, 7, 7, 7, 7}},
		{"signed zeros and tiny values", []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-38, -3, 5}},
		{"extremes", []float32{math.MaxFloat32, -math.MaxFloat32, 0, 1}},
	} {
		want := Percentiles(tc.x, ps...)
		for _, workers := range []int{1, 2, 5} {
			got := radixPercentiles(tc.x, ps, workers)
			for i := range ps {
				assert.True(t, same(want[i], got[i]), "%s, p=%v, %d workers: %v, want %v", tc.name, ps[i], workers, got[i], want[i])
			}
		}
	}
}

func TestStretchLimitsOfALargePlaneArePercentiles(t *testing.T) {
	const w, h = 700, 600 // above radixMinSamples: counted, not selected
	require.Greater(t, w*h, radixMinSamples)
	pix := stretchTestPlane(3*w*h, 4)
	opt := DefaultStretchOptions()
	vmin, vmax := StretchLimits(pix, w, h, 3, opt)
	for c := range 3 {
		p := Percentiles(pix[c*w*h:(c+1)*w*h], opt.PLow, opt.PHigh)
		assert.Equal(t, p[0], vmin[c], "channel %d", c)
		assert.Equal(t, p[1], vmax[c], "channel %d", c)
	}
}
