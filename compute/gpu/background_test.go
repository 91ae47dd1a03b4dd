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

// randomBackground is a model of degree d with coefficients of mixed magnitudes, so that
// every rounding of the evaluation matters.
func randomBackground(rng *rand.Rand, d, w, h, channels int) cpu.BackgroundModel {
	m := cpu.BackgroundModel{Degree: d, Width: w, Height: h}
	for range channels {
		cs := make([]float64, len(cpu.BackgroundTerms(d)))
		for k := range cs {
			cs[k] = (rng.Float64() - 0.5) * math.Pow(10, 3*rng.Float64())
		}
		m.Coeffs = append(m.Coeffs, cs)
	}
	return m
}

// exactBits fails on any difference of bits, NaN payloads included.
func exactBits(t *testing.T, want, got []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	diff := 0
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			if diff < 5 {
				t.Errorf("sample %d: cpu %v (%#x) gpu %v (%#x)", i, want[i], math.Float32bits(want[i]), got[i], math.Float32bits(got[i]))
			}
			diff++
		}
	}
	require.Zero(t, diff, "samples differing from the CPU")
}

func TestSubtractBackgroundEqualsCPU(t *testing.T) {
	d := sharedDevice(t)
	tests := []struct {
		name           string
		w, h, channels int
		degree         int
		chunk          uint64 // testChunkBytes: forces bands
		fitted         bool   // a model fitted by cpu.FitBackground rather than drawn
	}{
		{"plane, mono", 97, 31, 1, 1, 0, false},
		{"quadratic, colour", 64, 40, 3, 2, 0, false},
		{"cubic, colour, banded", 53, 37, 3, 3, 2048, false},
		{"quadratic, 3-row bands", 41, 20, 1, 2, 512, false},
		{"fitted plane, colour", 160, 120, 3, 1, 0, true},
		{"fitted quadratic, mono, banded", 160, 120, 1, 2, 8192, true},
		{"one pixel", 1, 1, 1, 2, 0, false},
		{"one row", 33, 1, 3, 1, 0, false},
	}
	rng := rand.New(rand.NewPCG(25, 26))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testChunkBytes.Store(tt.chunk)
			defer testChunkBytes.Store(0)
			var src []float32
			for range tt.channels {
				src = append(src, rawFrame(rng, tt.w, tt.h)...)
			}
			src[0] = math.Float32frombits(0x7fc01234) // a NaN with a payload
			m := randomBackground(rng, tt.degree, tt.w, tt.h, tt.channels)
			if tt.fitted {
				opt := cpu.DefaultBackgroundOptions()
				opt.Degree = tt.degree
				var err error
				m, err = cpu.FitBackground(src, tt.w, tt.h, tt.channels, opt)
				require.NoError(t, err)
			}
			want := make([]float32, len(src))
			require.NoError(t, cpu.SubtractBackground(want, src, tt.w, tt.h, tt.channels, m))
			got := make([]float32, len(src))
			require.NoError(t, d.SubtractBackground(context.Background(), got, src, tt.w, tt.h, tt.channels, m))
			exactBits(t, want, got)
			// In place gives the same bits.
			in := append([]float32(nil), src...)
			require.NoError(t, d.SubtractBackground(context.Background(), in, in, tt.w, tt.h, tt.channels, m))
			exactBits(t, want, in)
		})
	}
}

func TestSubtractBackgroundRejectsBadArguments(t *testing.T) {
	d := sharedDevice(t)
	ctx := context.Background()
	src := make([]float32, 12)
	m := cpu.BackgroundModel{Degree: 1, Width: 4, Height: 3, Coeffs: [][]float64{{1, 2, 3}}}
	assert.NoError(t, d.SubtractBackground(ctx, make([]float32, 12), src, 4, 3, 1, m))
	assert.ErrorIs(t, d.SubtractBackground(ctx, make([]float32, 11), src, 4, 3, 1, m), cpu.ErrShape)
	assert.ErrorIs(t, d.SubtractBackground(ctx, make([]float32, 12), src, 3, 4, 1, m), cpu.ErrShape)
	bad := m
	bad.Degree = 0
	assert.ErrorIs(t, d.SubtractBackground(ctx, make([]float32, 12), src, 4, 3, 1, bad), cpu.ErrInvalidOptions)
}
