package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

func TestCoaddAccumulateFinish(t *testing.T) {
	nan := float32(math.NaN())
	t.Run("NaN is ignored and uncovered pixels are NaN with coverage 0", func(t *testing.T) {
		acc := cpu.NewCoaddBand(4)
		require.NoError(t, cpu.Accumulate(acc, []float32{1, nan, 3, nan}, nil, 1, cpu.Identity))
		require.NoError(t, cpu.Accumulate(acc, []float32{5, 7, nan, nan}, nil, 1, cpu.Identity))
		dst, cov, alpha := make([]float32, 4), make([]float32, 4), make([]uint8, 4)
		require.NoError(t, cpu.Finish(dst, cov, alpha, acc))
		assert.Equal(t, []float32{3, 7, 3}, dst[:3])
		assert.True(t, math.IsNaN(float64(dst[3])))
		assert.Equal(t, []float32{2, 1, 1, 0}, cov)
		assert.Equal(t, []uint8{255, 255, 255, 0}, alpha)
	})
	t.Run("two inputs are weighted by pixel and tile weights after correction", func(t *testing.T) {
		acc := cpu.NewCoaddBand(3)
		// Input A: corrected 2·v+1; input B: tile weight 3 times pixel weight.
		require.NoError(t, cpu.Accumulate(acc, []float32{1, 1, 1}, []float32{1, 0, 1}, 1, cpu.Affine{Gain: 2, Offset: 1}))
		require.NoError(t, cpu.Accumulate(acc, []float32{7, 7, 7}, []float32{1, 1, nan}, 3, cpu.Identity))
		dst, cov := make([]float32, 3), make([]float32, 3)
		require.NoError(t, cpu.Finish(dst, cov, nil, acc))
		assert.Equal(t, []float32{(3 + 21) / 4.0, 7, 3}, dst)
		assert.Equal(t, []float32{4, 3, 1}, cov)
	})
	t.Run("zero or negative weight means no data, not a zero sample", func(t *testing.T) {
		acc := cpu.NewCoaddBand(2)
		require.NoError(t, cpu.Accumulate(acc, []float32{4, 4}, []float32{0, -1}, 1, cpu.Identity))
		require.NoError(t, cpu.Accumulate(acc, []float32{9, 9}, nil, 0, cpu.Identity))
		dst := make([]float32, 2)
		require.NoError(t, cpu.Finish(dst, nil, nil, acc))
		assert.True(t, math.IsNaN(float64(dst[0])) && math.IsNaN(float64(dst[1])))
	})
	t.Run("mismatched lengths are errors", func(t *testing.T) {
		acc := cpu.NewCoaddBand(2)
		assert.ErrorIs(t, cpu.Accumulate(acc, []float32{1}, nil, 1, cpu.Identity), cpu.ErrShape)
		assert.ErrorIs(t, cpu.Accumulate(acc, []float32{1, 2}, []float32{1}, 1, cpu.Identity), cpu.ErrShape)
		assert.ErrorIs(t, cpu.Finish(make([]float32, 2), make([]float32, 1), nil, acc), cpu.ErrShape)
		assert.ErrorIs(t, cpu.Finish(make([]float32, 1), nil, nil, acc), cpu.ErrShape)
	})
}

// TestCoaddBandSplitIndependent checks that accumulating a mosaic in row
// bands (as concurrent workers would) gives the same bits as one band.
func TestCoaddBandSplitIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h, inputs = 37, 23, 5
	vals := make([][]float32, inputs)
	wts := make([][]float32, inputs)
	for k := range inputs {
		vals[k] = make([]float32, w*h)
		wts[k] = make([]float32, w*h)
		for i := range vals[k] {
			vals[k][i] = float32(rng.NormFloat64()*100 + 1000)
			wts[k][i] = float32(rng.Float64())
			if rng.IntN(5) == 0 {
				vals[k][i] = float32(math.NaN())
			}
		}
	}
	coadd := func(bands int) []float32 {
		out := make([]float32, w*h)
		for b := range bands {
			r0, r1 := h*b/bands, h*(b+1)/bands
			lo, hi := r0*w, r1*w
			acc := cpu.NewCoaddBand(hi - lo)
			for k := range inputs {
				require.NoError(t, cpu.Accumulate(acc, vals[k][lo:hi], wts[k][lo:hi], float32(k+1)/3, cpu.Affine{Gain: 1.01, Offset: -3}))
			}
			require.NoError(t, cpu.Finish(out[lo:hi], nil, nil, acc))
		}
		return out
	}
	want := coadd(1)
	for _, bands := range []int{2, 3, 7, h} {
		got := coadd(bands)
		for i := range want {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "bands %d pixel %d", bands, i)
		}
	}
}
