package pipeline

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

func cpuRunner(t *testing.T) *compute.Runner {
	t.Helper()
	o := compute.DefaultOptions()
	o.Backend = compute.BackendCPU
	r := compute.NewRunner(t.Context(), o, nil)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func twoInputs(t *testing.T) []FrameSource {
	ref := testRefWCS(t)
	return []FrameSource{
		shiftedFrame(t, "a.fits", ref, 0, 0, 300, 200),
		shiftedFrame(t, "b.fits", ref, 150, 90, 300, 200),
	}
}

func requireSameBits(t *testing.T, want, got []float32, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		a, b := want[i], got[i]
		require.True(t, math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b), "%s pixel %d: %g vs %g", what, i, a, b)
	}
}

func TestMosaicFileSinkWritesWhatTheInMemoryMosaicHolds(t *testing.T) {
	srcs := twoInputs(t)
	opt := DefaultMosaicOptions()
	opt.bandRows = 13 // many bands, cutting both inputs
	mem, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
	require.NoError(t, err)

	dir := t.TempDir()
	sink := &MosaicFileSink{Name: filepath.Join(dir, "m.fits"), Coverage: filepath.Join(dir, "m_coverage.fits"), PreviewSide: 64}
	res, err := MosaicTo(t.Context(), cpuRunner(t), srcs, opt, Hooks{}, sink)
	require.NoError(t, err)
	assert.Nil(t, res.Image.Pix, "a streamed mosaic holds no pixels")
	assert.Nil(t, res.Coverage)
	require.NoError(t, sink.Close())
	assert.Equal(t, mem.Plan.Bands, res.Plan.Bands)

	got, err := fits.ReadImage(sink.Name, "")
	require.NoError(t, err)
	requireSameBits(t, mem.Image.Pix, got.Pix, "image")
	v, ok := got.Header.Get("CRPIX1")
	require.True(t, ok)
	w, _ := mem.Image.Header.Get("CRPIX1")
	assert.Equal(t, w, v)
	f, err := fits.Open(sink.Name)
	require.NoError(t, err)
	alpha, ok, err := fits.ReadAlpha(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, mem.Alpha, alpha)
	cov, err := fits.ReadImage(sink.Coverage, "")
	require.NoError(t, err)
	requireSameBits(t, mem.Coverage, cov.Pix, "coverage")
	bunit, _ := cov.Header.String("BUNIT")
	assert.Equal(t, "weight", bunit)

	// The preview is the NaN-ignoring block mean of the image.
	p := sink.Preview()
	fct := previewFactor(got.Width, got.Height, 64)
	require.Equal(t, (got.Width+fct-1)/fct, p.Width)
	require.LessOrEqual(t, max(p.Width, p.Height), 64)
	for py := range p.Height {
		for px := range p.Width {
			var s float64
			n := 0
			for y := py * fct; y < min((py+1)*fct, got.Height); y++ {
				for x := px * fct; x < min((px+1)*fct, got.Width); x++ {
					if v := got.Pix[y*got.Width+x]; v == v {
						s += float64(v)
						n++
					}
				}
			}
			g := p.Pix[py*p.Width+px]
			if n == 0 {
				require.True(t, g != g, "empty block (%d, %d) is NaN", px, py)
			} else {
				require.Equal(t, float32(s/float64(n)), g, "block (%d, %d)", px, py)
			}
		}
	}
}

func TestMosaicFileSinkAbortLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	sink := &MosaicFileSink{Name: filepath.Join(dir, "m.fits"), Coverage: filepath.Join(dir, "m_coverage.fits")}
	ctx, cancel := contextWithCancel(t)
	opt := DefaultMosaicOptions()
	opt.bandRows = 5
	n := 0
	hooks := Hooks{Progress: func(phase string, done, total int) {
		if phase == "assemble" {
			if n++; n == 2 {
				cancel()
			}
		}
	}}
	_, err := MosaicTo(ctx, cpuRunner(t), twoInputs(t), opt, hooks, sink)
	require.ErrorIs(t, err, ctx.Err())
	require.Error(t, sink.Close(), "missing bands make Close fail")
	sink.Abort()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestMosaicIsBitIdenticalForAnyNumberOfSlots(t *testing.T) {
	srcs := twoInputs(t)
	run := func(workers int) *MosaicResult {
		opt := DefaultMosaicOptions()
		opt.Workers = workers
		res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
		require.NoError(t, err)
		return res
	}
	one, three := run(1), run(3)
	require.Equal(t, 1, one.Plan.Slots)
	require.Equal(t, 3, three.Plan.Slots)
	requireSameBits(t, one.Image.Pix, three.Image.Pix, "image")
	requireSameBits(t, one.Coverage, three.Coverage, "coverage")
}

func TestWindowWeightsShortcutEqualsFeatherWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for _, tc := range []struct {
		w, h, nc int
		feather  float64
		holes    int
	}{
		{40, 30, 1, 8, 0}, {40, 30, 3, 32, 0}, {7, 90, 1, 3, 0}, {40, 30, 1, 8, 5}, {25, 25, 3, 4, 2},
	} {
		np := tc.w * tc.h
		win := &inputWindow{pix: make([]float32, tc.nc*np), weight: make([]float32, np), mask: make([]bool, np)}
		for i := range win.pix {
			win.pix[i] = rng.Float32()
		}
		for range tc.holes {
			win.pix[rng.IntN(len(win.pix))] = float32(math.NaN())
		}
		require.NoError(t, windowWeights(win, tc.w, tc.h, tc.nc, tc.feather))
		want := make([]float32, np)
		require.NoError(t, cpu.FeatherWeights(want, win.mask, tc.w, tc.h, tc.feather))
		assert.Equal(t, want, win.weight, "%+v", tc)
	}
}

func TestPlanMosaicCountsOnlyWhatTheSinkHolds(t *testing.T) {
	s := MosaicShape{Width: 10000, Height: 10000, Channels: 1, MaxInputPixels: 2400 * 2400, Workers: 2}
	mem := s
	mem.SinkBytes = (&memorySink{}).HeldBytes(10000, 10000, 1)
	_, err := PlanMosaic(mem, 256<<20)
	require.ErrorContains(t, err, "too small", "the whole 100 MP image does not fit 256 MiB")
	s.SinkBytes = (&MosaicFileSink{PreviewSide: DefaultPreviewSide}).HeldBytes(10000, 10000, 1)
	p, err := PlanMosaic(s, 256<<20)
	require.NoError(t, err)
	assert.LessOrEqual(t, p.PeakBytes, int64(256<<20))
	assert.GreaterOrEqual(t, p.BandRows, 64)
	t.Logf("streamed 100 MP at 256 MiB: %d rows × %d bands, %d slots, %.0f MiB", p.BandRows, p.Bands, p.Slots, mib(p.PeakBytes))
}

func TestPlanMosaicShrinksBandsForLayersAndSaysWhenOneRowDoesNotFit(t *testing.T) {
	s := MosaicShape{Width: 4000, Height: 4000, Channels: 1, MaxInputPixels: 1000 * 1000, Workers: 1}
	for i := range 12 { // 12 inputs, each 3000 px wide and tall, all overlapping
		s.Boxes = append(s.Boxes, image.Rect(i*80, i*80, i*80+3000, i*80+3000))
	}
	mean, err := PlanMosaic(s, 128<<20)
	require.NoError(t, err)
	s.Layered = true
	layered, err := PlanMosaic(s, 128<<20)
	require.NoError(t, err)
	assert.Less(t, layered.BandRows, mean.BandRows, "12 layers per row need shorter bands")
	assert.LessOrEqual(t, layered.PeakBytes, int64(128<<20))
	// One row of the 12 layers (12 × 3000 px × 8 B) does not fit where the mean's row does.
	s.MaxInputPixels = 100 * 100
	_, err = PlanMosaic(s, 400<<10)
	require.ErrorContains(t, err, "too small")
	assert.ErrorContains(t, err, "12 inputs")
	s.Layered = false
	_, err = PlanMosaic(s, 400<<10)
	require.NoError(t, err)
}
