package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
)

func TestStackOptionsJSONHasFlatComputeKeys(t *testing.T) {
	opt := DefaultStackOptions()
	opt.Compute = compute.Options{Backend: compute.BackendGPU, GPUBudget: 64 << 20, Faults: gpu.Faults{LostAt: 2}}
	data, err := json.Marshal(opt)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Equal(t, "gpu", m["backend"])
	assert.Equal(t, float64(64<<20), m["gpu_budget"])
	assert.Equal(t, "winsor", m["reject"], "the cpu options stay flat too")
	assert.Equal(t, "none", m["align"])
	assert.Equal(t, "lanczos3", m["interp"])
	assert.NotContains(t, m, "Compute")
	assert.NotContains(t, m, "Faults", "faults are never part of a config or report")

	back := DefaultStackOptions()
	require.NoError(t, json.Unmarshal(data, &back))
	opt.Compute.Faults = gpu.Faults{}
	assert.Equal(t, opt, back)

	partial := DefaultStackOptions()
	require.NoError(t, json.Unmarshal([]byte(`{"backend":"cpu"}`), &partial))
	assert.Equal(t, compute.BackendCPU, partial.Compute.Backend)
	assert.Equal(t, DefaultStackOptions().MemBudget, partial.MemBudget, "absent keys keep their values")
}

func TestStackOptionsValidateChecksTheComputeOptions(t *testing.T) {
	opt := DefaultStackOptions()
	opt.Compute.Backend = "tpu"
	assert.ErrorContains(t, opt.Validate(), "tpu")
	opt = DefaultStackOptions()
	opt.Compute.GPUBudget = 10
	assert.ErrorContains(t, opt.Validate(), "gpu_budget")
}
