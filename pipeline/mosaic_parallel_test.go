package pipeline

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// The mosaic splits its per-band coadd (clear, accumulate, finish, alpha) by rows across
// goroutines, hands each band to the sink while the next is computed, and measures the
// photometric match per input and per pair in parallel. None of it may change a bit.

func TestMosaicIsBitIdenticalForAnyWorkersAndSinkOverlap(t *testing.T) {
	ref := testRefWCS(t)
	srcs := append(rotatedInputs(t, ref),
		scaledFrame(t, "s.fits", ref, 100, 80, 300, 200, 1.1, 20))
	type run struct {
		workers, rows int
		budget        int64
	}
	do := func(r run) *MosaicResult {
		opt := DefaultMosaicOptions()
		opt.Workers, opt.bandRows = r.workers, r.rows
		opt.Match = MatchGainOffset
		// A grid wide enough that the whole image (the memory sink) and a 400-row band do
		// not fit 16 MiB together: the plan then drops the second band buffer.
		opt.GridFrom, opt.GridWidth, opt.GridHeight = ref, 1400, 1000
		if r.budget > 0 {
			opt.MemBudget = r.budget
		}
		res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
		require.NoError(t, err)
		return res
	}
	one := do(run{workers: 1, rows: 400, budget: MinMemBudget})
	require.False(t, one.Plan.Overlap, "400-row bands over 16 MiB leave no room for a second band")
	require.NotNil(t, one.Corrections)
	finite := 0
	for _, v := range one.Image.Pix {
		if v == v {
			finite++
		}
	}
	require.Greater(t, finite, 100000, "the inputs must cover a good part of the grid")
	for _, r := range []run{{workers: 3, rows: 400, budget: MinMemBudget}, {workers: 3}, {workers: 2, rows: 37}, {workers: 1, rows: 150}} {
		got := do(r)
		if r.budget == 0 {
			require.True(t, got.Plan.Overlap, "%+v: a 1 GiB budget holds the second band", r)
		}
		assert.Equal(t, one.Corrections, got.Corrections, "%+v", r)
		requireSameBits(t, one.Image.Pix, got.Image.Pix, "image")
		requireSameBits(t, one.Coverage, got.Coverage, "coverage")
		require.Equal(t, one.Alpha, got.Alpha, "%+v", r)
	}
}

// slowSink records the bands it gets, takes its time over each and fails at band failAt
// (0: never); it counts the calls in progress.
type slowSink struct {
	memorySink
	failAt   int
	bands    []int
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func (s *slowSink) Band(y0, rows int, pix, coverage []float32, alpha []uint8) error {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
	}
	time.Sleep(2 * time.Millisecond)
	s.bands = append(s.bands, y0)
	if len(s.bands) == s.failAt {
		return errors.New("disk full")
	}
	return s.memorySink.Band(y0, rows, pix, coverage, alpha)
}

func TestMosaicSinkGetsBandsInOrderOneAtATimeAndItsErrorStopsTheRun(t *testing.T) {
	srcs := twoInputs(t)
	opt := DefaultMosaicOptions()
	opt.bandRows = 20
	sink := &slowSink{}
	res, err := MosaicTo(t.Context(), cpuRunner(t), srcs, opt, Hooks{}, sink)
	require.NoError(t, err)
	require.True(t, res.Plan.Overlap)
	require.Len(t, sink.bands, res.Plan.Bands)
	for i, y0 := range sink.bands {
		assert.Equal(t, i*20, y0, "band %d", i)
	}
	assert.EqualValues(t, 1, sink.maxIn.Load(), "one band at a time at the sink")

	mem, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
	require.NoError(t, err)
	requireSameBits(t, mem.Image.Pix, sink.img.Pix, "image through the overlapped sink")

	failing := &slowSink{failAt: 3}
	_, err = MosaicTo(t.Context(), cpuRunner(t), srcs, opt, Hooks{}, failing)
	require.ErrorContains(t, err, "disk full")
	assert.Len(t, failing.bands, 3, "no band goes to the sink after it failed")
	assert.Zero(t, failing.inFlight.Load(), "the sink is idle once MosaicTo returned")
}

func TestMosaicMatchIsTheSameForAnyWorkers(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		scaledFrame(t, "a.fits", ref, 0, 0, 300, 200, 1, 0),
		scaledFrame(t, "b.fits", ref, 150, 90, 300, 200, 1.1, 20),
		scaledFrame(t, "c.fits", ref, 60, 150, 300, 200, 0.9, -15),
		scaledFrame(t, "d.fits", ref, 250, 10, 300, 200, 1.05, 5),
	}
	run := func(workers int) []cpu.Affine {
		opt := DefaultMosaicOptions()
		opt.Match, opt.Workers = MatchGainOffset, workers
		res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
		require.NoError(t, err)
		require.Len(t, res.Corrections, 4)
		return res.Corrections
	}
	one := run(1)
	assert.NotEqual(t, one[0], one[1], "the inputs differ in gain and offset")
	assert.Equal(t, one, run(3))
}

func TestWindowWeightsShortcutEqualsFeatherWeightsOnWideWindows(t *testing.T) {
	for _, tc := range []struct {
		w, h    int
		feather float64
	}{
		{300, 120, 32}, {120, 300, 8}, {64, 64, 32}, {65, 63, 32}, {50, 40, 2.5}, {10, 300, 100}, {1, 1, 32}, {3, 200, 1},
	} {
		np := tc.w * tc.h
		win := &inputWindow{pix: make([]float32, np), weight: make([]float32, np), mask: make([]bool, np)}
		for i := range win.pix {
			win.pix[i] = float32(i % 17)
		}
		require.NoError(t, windowWeights(win, tc.w, tc.h, 1, tc.feather))
		want := make([]float32, np)
		require.NoError(t, cpu.FeatherWeights(want, win.mask, tc.w, tc.h, tc.feather))
		assert.Equal(t, want, win.weight, "%+v", tc)
	}
}

func TestPreviewBuilderBlockMeansMatchADirectSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const w, h, nc, side = 103, 71, 3, 20 // f = 6: the last block column and row are partial
	pix := make([]float32, w*h*nc)
	for i := range pix {
		pix[i] = float32(rng.NormFloat64() * 100)
		if rng.IntN(9) == 0 {
			pix[i] = float32(math.NaN())
		}
	}
	for y := range 12 { // a whole block of NaN in channel 0
		for x := range 12 {
			pix[y*w+x] = float32(math.Inf(1))
		}
	}
	p := NewPreviewBuilder(w, h, nc, side)
	for y0 := 0; y0 < h; y0 += 10 { // bands of 10 rows, CHW each
		rows := min(10, h-y0)
		band := make([]float32, 0, rows*w*nc)
		for c := range nc {
			band = append(band, pix[c*w*h+y0*w:c*w*h+(y0+rows)*w]...)
		}
		require.NoError(t, p.AddRows(y0, rows, band))
	}
	img := p.Image()
	f := previewFactor(w, h, side)
	require.Equal(t, 6, f)
	for c := range nc {
		for py := range img.Height {
			for px := range img.Width {
				var s float64
				n := 0
				for y := py * f; y < min((py+1)*f, h); y++ {
					for x := px * f; x < min((px+1)*f, w); x++ {
						if v := pix[c*w*h+y*w+x]; v-v == 0 {
							s += float64(v)
							n++
						}
					}
				}
				got := img.Pix[(c*img.Height+py)*img.Width+px]
				if n == 0 {
					require.True(t, got != got, "channel %d block (%d, %d) has no data", c, px, py)
					continue
				}
				require.Equal(t, float32(s/float64(n)), got, "channel %d block (%d, %d)", c, px, py)
			}
		}
	}
}
