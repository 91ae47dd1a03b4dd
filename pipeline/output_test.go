package pipeline

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// holesImage is an RGB image with NaN holes and outliers.
func holesImage() *fits.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 61, 47
	img := &fits.Image{Width: w, Height: h, Channels: 3, Pix: make([]float32, w*h*3), Header: fits.NewHeader()}
	for i := range img.Pix {
		img.Pix[i] = float32(300 + 40*rng.NormFloat64())
		if rng.IntN(20) == 0 {
			img.Pix[i] *= 50
		}
		if rng.IntN(30) == 0 {
			img.Pix[i] = float32(math.NaN())
		}
	}
	return img
}

// previewBytes writes a preview with r and returns the PNG file.
func previewBytes(t *testing.T, r *compute.Runner, img *fits.Image) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.png")
	require.NoError(t, WritePreviewWith(t.Context(), r, p, img, cpu.DefaultStretchOptions()))
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func TestWritePreviewWithACPURunnerWritesTheCPUPreview(t *testing.T) {
	img := holesImage()
	want := previewBytes(t, nil, img)
	dec, err := png.Decode(bytes.NewReader(want))
	require.NoError(t, err)
	assert.Equal(t, cpu.StretchNRGBA(img.Pix, img.Width, img.Height, 3, cpu.DefaultStretchOptions()), dec)

	var c collect
	r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendCPU}, c.hooks().Events)
	defer r.Close()
	assert.Equal(t, want, previewBytes(t, r, img))
	require.Len(t, r.Report(), 1)
	assert.Equal(t, "stretch", r.Report()[0].Op)
	assert.Equal(t, "cpu", r.Report()[0].Backend)
	assert.Len(t, c.find("preview_using_cpu"), 1)
}

func TestWritePreviewWithRejectsBadInputAndWritesNothing(t *testing.T) {
	img := holesImage()
	bad := cpu.DefaultStretchOptions()
	bad.Asinh = 0
	short := *img
	short.Pix = short.Pix[:len(short.Pix)-1]
	r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendCPU}, nil)
	defer r.Close()
	tests := []struct {
		name   string
		img    *fits.Image
		opt    cpu.StretchOptions
		runner *compute.Runner
		want   error
	}{
		{"invalid options without a runner", img, bad, nil, cpu.ErrInvalidOptions},
		{"invalid options with a runner", img, bad, r, cpu.ErrInvalidOptions},
		{"short pixels without a runner", &short, cpu.DefaultStretchOptions(), nil, cpu.ErrShape},
		{"short pixels with a runner", &short, cpu.DefaultStretchOptions(), r, cpu.ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "p.png")
			err := WritePreviewWith(t.Context(), tc.runner, p, tc.img, tc.opt)
			require.ErrorIs(t, err, tc.want)
			assert.NoFileExists(t, p)
		})
	}
}

func TestWritePreviewWithOnTheGPUIsByteIdentical(t *testing.T) {
	requireGPU(t)
	img := holesImage()
	want := previewBytes(t, nil, img)
	tests := []struct {
		name    string
		faults  gpu.Faults
		backend string
		key     string // the warning, "" for none
		wantEN  string
		wantFR  string
	}{
		{"clean", gpu.Faults{}, "gpu", "", "", ""},
		{"device lost at the first submission", gpu.Faults{LostAt: 1}, "cpu", "gpu_device_lost", "GPU device lost", "périphérique GPU perdu"},
		{"allocation failure", gpu.Faults{OOMAt: 1}, "cpu", "gpu_fallback_insufficient_memory", "GPU memory guard", "garde mémoire GPU"},
		{"compile failure", gpu.Faults{Compile: true}, "cpu", "gpu_fallback_runtime_error", "GPU processing error", "erreur de traitement GPU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c collect
			r := compute.NewRunner(t.Context(), compute.Options{Backend: compute.BackendGPU, Faults: tc.faults}, c.hooks().Events)
			defer r.Close()
			assert.Equal(t, want, previewBytes(t, r, img))
			rep := r.Report()
			require.Len(t, rep, 1)
			assert.Equal(t, tc.backend, rep[0].Backend)
			if tc.key == "" {
				assert.Len(t, c.find("preview_using_gpu"), 1)
				assert.Zero(t, r.ForcedFallbacks())
				return
			}
			ev := c.find(tc.key)
			require.Len(t, ev, 1, "events: %s", keysOf(c.events))
			requireLocalised(t, ev, tc.wantEN, tc.wantFR)
			assert.Equal(t, 1, r.ForcedFallbacks())
			requireLocalised(t, c.find("gpu_forced_fallback"), "stretch ran on the CPU", "stretch a tourné sur le CPU")
		})
	}
}

func TestStackWithLeavesTheRunnerToTheCaller(t *testing.T) {
	srcs := noisyFrames(t, 4, 40, 30, 1)
	opt := DefaultStackOptions()
	opt.Compute.Backend = compute.BackendCPU
	want, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)

	r := compute.NewRunner(t.Context(), opt.Compute, nil)
	defer r.Close()
	got, err := StackWith(t.Context(), r, srcs, opt, Hooks{})
	require.NoError(t, err)
	assert.Equal(t, want.Image.Pix, got.Image.Pix)
	assert.Equal(t, want.Kept, got.Kept)
	require.Len(t, got.Compute.Ops, 1)

	// The same Runner then runs the preview and reports both operations.
	previewBytes(t, r, got.Image)
	s := r.Summary()
	require.Len(t, s.Ops, 2)
	assert.Equal(t, "stack", s.Ops[0].Op)
	assert.Equal(t, "stretch", s.Ops[1].Op)
	assert.Len(t, got.Compute.Ops, 1, "the result keeps the summary as the stack ended")

	_, err = StackWith(t.Context(), nil, srcs, opt, Hooks{})
	require.ErrorContains(t, err, "needs a Runner")
}
