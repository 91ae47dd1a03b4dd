package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// quietVulkan keeps the Vulkan loader from complaining on stderr.
func quietVulkan(t *testing.T) {
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	}
}

// haveGPU reports whether an adapter opens; with ZMOSAIC_REQUIRE_GPU set its absence fails.
func haveGPU(t *testing.T) bool {
	t.Helper()
	o := gpu.DefaultOptions()
	o.AllowSoftware = true
	d, err := gpu.Open(t.Context(), o)
	if err != nil {
		if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
			t.Fatalf("no adapter and ZMOSAIC_REQUIRE_GPU is set: %v", err)
		}
		return false
	}
	require.NoError(t, d.Close())
	return true
}

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in   string
		want gpu.Faults
	}{
		{"", gpu.Faults{}},
		{"oom@3", gpu.Faults{OOMAt: 3}},
		{"lost@1", gpu.Faults{LostAt: 1}},
		{"compile", gpu.Faults{Compile: true}},
		{" OOM@2 , lost@5,compile ", gpu.Faults{OOMAt: 2, LostAt: 5, Compile: true}},
	}
	for _, tc := range tests {
		t.Run("valid "+tc.in, func(t *testing.T) {
			got, err := parseFaults(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{"oom", "oom@", "oom@0", "lost@-1", "lost@x", "compile@2", "melt@1", "oom@1,oom@2"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			_, err := parseFaults(bad)
			require.Error(t, err)
		})
	}
}

func TestBadFaultStringIsAUsageError(t *testing.T) {
	t.Setenv(faultEnv, "oom@zero")
	for _, args := range [][]string{{"stack", "in", "-o", "o.fits"}, {"gpu"}} {
		code, _, stderr := zm(t, args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, stderr, "ZMOSAIC_GPU_FAULT=oom@zero")
	}
	t.Setenv(faultEnv, "")
	code, _, stderr := zm(t, "stack", "in", "-o", "o.fits", "--backend", "tpu")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "tpu")
	code, _, stderr = zm(t, "stack", "in", "-o", "o.fits", "--gpu-budget", "12KiB")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "gpu_budget")
}

func TestGPUCommandJSONParses(t *testing.T) {
	quietVulkan(t)
	code, out, stderr := zm(t, "gpu", "--json", "--frames", "48", "--width", "2048", "--height", "2048", "--gpu-budget", "64MiB")
	require.Equal(t, exitOK, code, stderr)
	var rep gpuReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	if !haveGPU(t) {
		assert.Empty(t, rep.Adapters)
		assert.NotEmpty(t, rep.Error)
		t.Skipf("no adapter: %s", rep.Error)
	}
	require.Len(t, rep.Adapters, 1)
	ad := rep.Adapters[0]
	assert.NotEmpty(t, ad.Name)
	assert.NotEmpty(t, ad.Backend)
	assert.Positive(t, ad.Limits.MaxStorageBufferBindingSize)
	assert.Positive(t, ad.Limits.MaxComputeWorkgroupsPerDimension)
	assert.Equal(t, int64(64<<20), ad.BudgetBytes)
	assert.False(t, ad.BudgetAuto)
	assert.Equal(t, int64(48*2048*4+2048*16), ad.Plan.BytesPerRow)
	assert.Equal(t, 157, ad.Plan.RowsPerChunk, "64 MiB / 425984 bytes per row")
	assert.Equal(t, 14, ad.Plan.Chunks)
	assert.Equal(t, ad.Software, ad.AutoBackend == "cpu")

	code, text, _ := zm(t, "gpu", "--lang", "fr")
	require.Equal(t, exitOK, code)
	assert.Contains(t, text, ad.Name)
	assert.Contains(t, text, "lignes par bloc")
}

func TestForcedGPUFallbackIsCountedInTheExitSummary(t *testing.T) {
	quietVulkan(t)
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "5", "--width", "64", "--height", "48", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	t.Setenv(faultEnv, "lost@1")
	report := filepath.Join(dir, "r.json")
	out := filepath.Join(dir, "s.fits")
	code, _, stderr = zm(t, "stack", filepath.Join(dir, "lights"), "-o", out, "--backend", "gpu", "--report", report, "--quiet")
	require.Equal(t, exitOK, code, stderr)
	// Once for the stack, once for the preview that could not use the lost (or missing) device.
	assert.Contains(t, stderr, "warning: --backend gpu was requested but the CPU took over 2 time(s)")
	assert.Contains(t, stderr, "but stretch ran on the CPU")
	if haveGPU(t) {
		assert.Contains(t, stderr, "GPU device lost")
	}
	var rep pipeline.Report
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	require.NotNil(t, rep.Compute)
	assert.Equal(t, 2, rep.Compute.ForcedFallbacks)
	require.Len(t, rep.Compute.Ops, 2)
	for i, op := range []string{"stack", "stretch"} {
		assert.Equal(t, op, rep.Compute.Ops[i].Op)
		assert.Equal(t, "cpu", rep.Compute.Ops[i].Backend)
		require.Len(t, rep.Compute.Ops[i].Fallbacks, 1)
		assert.True(t, rep.Compute.Ops[i].Fallbacks[0].Forced)
	}

	// French, and a clean run has no such line.
	code, _, stderr = zm(t, "stack", filepath.Join(dir, "lights"), "-o", out, "--backend", "gpu", "--quiet", "--lang", "fr")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "le CPU a pris le relais 2 fois")
	t.Setenv(faultEnv, "")
	if haveGPU(t) {
		code, _, stderr = zm(t, "stack", filepath.Join(dir, "lights"), "-o", out, "--backend", "gpu", "--quiet")
		require.Equal(t, exitOK, code)
		assert.NotContains(t, stderr, "took over")
	}
}

func TestStackHelpListsTheComputeFlags(t *testing.T) {
	_, help, _ := zm(t, "stack", "--help")
	assert.Contains(t, help, "--backend")
	assert.Contains(t, help, `(default "auto")`)
	assert.Contains(t, help, "--gpu-budget")
	_, main, _ := zm(t, "help")
	assert.Contains(t, main, "ZMOSAIC_GPU_FAULT")
	assert.Contains(t, main, "gpu ")
}

// A French user reads why the CPU runs in French; the report keeps the English reason and the
// key it was said with.
func TestBackendCPUIsExplainedInTheUsersLanguage(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "4", "--width", "48", "--height", "32", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	out, report := filepath.Join(dir, "s.fits"), filepath.Join(dir, "r.json")
	code, _, stderr = zm(t, "stack", filepath.Join(dir, "lights"), "-o", out, "--backend", "cpu", "--workers", "1",
		"--report", report, "--lang", "fr")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "GPU non utilisé (--backend cpu demande le CPU seul) ; calcul sur le CPU")
	assert.Contains(t, stderr, "empilement sur le CPU (threads : 1) : --backend cpu demande le CPU seul")
	assert.Contains(t, stderr, "aperçu sur le CPU : --backend cpu demande le CPU seul")
	assert.NotContains(t, stderr, "asks for", "no English reason in a French run")
	assert.NotContains(t, stderr, "1 threads")

	var rep pipeline.Report
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	found := false
	for _, e := range rep.Events {
		if e.Key == "stack_using_cpu" {
			found = true
			assert.Equal(t, "--backend cpu", e.Params["reason"])
			assert.Equal(t, "reason_backend_cpu", e.Params["reason_key"])
		}
	}
	assert.True(t, found, "stack_using_cpu is in the report")
	require.NotNil(t, rep.Compute)
	assert.Equal(t, "--backend cpu", rep.Compute.GPUOff)
}

func TestGPUCommandSaysWhyThereIsNoGPUInTheUsersLanguage(t *testing.T) {
	cat, err := locales.Load()
	require.NoError(t, err)
	noGPU := func(context.Context, gpu.Options) (compute.Device, error) {
		return nil, fmt.Errorf("%w: wgpu: no suitable GPU adapter found", gpu.ErrNoAdapter)
	}
	r := compute.NewRunnerWith(t.Context(), compute.Options{Backend: compute.BackendGPU}, nil, noGPU)
	rep := gpuReport{Error: r.Summary().GPUOff, why: r.OffParams()}
	var out bytes.Buffer
	a := &app{stdout: &out, loc: cat.Localizer("fr")}
	a.printGPU(rep)
	assert.Equal(t, "pas de GPU pour zmosaic : aucun adaptateur GPU n'a pu être ouvert (wgpu: no suitable GPU adapter found)\n"+
		"zmosaic exécute tous les calculs sur le CPU.\n", out.String())
	assert.Contains(t, rep.Error, "no usable adapter", "the JSON report keeps the English text")
}
