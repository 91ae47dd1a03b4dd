package pipeline

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute"
)

// The mosaic reprojects through the Runner: on the GPU (lavapipe in CI) it agrees with the CPU
// within the reprojection bound of testsuite/tolerance.go (|Δ| ≤ 1.5·G·1e-4 + 1e-5·M: with
// gradients G ≤ 3 per px and values M ≤ 140 here, 2e-3), with at most 1e-3 of the pixels
// differing in whether they have data (coordinates within 1e-4 px of a footprint edge).
func TestMosaicOnTheGPUAgreesWithTheCPU(t *testing.T) {
	requireGPU(t)
	srcs := twoInputs(t)
	opt := DefaultMosaicOptions()
	opt.bandRows = 40
	want, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
	require.NoError(t, err)

	co := compute.DefaultOptions()
	co.Backend = compute.BackendGPU
	ev := &collect{}
	r := compute.NewRunner(t.Context(), co, ev.hooks().Events)
	defer r.Close()
	got, err := MosaicWith(t.Context(), r, srcs, opt, ev.hooks())
	require.NoError(t, err)
	require.NotEmpty(t, ev.find("reproject_using_gpu"))
	assert.Equal(t, "gpu", got.Phases[len(got.Phases)-1].Backend, "the assemble phase names the GPU")

	worst, mismatch, covered := 0.0, 0, 0
	for i, a := range want.Image.Pix {
		b := got.Image.Pix[i]
		if a != a || b != b {
			if (a != a) != (b != b) {
				mismatch++
			}
			continue
		}
		covered++
		worst = max(worst, math.Abs(float64(a-b)))
	}
	t.Logf("GPU vs CPU: max |Δ| = %.3g over %d px, %d data/no-data mismatches", worst, covered, mismatch)
	assert.Less(t, worst, 2e-3)
	assert.LessOrEqual(t, float64(mismatch), 1e-3*float64(covered))
}
