package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

// rgbWithHoles writes a 3-channel float image with NaN holes, outliers and a channel of
// negative values, the cases where a GPU stretch could differ.
func rgbWithHoles(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 173, 91
	img := &fits.Image{Width: w, Height: h, Channels: 3, Pix: make([]float32, w*h*3), Header: fits.NewHeader()}
	for i := range img.Pix {
		v := 800 + 120*rng.NormFloat64()
		if i >= 2*w*h {
			v -= 5000
		}
		if rng.IntN(30) == 0 {
			v *= 40
		}
		img.Pix[i] = float32(v)
		if rng.IntN(25) == 0 {
			img.Pix[i] = float32(math.NaN())
		}
	}
	p := filepath.Join(dir, "rgb.fits")
	require.NoError(t, fits.Write(p, img, fits.WriteOptions{}))
	return p
}

// previewInputs are the images the GPU preview must render byte for byte like the CPU.
func previewInputs(t *testing.T) map[string]string {
	in := map[string]string{"rgb with holes": rgbWithHoles(t, t.TempDir())}
	p := filepath.Join("..", "..", "..", "..", "shared", "data", "ngc1316o.fits")
	if _, err := os.Stat(p); err == nil {
		in["ngc1316o"] = p
	} else {
		t.Logf("shared test data not found (%s): only the synthetic image", p)
	}
	return in
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func TestPreviewOnTheGPUIsByteIdenticalToTheCPU(t *testing.T) {
	quietVulkan(t)
	if !haveGPU(t) {
		t.Skip("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe; ZMOSAIC_REQUIRE_GPU=1 fails instead)")
	}
	for name, in := range previewInputs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cpuPNG, gpuPNG := filepath.Join(dir, "cpu.png"), filepath.Join(dir, "gpu.png")
			code, _, stderr := zm(t, "preview", in, "-o", cpuPNG, "--backend", "cpu", "--p-high", "99.5")
			require.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stderr, "preview on the CPU: --backend cpu")

			code, _, stderr = zm(t, "preview", in, "-o", gpuPNG, "--backend", "gpu", "--p-high", "99.5")
			require.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stderr, "preview on the GPU")
			assert.NotContains(t, stderr, "warning")
			require.Equal(t, readFile(t, cpuPNG), readFile(t, gpuPNG), "GPU and CPU previews differ")

			// A device lost at the first submission: same bytes from the CPU, and said so.
			t.Setenv(faultEnv, "lost@1")
			for _, tc := range []struct{ lang, lost, summary string }{
				{"en", "warning: GPU device lost", "the CPU took over 1 time(s)"},
				{"fr", "périphérique GPU perdu", "le CPU a pris le relais 1 fois"},
			} {
				lostPNG := filepath.Join(dir, "lost-"+tc.lang+".png")
				code, _, stderr = zm(t, "preview", in, "-o", lostPNG, "--backend", "gpu", "--p-high", "99.5", "--lang", tc.lang)
				require.Equal(t, exitOK, code, stderr)
				assert.Contains(t, stderr, tc.lost)
				assert.Contains(t, stderr, tc.summary)
				require.Equal(t, readFile(t, cpuPNG), readFile(t, lostPNG), "the CPU fallback differs (%s)", tc.lang)
			}
		})
	}
}

func TestStackPreviewUsesTheStackRunner(t *testing.T) {
	quietVulkan(t)
	if !haveGPU(t) {
		t.Skip("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe; ZMOSAIC_REQUIRE_GPU=1 fails instead)")
	}
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "5", "--width", "96", "--height", "64", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	lights := filepath.Join(dir, "lights")
	run := func(backend string) pipeline.Report {
		out := filepath.Join(dir, backend+".fits")
		report := filepath.Join(dir, backend+".json")
		code, _, stderr := zm(t, "stack", lights, "-o", out, "--backend", backend, "--report", report)
		require.Equal(t, exitOK, code, stderr)
		// The stack's own preview is the CPU preview of the image it wrote.
		ref := filepath.Join(dir, backend+"-ref.png")
		code, _, stderr = zm(t, "preview", out, "-o", ref, "--backend", "cpu")
		require.Equal(t, exitOK, code, stderr)
		require.Equal(t, readFile(t, ref), readFile(t, pipeline.PreviewPath(out)), "%s stack preview", backend)
		var rep pipeline.Report
		require.NoError(t, json.Unmarshal(readFile(t, report), &rep))
		return rep
	}
	cpuRep, gpuRep := run("cpu"), run("gpu")

	for _, tc := range []struct {
		rep     pipeline.Report
		backend string
	}{{cpuRep, "cpu"}, {gpuRep, "gpu"}} {
		require.NotNil(t, tc.rep.Compute)
		require.Len(t, tc.rep.Compute.Ops, 2)
		assert.Equal(t, "stretch", tc.rep.Compute.Ops[1].Op)
		assert.Equal(t, tc.backend, tc.rep.Compute.Ops[1].Backend)
		var phase *pipeline.PhaseTiming
		for i, p := range tc.rep.Phases {
			if p.Name == "preview" {
				phase = &tc.rep.Phases[i]
			}
		}
		require.NotNil(t, phase, "phases %v", tc.rep.Phases)
		assert.Equal(t, tc.backend, phase.Backend)
		assert.Contains(t, tc.rep.Outputs, pipeline.PreviewPath(filepath.Join(dir, tc.backend+".fits")))
	}
	assert.Zero(t, gpuRep.Compute.ForcedFallbacks)
}

func TestPreviewHelpListsTheComputeFlags(t *testing.T) {
	_, help, _ := zm(t, "preview", "--help")
	assert.Contains(t, help, "--backend")
	assert.Contains(t, help, "--gpu-budget")
	code, _, stderr := zm(t, "preview", "x.fits", "--backend", "tpu")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "unknown backend")
}
