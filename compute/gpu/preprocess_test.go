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

// rawFrame draws a W×H sensor-like frame: sky around 1000 ADU with a
// gradient, 1 % bright spikes (stars, hot pixels) up to +30000, 2 % NaN and a
// few ±Inf, and a 3×3 NaN hole (so that whole neighbour sets are missing).
func rawFrame(rng *rand.Rand, w, h int) []float32 {
	pix := make([]float32, w*h)
	for j := range pix {
		v := 1000 + 25*rng.NormFloat64() + 0.3*float64(j%w)
		switch r := rng.Float64(); {
		case r < 0.01:
			v += 30000 * rng.Float64()
		case r < 0.03:
			v = math.NaN()
		case r < 0.031:
			v = math.Inf(1)
		case r < 0.032:
			v = math.Inf(-1)
		}
		pix[j] = float32(v)
	}
	if w > 5 && h > 5 {
		for y := 2; y < 5; y++ {
			for x := 2; x < 5; x++ {
				pix[y*w+x] = float32(math.NaN())
			}
		}
	}
	return pix
}

// sameBits counts the samples whose bits differ, NaNs of any payload equal.
func sameBits(t *testing.T, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	diff := 0
	for i := range want {
		a, b := want[i], got[i]
		if math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
			continue
		}
		if math.Float32bits(a) != math.Float32bits(b) {
			if diff < 5 {
				t.Errorf("sample %d: cpu %v (%#x) gpu %v (%#x)", i, a, math.Float32bits(a), b, math.Float32bits(b))
			}
			diff++
		}
	}
	require.Zero(t, diff, "samples differing from the CPU")
}

func TestDebayerEqualsCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name  string
		w, h  int
		p     cpu.BayerPattern
		chunk uint64 // testChunkBytes: forces bands
	}{
		{"GRBG, odd size", 97, 31, cpu.BayerGRBG, 0},
		{"RGGB", 64, 40, cpu.BayerRGGB, 0},
		{"BGGR, banded", 53, 37, cpu.BayerBGGR, 2048},
		{"GBRG, two-row bands", 41, 9, cpu.BayerGBRG, 1024},
		{"2×2", 2, 2, cpu.BayerGRBG, 0},
		{"one pixel", 1, 1, cpu.BayerRGGB, 0},
		{"one row", 33, 1, cpu.BayerGRBG, 0},
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testChunkBytes.Store(tt.chunk)
			defer testChunkBytes.Store(0)
			src := rawFrame(rng, tt.w, tt.h)
			want := make([]float32, 3*len(src))
			require.NoError(t, cpu.Debayer(want, src, tt.w, tt.h, tt.p))
			got := make([]float32, 3*len(src))
			require.NoError(t, d.Debayer(context.Background(), got, src, tt.w, tt.h, tt.p))
			sameBits(t, want, got)
		})
	}
}

func TestHotPixelsEqualsCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name  string
		w, h  int
		opt   cpu.HotPixelOptions
		chunk uint64
	}{
		{"default", 97, 31, cpu.DefaultHotPixelOptions(), 0},
		{"zemosaic rule", 80, 50, cpu.HotPixelOptions{Threshold: 3}, 0},
		{"cfa, 8-row bands", 61, 47, cpu.HotPixelOptions{Threshold: 3, CFA: true, Isolation: 3}, 4096},
		{"low threshold, 4-row bands", 40, 12, cpu.HotPixelOptions{Threshold: 0.5}, 1280},
		{"one pixel", 1, 1, cpu.DefaultHotPixelOptions(), 0},
		{"two columns", 2, 17, cpu.HotPixelOptions{Threshold: 1}, 0},
	}
	rng := rand.New(rand.NewPCG(23, 24))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testChunkBytes.Store(tt.chunk)
			defer testChunkBytes.Store(0)
			src := rawFrame(rng, tt.w, tt.h)
			want := make([]float32, len(src))
			nw, err := cpu.HotPixels(want, src, tt.w, tt.h, tt.opt)
			require.NoError(t, err)
			got := make([]float32, len(src))
			ng, err := d.HotPixels(context.Background(), got, src, tt.w, tt.h, tt.opt)
			require.NoError(t, err)
			t.Logf("%d hot pixels", nw)
			assert.Equal(t, nw, ng, "detections")
			sameBits(t, want, got)
		})
	}
}

func TestPreprocessRejectsBadArguments(t *testing.T) {
	d := sharedDevice(t)
	ctx := context.Background()
	src := make([]float32, 12)
	assert.ErrorIs(t, d.Debayer(ctx, make([]float32, 36), src, 4, 3, 0), cpu.ErrInvalidOptions)
	assert.ErrorIs(t, d.Debayer(ctx, make([]float32, 35), src, 4, 3, cpu.BayerRGGB), cpu.ErrShape)
	_, err := d.HotPixels(ctx, make([]float32, 12), src, 4, 3, cpu.HotPixelOptions{})
	assert.ErrorIs(t, err, cpu.ErrInvalidOptions)
	_, err = d.HotPixels(ctx, src, src, 4, 3, cpu.DefaultHotPixelOptions())
	assert.ErrorIs(t, err, cpu.ErrShape)
	_, err = d.HotPixels(ctx, make([]float32, 11), src, 4, 3, cpu.DefaultHotPixelOptions())
	assert.ErrorIs(t, err, cpu.ErrShape)
}
