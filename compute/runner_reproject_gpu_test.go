package compute

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// rpGrad and rpMax bound newRPCase's source: the Gaussian's slope 1000·e^-½/8 ≈ 76, the sky's
// 0.59 and the unit noise's ≤ 8 between neighbours; values stay below 1300.
const rpGrad, rpMax = 85.0, 1300.0

// requireWithinReprojectTolerance asserts gpu.Device.Reproject's documented bound between
// got (GPU) and want (CPU) for rows [y0, …) of c, and returns the largest |Δ|.
func requireWithinReprojectTolerance(t *testing.T, c rpCase, y0 int, want, got []float32) float64 {
	t.Helper()
	nearEdge := func(v float64, n int) bool {
		tol := gpu.CoordTolerance
		return math.Abs(v-math.Round(v)) < tol || math.Abs(v+0.5) < tol || math.Abs(v-float64(n)+0.5) < tol
	}
	bound := 1.5*rpGrad*gpu.CoordTolerance + 1e-5*rpMax
	var worst float64
	var finite, nanDiff int
	for k := range want {
		wn, gn := math.IsNaN(float64(want[k])), math.IsNaN(float64(got[k]))
		if wn != gn {
			ix, iy := c.grid.At(float64(k%c.w), float64(y0+k/c.w))
			require.True(t, nearEdge(ix, c.sw) || nearEdge(iy, c.sh), "NaN decision differs at %d → (%.7f, %.7f)", k, ix, iy)
			nanDiff++
			continue
		}
		if wn {
			continue
		}
		finite++
		d := math.Abs(float64(want[k]) - float64(got[k]))
		worst = max(worst, d)
		require.LessOrEqual(t, d, bound, "pixel %d: cpu %v gpu %v", k, want[k], got[k])
	}
	assert.Greater(t, finite, len(want)/4, "the mapping covers the input")
	assert.LessOrEqual(t, nanDiff, len(want)/1000+1)
	return worst
}

func TestReprojectOnARealGPUIsWithinTolerance(t *testing.T) {
	c := newRPCase()
	var rec recorder
	r := realRunner(t, gpu.Faults{}, &rec)
	for _, interp := range []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3} {
		t.Run(string(interp), func(t *testing.T) {
			worst := requireWithinReprojectTolerance(t, c, 0, c.cpu(t, 0, c.h, interp), c.run(t, r, 0, c.h, interp))
			t.Logf("max |Δ| = %.3g", worst)
		})
	}
	rep := r.Report()
	require.Len(t, rep, 1)
	assert.Equal(t, "gpu", rep[0].Backend, "%+v", rep[0].Fallbacks)
	assert.Equal(t, 3, rep[0].ChunksGPU)
	assert.Len(t, rec.find("reproject_using_gpu"), 1)
	assert.Zero(t, r.ForcedFallbacks())
}

// Chunks change no bit on the device either: each pixel is computed alone, and every chunk
// uploads the source rows its band reads.
func TestReprojectOnARealGPUDoesNotDependOnChunks(t *testing.T) {
	c := newRPCase()
	var rec recorder
	r := realRunner(t, gpu.Faults{}, &rec)
	whole := c.run(t, r, 0, c.h, cpu.InterpLanczos3)
	a := reprojectArgs{outWidth: c.w, rows: c.h, src: c.src, srcWidth: c.sw, srcHeight: c.sh, grid: c.grid}
	r.mu.Lock()
	r.budget = reprojectBytes(a, 30, 9) // set directly, below MinGPUBudget
	r.mu.Unlock()
	chunked := c.run(t, r, 0, c.h, cpu.InterpLanczos3)
	assert.Equal(t, bits(whole), bits(chunked))
	rep := r.Report()[0]
	assert.Greater(t, rep.ChunksGPU, 5, "the second call ran in chunks")
	assert.Zero(t, rep.ChunksCPU)
}

func TestReprojectOnARealGPUSurvivesALostDevice(t *testing.T) {
	c := newRPCase()
	var rec recorder
	r := realRunner(t, gpu.Faults{LostAt: 1}, &rec)
	want := c.cpu(t, 0, c.h, cpu.InterpBicubic)
	assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpBicubic)), "the CPU redid the call")
	assert.Contains(t, rec.one(t, "gpu_device_lost").Params["error"], "injected fault")
	assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpBicubic)))
	rep := r.Report()[0]
	assert.Equal(t, "cpu", rep.Backend)
	assert.Equal(t, 2, rep.ChunksCPU)
}
