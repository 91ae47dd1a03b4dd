package gpu

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

// skyImage draws a CHW image: a sky background with a bright gradient and
// stars, 3 % NaN and 1 % ±Inf, and, in the first row, a NaN in one channel
// only (alpha must drop for the whole pixel).
func skyImage(rng *rand.Rand, width, height, channels int) []float32 {
	plane := width * height
	pix := make([]float32, plane*channels)
	for c := range channels {
		for j := range plane {
			v := 1000 + 30*rng.NormFloat64() + float64(j%width)*0.5*float64(c+1)
			if rng.IntN(200) == 0 {
				v += 20000 * rng.Float64()
			}
			switch r := rng.Float64(); {
			case r < 0.03:
				v = math.NaN()
			case r < 0.035:
				v = math.Inf(1)
			case r < 0.04:
				v = math.Inf(-1)
			}
			pix[c*plane+j] = float32(v)
		}
	}
	if channels == 3 && width > 1 {
		pix[plane+1] = float32(math.NaN())
	}
	return pix
}

func TestStretchNRGBAEqualsCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name                    string
		width, height, channels int
		opt                     cpu.StretchOptions
		flat                    int    // channel made constant (flat), -1 none
		chunk                   uint64 // testChunkBytes
	}{
		{"mono, not a multiple of the workgroup", 97, 31, 1, cpu.DefaultStretchOptions(), -1, 0},
		{"rgb", 123, 45, 3, cpu.DefaultStretchOptions(), -1, 0},
		{"rgb, near-linear a and wide limits", 64, 17, 3, cpu.StretchOptions{PLow: 0, PHigh: 100, Asinh: 200}, -1, 0},
		{"rgb, strong asinh", 50, 40, 3, cpu.StretchOptions{PLow: 5, PHigh: 95, Asinh: 0.001}, -1, 0},
		{"rgb, one flat channel", 40, 30, 3, cpu.DefaultStretchOptions(), 1, 0},
		{"rgb, multi-chunk", 77, 23, 3, cpu.DefaultStretchOptions(), -1, 2048},
		{"mono, one pixel", 1, 1, 1, cpu.DefaultStretchOptions(), -1, 0},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testChunkBytes.Store(tt.chunk)
			defer testChunkBytes.Store(0)
			pix := skyImage(rng, tt.width, tt.height, tt.channels)
			if tt.flat >= 0 {
				plane := pix[tt.flat*tt.width*tt.height:][:tt.width*tt.height]
				for j := range plane {
					if !math.IsNaN(float64(plane[j])) {
						plane[j] = 5
					}
				}
			}
			got, err := d.StretchNRGBA(context.Background(), pix, tt.width, tt.height, tt.channels, tt.opt)
			require.NoError(t, err)
			want := cpu.StretchNRGBA(pix, tt.width, tt.height, tt.channels, tt.opt)
			require.NotNil(t, want)
			assert.Equal(t, want.Rect, got.Rect)
			diff := 0
			for i := range want.Pix {
				if want.Pix[i] != got.Pix[i] {
					if diff < 5 {
						t.Errorf("byte %d (pixel %d, component %d): cpu %d gpu %d", i, i/4, i%4, want.Pix[i], got.Pix[i])
					}
					diff++
				}
			}
			require.Zero(t, diff, "bytes differing from cpu.StretchNRGBA")
		})
	}
}

func TestStretchNRGBARejectsBadArguments(t *testing.T) {
	d := sharedDevice(t)
	pix := make([]float32, 12)
	tests := []struct {
		name                    string
		width, height, channels int
		opt                     cpu.StretchOptions
	}{
		{"two channels", 2, 3, 2, cpu.DefaultStretchOptions()},
		{"length mismatch", 3, 3, 1, cpu.DefaultStretchOptions()},
		{"zero width", 0, 3, 1, cpu.DefaultStretchOptions()},
		{"invalid options", 4, 3, 1, cpu.StretchOptions{PLow: 50, PHigh: 99, Asinh: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := d.StretchNRGBA(context.Background(), pix, tt.width, tt.height, tt.channels, tt.opt)
			require.Error(t, err)
			assert.Nil(t, img)
		})
	}
}

func TestStretchThresholdsBracketEachLevel(t *testing.T) {
	thr := make([]uint32, 256)
	vmin, vmax, a := 980.0, 1200.0, 12.0
	stretchThresholds(thr, vmin, vmax, a)
	var out [1]uint8
	level := func(k uint32) uint8 {
		cpu.StretchChannel(out[:], []float32{keyFloat(k)}, vmin, vmax, a)
		return out[0]
	}
	assert.Equal(t, uint32(keyNone), thr[255])
	for v := 1; v <= 255; v++ {
		k := thr[v-1]
		require.NotEqual(t, uint32(keyNone), k, "level %d is reached at vmax", v)
		assert.GreaterOrEqual(t, level(k), uint8(v), "level at threshold %d", v)
		assert.Less(t, level(k-1), uint8(v), "level just below threshold %d", v)
		if v > 1 {
			assert.GreaterOrEqual(t, k, thr[v-2], "thresholds ascend")
		}
	}
}
