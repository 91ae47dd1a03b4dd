package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// gridOverlaps returns the 12 neighbour pairs of a 3×3 grid of tiles with
// estimates consistent with the true corrections (g, o): if g_i·I + o_i =
// g_j·J + o_j then J = (g_i/g_j)·I + (o_i − o_j)/g_j. noise perturbs them.
func gridOverlaps(g, o []float64, rng *rand.Rand, noise float64) []cpu.Overlap {
	var ov []cpu.Overlap
	for r := range 3 {
		for c := range 3 {
			i := r*3 + c
			for _, j := range []int{i + 1, i + 3} {
				if (j == i+1 && c == 2) || j > 8 {
					continue
				}
				p := cpu.Overlap{I: i, J: j, Gain: g[i] / g[j], Offset: (o[i] - o[j]) / g[j], Weight: 100 + float64(i*j)}
				if rng != nil {
					p.Gain *= 1 + noise*rng.NormFloat64()*0.01
					p.Offset += noise * rng.NormFloat64()
				}
				ov = append(ov, p)
			}
		}
	}
	return ov
}

func TestSolvePhotometryRecoversGrid(t *testing.T) {
	const anchor = 4
	g := []float64{1.05, 0.97, 1.1, 0.92, 1, 1.03, 0.95, 1.08, 0.99}
	o := []float64{-30, 12, 55, 8, 0, -17, 40, 3, -60}
	ones := make([]float64, 9)
	for k := range ones {
		ones[k] = 1
	}
	tests := []struct {
		name       string
		mode       string
		gain       []float64
		rng        *rand.Rand
		noise      float64
		tolG, tolO float64
	}{
		{"exact offsets", cpu.PhotometryOffset, ones, nil, 0, 0, 1e-4},
		{"exact gains and offsets", cpu.PhotometryGainOffset, g, nil, 0, 1e-6, 1e-4},
		{"noisy offsets", cpu.PhotometryOffset, ones, rand.New(rand.NewPCG(1, 2)), 1, 0, 2},
		{"noisy gains and offsets", cpu.PhotometryGainOffset, g, rand.New(rand.NewPCG(1, 2)), 1, 0.02, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ov := gridOverlaps(tc.gain, o, tc.rng, tc.noise)
			got, err := cpu.SolvePhotometry(9, ov, anchor, tc.mode)
			require.NoError(t, err)
			assert.Equal(t, cpu.Identity, got[anchor])
			for k := range got {
				assert.InDelta(t, tc.gain[k], got[k].Gain, tc.tolG+1e-7, "gain %d", k)
				assert.InDelta(t, o[k], got[k].Offset, tc.tolO, "offset %d", k)
			}
		})
	}
}

func TestSolvePhotometryOrderIndependent(t *testing.T) {
	g := []float64{1.05, 0.97, 1.1, 0.92, 1, 1.03, 0.95, 1.08, 0.99}
	o := []float64{-30, 12, 55, 8, 0, -17, 40, 3, -60}
	ov := gridOverlaps(g, o, rand.New(rand.NewPCG(1, 2)), 1)
	want, err := cpu.SolvePhotometry(9, ov, 0, cpu.PhotometryGainOffset)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		rng.Shuffle(len(ov), func(a, b int) { ov[a], ov[b] = ov[b], ov[a] })
		got, err := cpu.SolvePhotometry(9, ov, 0, cpu.PhotometryGainOffset)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestSolvePhotometryDisconnected(t *testing.T) {
	ov := []cpu.Overlap{
		{I: 0, J: 1, Offset: -5, Gain: 1, Weight: 1},
		{I: 2, J: 3, Offset: 7, Gain: 1, Weight: 1},
	}
	got, err := cpu.SolvePhotometry(5, ov, 0, cpu.PhotometryOffset)
	require.ErrorIs(t, err, cpu.ErrDisconnected)
	assert.Contains(t, err.Error(), "[2 3 4]")
	require.Len(t, got, 5)
	// J = I − 5, so J needs +5 to agree with the anchor.
	assert.Equal(t, cpu.Affine{Gain: 1, Offset: 5}, got[1])
	for _, k := range []int{0, 2, 3, 4} {
		assert.Equal(t, cpu.Identity, got[k])
	}
}

func TestSolvePhotometryRejectsInvalid(t *testing.T) {
	ok := cpu.Overlap{I: 0, J: 1, Gain: 1, Weight: 1}
	tests := []struct {
		name   string
		n      int
		ov     []cpu.Overlap
		anchor int
		mode   string
	}{
		{"no images", 0, nil, 0, cpu.PhotometryOffset},
		{"anchor out of range", 2, []cpu.Overlap{ok}, 2, cpu.PhotometryOffset},
		{"unknown mode", 2, []cpu.Overlap{ok}, 0, "legacy"},
		{"image out of range", 2, []cpu.Overlap{{I: 0, J: 2, Gain: 1, Weight: 1}}, 0, cpu.PhotometryOffset},
		{"self overlap", 2, []cpu.Overlap{{I: 1, J: 1, Gain: 1, Weight: 1}}, 0, cpu.PhotometryOffset},
		{"zero weight", 2, []cpu.Overlap{{I: 0, J: 1, Gain: 1}}, 0, cpu.PhotometryOffset},
		{"NaN offset", 2, []cpu.Overlap{{I: 0, J: 1, Gain: 1, Weight: 1, Offset: math.NaN()}}, 0, cpu.PhotometryOffset},
		{"non-positive gain", 2, []cpu.Overlap{{I: 0, J: 1, Weight: 1}}, 0, cpu.PhotometryGainOffset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cpu.SolvePhotometry(tc.n, tc.ov, tc.anchor, tc.mode)
			assert.ErrorIs(t, err, cpu.ErrInvalidOptions)
			assert.Nil(t, got)
		})
	}
}
