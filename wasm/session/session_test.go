package session

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/synth"
)

// frames writes n small synthetic frames and returns their names and bytes.
func frames(t *testing.T, n int) (names []string, data [][]byte) {
	t.Helper()
	o := synth.DefaultOptions()
	o.Frames, o.Width, o.Height, o.Stars = n, 40, 30, 20
	paths, err := synth.Write(t.Context(), t.TempDir(), o, nil)
	require.NoError(t, err)
	for _, p := range paths[:n] { // frames first, then truth.fits and catalog.csv
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		names = append(names, p[strings.LastIndex(p, "/")+1:])
		data = append(data, b)
	}
	return names, data
}

func newSession(t *testing.T, lang string, env Env) *Session {
	t.Helper()
	s, err := New(lang, env)
	require.NoError(t, err)
	return s
}

func TestAddFileReadsTheHeaderAndKeepsUnreadableFilesWithAReason(t *testing.T) {
	names, data := frames(t, 1)
	s := newSession(t, "fr-FR", Env{})
	good := s.AddFile(names[0], data[0])
	assert.Equal(t, map[string]any{"name": names[0], "ok": true, "width": 40, "height": 30, "channels": 1,
		"bitpix": -32, "wcs": true, "error": ""}, good)

	bad := s.AddFile("notes.txt", []byte("not a FITS file"))
	assert.Equal(t, false, bad["ok"])
	assert.Contains(t, bad["error"], "notes.txt n'est pas une image FITS lisible", "the error is localised")

	// Same name replaces in place; order is the order of addition.
	again := s.AddFile("notes.txt", data[0])
	assert.Equal(t, true, again["ok"])
	require.Len(t, s.Files(), 2)
	assert.Equal(t, "notes.txt", s.Files()[1].(map[string]any)["name"])

	assert.True(t, s.RemoveFile(names[0]))
	assert.False(t, s.RemoveFile(names[0]))
	require.Len(t, s.Files(), 1)
	s.ClearFiles()
	assert.Empty(t, s.Files())
}

func TestStackOnTheCPUMatchesTheLibraryAndSkipsBadFiles(t *testing.T) {
	names, data := frames(t, 5)
	s := newSession(t, "en", Env{Adapter: func(context.Context) map[string]any { panic("probed an adapter with backend cpu") }})
	var srcs []pipeline.FrameSource
	for i := range names {
		s.AddFile(names[i], data[i])
		srcs = append(srcs, pipeline.MemoryFrame{FileName: names[i], Data: data[i]})
	}
	s.AddFile("broken.fits", []byte("SIMPLE  = garbage"))

	var mu sync.Mutex
	var keys []string
	phases := map[string]int{}
	hooks := Hooks{
		Progress: func(p string, done, total int) { mu.Lock(); phases[p] = done; mu.Unlock() },
		Event: func(e map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, e["key"].(string))
			assert.NotEmpty(t, e["message"])
			assert.Contains(t, []string{"debug", "info", "warn", "error"}, e["level"])
		},
	}
	sum, err := s.Stack(t.Context(), map[string]any{"backend": "cpu", "kappa_low": "2.5", "iterations": 5.0}, hooks)
	require.NoError(t, err)
	assert.Equal(t, 40, sum["width"])
	assert.Equal(t, 30, sum["height"])
	assert.Equal(t, 1, sum["channels"])
	assert.Equal(t, 5, sum["frames"])
	assert.Equal(t, 1, sum["skipped"])
	assert.Equal(t, "cpu", sum["backend"])
	assert.Contains(t, sum["backend_reason"], "--backend cpu")
	assert.Nil(t, sum["adapter"])
	assert.Nil(t, sum["limits"])
	assert.Contains(t, keys, "stack_frame_skipped")
	assert.Contains(t, keys, "stack_done")
	for _, p := range []string{"scan", "measure", "combine", "write"} {
		assert.Positive(t, phases[p], p)
	}

	// The same stack through the library gives the same bits.
	opt := pipeline.DefaultStackOptions()
	opt.Compute.Backend = compute.BackendCPU
	opt.KappaLow, opt.Iterations = 2.5, 5
	want, err := pipeline.Stack(t.Context(), srcs, opt, pipeline.Hooks{})
	require.NoError(t, err)
	got, err := s.ResultFloat32()
	require.NoError(t, err)
	require.Equal(t, len(want.Image.Pix), len(got))
	for i := range got {
		require.Equal(t, want.Image.Pix[i], got[i], "pixel %d", i)
	}
}

func TestRenderingsOfTheLastStack(t *testing.T) {
	names, data := frames(t, 3)
	s := newSession(t, "en", Env{})
	_, _, _, err := s.PreviewRGBA(1, 99.9, 12)
	assert.EqualError(t, err, s.T("wasm_no_result", nil))
	for i := range names {
		s.AddFile(names[i], data[i])
	}
	_, err = s.Stack(t.Context(), map[string]any{"backend": "cpu"}, Hooks{})
	require.NoError(t, err)
	img := s.Last().Stack.Image

	w, h, rgba, err := s.PreviewRGBA(1, 99.9, 12)
	require.NoError(t, err)
	want := cpu.StretchNRGBA(img.Pix, img.Width, img.Height, img.Channels, cpu.StretchOptions{PLow: 1, PHigh: 99.9, Asinh: 12})
	assert.Equal(t, [3]int{40, 30, 40 * 30 * 4}, [3]int{w, h, len(rgba)})
	assert.Equal(t, want.Pix, rgba)
	_, _, other, err := s.PreviewRGBA(5, 95, 1)
	require.NoError(t, err)
	assert.NotEqual(t, rgba, other, "a re-stretch changes the bytes")
	_, err = s.Stack(t.Context(), map[string]any{"backend": "cpu", "p_low": 5.0, "p_high": 95.0, "asinh": 1.0}, Hooks{})
	require.NoError(t, err)
	_, _, fromStack, err := s.PreviewRGBA(math.NaN(), math.NaN(), math.NaN())
	require.NoError(t, err)
	assert.Equal(t, other, fromStack, "NaN arguments take the stack's stretch options")
	_, _, _, err = s.PreviewRGBA(50, 40, 12)
	assert.ErrorContains(t, err, "invalid options")

	pngData, err := s.PNGBytes(1, 99.9, 12)
	require.NoError(t, err)
	dec, err := png.Decode(bytes.NewReader(pngData))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 40, 30), dec.Bounds())

	fitsData, err := s.FITSBytes()
	require.NoError(t, err)
	f, err := fits.NewReader(bytes.NewReader(fitsData), int64(len(fitsData)), "stack.fits")
	require.NoError(t, err)
	defer f.Close()
	hdu, err := f.Image("")
	require.NoError(t, err)
	back, err := hdu.ReadImage()
	require.NoError(t, err)
	assert.Equal(t, img.Pix, back.Pix)
	_, err = f.Image("ALPHA")
	assert.NoError(t, err, "the ALPHA extension is written")
}

func TestStackErrorsAreLocalised(t *testing.T) {
	s := newSession(t, "fr", Env{})
	_, err := s.Stack(t.Context(), nil, Hooks{})
	assert.EqualError(t, err, "aucun fichier à empiler : ajoutez d'abord des images FITS")
	_, err = s.Stack(t.Context(), map[string]any{"kapa_low": 2}, Hooks{})
	assert.ErrorContains(t, err, "option kapa_low invalide")
	_, err = s.Stack(t.Context(), map[string]any{"reject": "sometimes"}, Hooks{})
	assert.ErrorContains(t, err, "options invalides")
	assert.ErrorContains(t, err, "sometimes")
	assert.Equal(t, "en", s.SetLang("de-DE"), "unknown languages fall back to English")
	_, err = s.Stack(t.Context(), nil, Hooks{})
	assert.EqualError(t, err, "no files to stack: add FITS frames first")
}

// fakeGPU is a CPU-emulated adapter (DeviceType CPU, like SwiftShader) that computes with
// package cpu.
type fakeGPU struct{ compute.Device }

func (fakeGPU) StackBand(_ context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, w []float32, width int, opt cpu.StackOptions) (cpu.StackStats, error) {
	return cpu.StackBand(dst, kept, src, norm, w, width, opt), nil
}
func (fakeGPU) MaxFrames() int { return 64 }
func (fakeGPU) Info() gpu.Info {
	return gpu.Info{Name: browserAdapterName, Backend: gputypes.BackendBrowserWebGPU, DeviceType: gputypes.DeviceTypeCPU}
}
func (fakeGPU) Limits() wgpu.Limits {
	return wgpu.Limits{MaxBufferSize: 1 << 30, MaxStorageBufferBindingSize: 1 << 30, MaxStorageBuffersPerShaderStage: 10,
		MaxComputeWorkgroupsPerDimension: 65535, MaxComputeInvocationsPerWorkgroup: 256, MaxComputeWorkgroupStorageSize: 32768}
}
func (fakeGPU) Close() error { return nil }

func TestAutoUsesACPUEmulatedWebGPUAdapterAndNamesIt(t *testing.T) {
	names, data := frames(t, 3)
	probes := 0
	env := Env{
		Adapter: func(context.Context) map[string]any {
			probes++
			return map[string]any{"name": "", "vendor": "google", "architecture": "swiftshader", "description": "", "fallback": true}
		},
		Open: func(_ context.Context, opt gpu.Options) (compute.Device, error) { return fakeGPU{}, nil },
	}
	s := newSession(t, "en", env)
	for i := range names {
		s.AddFile(names[i], data[i])
	}
	var msgs []string
	sum, err := s.Stack(t.Context(), nil, Hooks{Event: func(e map[string]any) { msgs = append(msgs, e["message"].(string)) }})
	require.NoError(t, err)
	assert.Equal(t, "webgpu", sum["backend"])
	assert.Equal(t, "WebGPU on google swiftshader, a fallback adapter emulated on the CPU: the page uses the browser's WebGPU whenever it offers one (on small inputs the CPU backend can be faster; pick it in the options)", sum["backend_reason"])
	assert.Equal(t, "swiftshader", sum["adapter"].(map[string]any)["architecture"])
	lim := sum["limits"].(map[string]any)
	assert.Equal(t, float64(1<<30), lim["maxStorageBufferBindingSize"])
	assert.Contains(t, msgs, "stacking on the GPU: google swiftshader", "wgpu's generic adapter name is replaced")

	_, err = s.Stack(t.Context(), nil, Hooks{})
	require.NoError(t, err)
	assert.Equal(t, 1, probes, "the adapter is probed once per session")
}

func TestNoAdapterFallsBackToTheCPUWithTheReason(t *testing.T) {
	names, data := frames(t, 2)
	env := Env{
		Adapter: func(context.Context) map[string]any { return nil },
		Open: func(context.Context, gpu.Options) (compute.Device, error) {
			return nil, errors.New("gpu: no adapter: navigator.gpu gave none")
		},
	}
	s := newSession(t, "en", env)
	for i := range names {
		s.AddFile(names[i], data[i])
	}
	sum, err := s.Stack(t.Context(), map[string]any{"backend": "auto"}, Hooks{})
	require.NoError(t, err)
	assert.Equal(t, "cpu", sum["backend"])
	assert.Contains(t, sum["backend_reason"], "navigator.gpu gave none")
	assert.Nil(t, sum["adapter"])
}

// garbageGPU is a device whose shader failed to compile in the browser: wgpu reports nothing
// and the readback is zeros.
type garbageGPU struct{ fakeGPU }

func (garbageGPU) StackBand(_ context.Context, dst []float32, kept []uint32, _ [][]float32, _ []cpu.Affine, _ []float32, _ int, _ cpu.StackOptions) (cpu.StackStats, error) {
	clear(dst)
	clear(kept)
	return cpu.StackStats{}, nil
}

func TestBrowserReportedGPUErrorsRedoTheStackOnTheCPU(t *testing.T) {
	names, data := frames(t, 3)
	pending := []string{"stale error of an earlier device"}
	drains := 0
	env := Env{
		Open: func(context.Context, gpu.Options) (compute.Device, error) { return garbageGPU{}, nil },
		GPUErrors: func() []string {
			drains++
			out := pending
			pending = nil
			if drains == 2 { // the one after the GPU run
				out = []string{"GPUValidationError: value nan cannot be represented as 'f32'"}
			}
			return out
		},
	}
	s := newSession(t, "en", env)
	var srcs []pipeline.FrameSource
	for i := range names {
		s.AddFile(names[i], data[i])
		srcs = append(srcs, pipeline.MemoryFrame{FileName: names[i], Data: data[i]})
	}
	var keys []string
	sum, err := s.Stack(t.Context(), nil, Hooks{Event: func(e map[string]any) { keys = append(keys, e["key"].(string)) }})
	require.NoError(t, err)
	assert.Equal(t, "cpu", sum["backend"])
	assert.Contains(t, sum["backend_reason"], "value nan cannot be represented")
	assert.Contains(t, keys, "gpu_fallback_runtime_error")

	opt := pipeline.DefaultStackOptions()
	opt.Compute.Backend = compute.BackendCPU
	want, err := pipeline.Stack(t.Context(), srcs, opt, pipeline.Hooks{})
	require.NoError(t, err)
	got, err := s.ResultFloat32()
	require.NoError(t, err)
	assert.Equal(t, want.Image.Pix, got, "the CPU redo replaced the GPU's zeros")
}
