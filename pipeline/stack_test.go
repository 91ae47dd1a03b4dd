package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
)

var nan32 = float32(math.NaN())

// writeFrames writes n float32 frames of w×h×c filled by fill(frame, index) and returns them
// as sources.
func writeFrames(t *testing.T, dir string, n, w, h, c int, fill func(f, i int) float32) []FrameSource {
	t.Helper()
	var srcs []FrameSource
	for f := range n {
		img := &fits.Image{Width: w, Height: h, Channels: c, Pix: make([]float32, w*h*c), Header: fits.NewHeader()}
		for i := range img.Pix {
			img.Pix[i] = fill(f, i)
		}
		img.Header.Set("OBJECT", "TEST", "")
		name := filepath.Join(dir, fmt.Sprintf("f%03d.fits", f))
		require.NoError(t, fits.Write(name, img, fits.WriteOptions{}))
		srcs = append(srcs, DiskFrame(name))
	}
	return srcs
}

func noisyFrames(t *testing.T, n, w, h, c int) []FrameSource {
	rng := rand.New(rand.NewPCG(1, 2))
	return writeFrames(t, t.TempDir(), n, w, h, c, func(f, i int) float32 {
		v := float32(100 + 10*rng.NormFloat64() + float64(i%97))
		if i%53 == f { // at most one cosmic ray per pixel, in a different frame each time
			v += 5000
		}
		return v
	})
}

func TestStackIsBitIdenticalWhateverTheBudgetAndThreads(t *testing.T) {
	srcs := noisyFrames(t, 9, 300, 200, 1)
	run := func(budget int64, workers int) *StackResult {
		opt := DefaultStackOptions()
		opt.MemBudget, opt.Workers = budget, workers
		res, err := Stack(t.Context(), srcs, opt, Hooks{})
		require.NoError(t, err)
		return res
	}
	ref := run(1<<30, 1)
	require.Equal(t, 1, ref.Plan.Bands, "a large budget stacks in one band")
	// 16 MiB + a few rows: forces many bands and strided statistics.
	small := run(MinMemBudget, 2)
	other := run(MinMemBudget+1<<20, 3)
	assert.Equal(t, ref.Plan.BandRows, 200)
	for _, r := range []*StackResult{small, other} {
		require.Equal(t, len(ref.Image.Pix), len(r.Image.Pix))
		for i := range ref.Image.Pix {
			if math.Float32bits(ref.Image.Pix[i]) != math.Float32bits(r.Image.Pix[i]) {
				t.Fatalf("pixel %d differs: %v vs %v (bands %d vs %d)", i, ref.Image.Pix[i], r.Image.Pix[i], ref.Plan.Bands, r.Plan.Bands)
			}
		}
		assert.Equal(t, ref.Kept, r.Kept)
		assert.Equal(t, ref.Stats, r.Stats)
	}
}

func TestStackRejectsCosmicRaysAndReportsThem(t *testing.T) {
	srcs := noisyFrames(t, 12, 64, 64, 1)
	opt := DefaultStackOptions()
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	assert.Greater(t, res.Stats.RejectedHigh, int64(0))
	assert.Equal(t, int64(64*64), res.Stats.Pixels)
	assert.Equal(t, int64(12*64*64), res.Stats.Samples)
	var sum2 float64
	for i, v := range res.Image.Pix {
		d := float64(v) - float64(100+i%97)
		sum2 += d * d
		require.Less(t, math.Abs(d), 25.0, "pixel %d keeps a cosmic ray (one would add ~400)", i)
	}
	rms := math.Sqrt(sum2 / float64(len(res.Image.Pix)))
	assert.Less(t, rms, 1.5*10/math.Sqrt(12), "RMS error near the noise floor σ/√N")
	h := res.Image.Header
	n, ok := h.Int("NCOMBINE")
	require.True(t, ok)
	assert.Equal(t, int64(12), n)
	s, _ := h.String("ZMREJECT")
	assert.Equal(t, "winsor", s)
	o, _ := h.String("OBJECT")
	assert.Equal(t, "TEST", o, "the reference header is kept")
}

func TestStackKeepsNoDataAsNaN(t *testing.T) {
	// Frame 0 has no data in its first row, every frame has none at pixel 5: NaN must not
	// count as zero, and a pixel with no sample stays NaN with a kept count of 0.
	srcs := writeFrames(t, t.TempDir(), 4, 8, 4, 1, func(f, i int) float32 {
		if i == 5 || (f == 0 && i < 8) {
			return nan32
		}
		return float32(10 + f)
	})
	opt := DefaultStackOptions()
	opt.Reject, opt.Weight, opt.Norm = "none", "none", "none"
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(float64(res.Image.Pix[5])))
	assert.Equal(t, uint32(0), res.Kept[5])
	assert.InDelta(t, 12, res.Image.Pix[0], 1e-6, "mean of frames 1..3 where frame 0 has no data")
	assert.Equal(t, uint32(3), res.Kept[0])
	assert.InDelta(t, 11.5, res.Image.Pix[8], 1e-6)
	a := Alpha(res.Image)
	assert.Equal(t, uint8(0), a[5])
	assert.Equal(t, uint8(255), a[0])
}

func TestStackColourCubesPerChannel(t *testing.T) {
	srcs := writeFrames(t, t.TempDir(), 3, 5, 4, 3, func(f, i int) float32 { return float32(i/20) * 100 })
	opt := DefaultStackOptions()
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	require.Equal(t, 3, res.Image.Channels)
	assert.InDelta(t, 0, res.Image.Plane(0)[7], 1e-4)
	assert.InDelta(t, 100, res.Image.Plane(1)[7], 1e-4)
	assert.InDelta(t, 200, res.Image.Plane(2)[7], 1e-4)
}

func TestStackFailsOnBadInputNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	srcs := noisyFrames(t, 3, 32, 32, 1)
	bad := filepath.Join(dir, "broken.fits")
	require.NoError(t, os.WriteFile(bad, []byte("SIMPLE  =                    T / not really"), 0o644))
	other := writeFrames(t, dir, 1, 16, 16, 1, func(f, i int) float32 { return 1 })
	all := append(append(srcs, DiskFrame(bad)), other...)

	_, err := Stack(t.Context(), all, DefaultStackOptions(), Hooks{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken.fits")
	assert.Contains(t, err.Error(), "f000.fits", "the shape mismatch names the frame")

	var events []compute.Event
	opt := DefaultStackOptions()
	opt.SkipBad = true
	res, err := Stack(t.Context(), all, opt, Hooks{Events: func(e compute.Event) { events = append(events, e) }})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Used)
	assert.Len(t, res.Frames, 5)
	assert.NotEmpty(t, res.Frames[3].Error)
	var skipped int
	for _, e := range events {
		if e.Key == "stack_frame_skipped" {
			skipped++
		}
	}
	assert.Equal(t, 2, skipped)
}

func TestStackStopsWhenCancelled(t *testing.T) {
	srcs := noisyFrames(t, 3, 32, 32, 1)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err := Stack(ctx, srcs, DefaultStackOptions(), Hooks{})
	require.Error(t, err)
	assert.ErrorIs(t, err, errCanceled)
}

func TestStackOptionsValidateListsEveryProblem(t *testing.T) {
	opt := DefaultStackOptions()
	opt.Weight, opt.Norm, opt.MemBudget, opt.Align, opt.Interp = "fwhm", "zscale", 1, "sideways", "nearest"
	err := opt.Validate()
	require.Error(t, err)
	for _, s := range []string{"fwhm", "zscale", "mem budget", "align \"sideways\"", "nearest"} {
		assert.Contains(t, err.Error(), s)
	}
	assert.NoError(t, DefaultStackOptions().Validate())
}

func TestNormalisationRecoversGainAndOffset(t *testing.T) {
	// Frame 1 = 2 × frame 0 + 50: linear normalisation maps it back. 12 % of the pixels are a
	// bright object, so that P90 measures signal, not noise (a noise-only span gets no gain).
	rng := rand.New(rand.NewPCG(3, 4))
	base := make([]float32, 64*64)
	for i := range base {
		base[i] = float32(100 + 30*rng.Float64())
		if i%100 < 12 {
			base[i] += 5000
		}
	}
	srcs := writeFrames(t, t.TempDir(), 2, 64, 64, 1, func(f, i int) float32 {
		if f == 1 {
			return 2*base[i] + 50
		}
		return base[i]
	})
	opt := DefaultStackOptions()
	opt.Reject, opt.Weight = "none", "none"
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	assert.InDelta(t, 0.5, res.Frames[1].Norm[0].Gain, 1e-4)
	assert.InDelta(t, -25, res.Frames[1].Norm[0].Offset, 1e-2)
	for i, v := range res.Image.Pix {
		require.InDelta(t, base[i], v, 1e-2)
	}

	// Pure noise with an offset: the span is noise, so only the sky offset is matched.
	srcs = writeFrames(t, t.TempDir(), 2, 64, 64, 1, func(f, i int) float32 {
		return float32(100+30*rng.NormFloat64()) + float32(f)*250
	})
	res, err = Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	assert.Equal(t, float32(1), res.Frames[1].Norm[0].Gain)
	assert.InDelta(t, -250, res.Frames[1].Norm[0].Offset, 3)
}
