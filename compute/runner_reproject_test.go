package compute

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/locales"
)

// reprojectFake is a fake device that also reprojects, with package cpu, and fails on cue.
type reprojectFake struct {
	*fakeDevice
	// failRP returns the error of the call-th Reproject call (1-based); nil computes.
	failRP func(call int) error
	// flip negates the results so that tests see which backend answered.
	flip bool

	mu     sync.Mutex
	rpRows []int // rows asked of each Reproject call, failed ones included
	rpY0   []int
	rpWin  [][2]int // the source rows [SrcRow0, SrcRow0+len(src)/srcWidth) of each call
	lostRP bool
}

func (f *reprojectFake) Reproject(_ context.Context, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rpRows, f.rpY0 = append(f.rpRows, rows), append(f.rpY0, y0)
	f.rpWin = append(f.rpWin, [2]int{opt.SrcRow0, opt.SrcRow0 + len(src)/max(srcWidth, 1)})
	if f.lostRP {
		return fmt.Errorf("fake: %w (earlier failure)", gpu.ErrDeviceLost)
	}
	if f.failRP != nil {
		if err := f.failRP(len(f.rpRows)); err != nil {
			f.lostRP = isLost(err)
			return err
		}
	}
	if err := cpu.Reproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt); err != nil {
		return err
	}
	if f.flip {
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
	return nil
}

func newReprojectFake() *reprojectFake { return &reprojectFake{fakeDevice: newFake(hardware())} }

func (f *reprojectFake) opener() OpenFunc {
	return func(context.Context, gpu.Options) (Device, error) { return f, nil }
}

// noReprojectDevice hides any Reproject method of the device it wraps: only Device's methods
// are promoted.
type noReprojectDevice struct{ Device }

// rpCase is a reprojection problem: a smooth source with NaN holes, rotated, scaled and
// shifted so that part of the output is off the input.
type rpCase struct {
	sw, sh, w, h int
	src          []float32
	grid         *cpu.CoordGrid
}

func newRPCase() rpCase {
	c := rpCase{sw: 83, sh: 61, w: 101, h: 77}
	rng := rand.New(rand.NewPCG(3, 4))
	c.src = make([]float32, c.sw*c.sh)
	for j := range c.sh {
		for i := range c.sw {
			r2 := float64((i-40)*(i-40) + (j-30)*(j-30))
			c.src[j*c.sw+i] = float32(200 + 0.5*float64(i) - 0.3*float64(j) + 1000*math.Exp(-r2/128) + rng.NormFloat64())
		}
	}
	for range 25 {
		c.src[rng.IntN(len(c.src))] = float32(math.NaN())
	}
	cs, sn := 0.83*math.Cos(0.4), 0.83*math.Sin(0.4)
	c.grid = cpu.NewCoordGrid(c.w, c.h, 16, func(x, y float64) (float64, float64, bool) {
		return cs*x - sn*y + 10.3, sn*x + cs*y - 8.7, true
	})
	return c
}

// cpu is cpu.Reproject's answer for rows [y0, y0+rows).
func (c rpCase) cpu(t *testing.T, y0, rows int, interp cpu.Interp) []float32 {
	t.Helper()
	dst := make([]float32, c.w*rows)
	require.NoError(t, cpu.Reproject(dst, c.w, y0, rows, c.src, c.sw, c.sh, c.grid, cpu.ReprojectOptions{Interp: interp}))
	return dst
}

// run is the Runner's answer for rows [y0, y0+rows).
func (c rpCase) run(t *testing.T, r *Runner, y0, rows int, interp cpu.Interp) []float32 {
	t.Helper()
	dst := make([]float32, c.w*rows)
	require.NoError(t, r.Reproject(t.Context(), dst, c.w, y0, rows, c.src, c.sw, c.sh, c.grid, cpu.ReprojectOptions{Interp: interp}))
	return dst
}

// bits compares float32 slices bit for bit (NaN included).
func bits(v []float32) string {
	b := make([]byte, 0, 9*len(v))
	for _, x := range v {
		b = fmt.Appendf(b, "%08x,", math.Float32bits(x))
	}
	return string(b)
}

func negated(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}

func TestReprojectUsesTheGPUWhenUsable(t *testing.T) {
	c := newRPCase()
	var rec recorder
	fake := newReprojectFake()
	fake.flip = true
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
	defer r.Close()
	assert.Equal(t, bits(negated(c.cpu(t, 0, c.h, cpu.InterpLanczos3))), bits(c.run(t, r, 0, c.h, cpu.InterpLanczos3)), "the device answered")
	assert.Equal(t, bits(negated(c.cpu(t, 10, 20, cpu.InterpBilinear))), bits(c.run(t, r, 10, 20, cpu.InterpBilinear)))
	assert.Equal(t, []int{c.h, 20}, fake.rpRows, "one chunk per call within the budget")
	assert.Equal(t, []int{0, 10}, fake.rpY0)
	assert.Equal(t, []string{"gpu_info_summary", "reproject_using_gpu"}, rec.keys(), "announced once")
	assert.Equal(t, "FakeGPU 3000", rec.one(t, "reproject_using_gpu").Params["adapter"])
	rep := r.Report()
	require.Len(t, rep, 1)
	assert.Equal(t, OpReport{Op: "reproject", Backend: "gpu", Calls: 2, ChunksGPU: 2, RowsPerChunk: c.h,
		GPUSeconds: rep[0].GPUSeconds, Seconds: rep[0].Seconds}, rep[0])
}

func TestReprojectChunksRowsToFitTheBudget(t *testing.T) {
	c := newRPCase()
	fake := newReprojectFake()
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, nil, fake.opener())
	a := reprojectArgs{outWidth: c.w, y0: 0, rows: c.h, src: c.src, srcWidth: c.sw, srcHeight: c.sh, grid: c.grid}
	r.budget = reprojectBytes(a, 30, 12) // about 12 rows a chunk; set directly, below MinGPUBudget
	want := c.cpu(t, 0, c.h, cpu.InterpBicubic)
	assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpBicubic)), "chunks change no bit")
	require.Greater(t, len(fake.rpRows), 3, "rows %v", fake.rpRows)
	y := 0
	for k, n := range fake.rpRows {
		assert.Equal(t, y, fake.rpY0[k], "chunks follow each other")
		assert.LessOrEqual(t, reprojectBytes(a, y, n), r.budget, "chunk %d of %d rows", k+1, n)
		y += n
	}
	assert.Equal(t, c.h, y, "chunks cover the band")
	rep := r.Report()[0]
	assert.Equal(t, len(fake.rpRows), rep.ChunksGPU)
	assert.Equal(t, slicesMax(fake.rpRows), rep.RowsPerChunk)
}

func slicesMax(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// The window that sizes chunks holds every source row the CPU kernel reads for the band.
func TestReprojectWindowHoldsEveryTapOfTheBand(t *testing.T) {
	c := newRPCase()
	warp := cpu.NewCoordGrid(c.w, c.h, 8, func(x, y float64) (float64, float64, bool) {
		return 0.7*x + 0.002*x*y + 3.1, 0.75*y - 0.001*x*x + 5.2, true
	})
	// A tall source: a band of output rows reads a small part of it.
	const tallW, tallH, tallSH = 40, 300, 400
	tall := cpu.NewCoordGrid(tallW, tallH, 16, func(x, y float64) (float64, float64, bool) { return x, 1.2*y + 3, true })
	for _, tc := range []struct {
		g        *cpu.CoordGrid
		w, h, sh int
	}{{c.grid, c.w, c.h, c.sh}, {warp, c.w, c.h, c.sh}, {tall, tallW, tallH, tallSH}} {
		for _, band := range [][2]int{{0, tc.h}, {0, 1}, {20, 13}, {tc.h - 5, 5}} {
			r0, r1 := reprojectWindow(tc.g, band[0], band[1], tc.sh)
			for y := band[0]; y < band[0]+band[1]; y++ {
				for x := range tc.w {
					_, iy := tc.g.At(float64(x), float64(y))
					if !(iy >= -0.5 && iy <= float64(tc.sh)-0.5) {
						continue
					}
					lo := min(max(int(math.Floor(iy))-2, 0), tc.sh-1)
					hi := min(max(int(math.Floor(iy))+3, 0), tc.sh-1)
					require.True(t, lo >= r0 && hi < r1, "band %v pixel (%d, %d) reads rows %d…%d, window [%d, %d)", band, x, y, lo, hi, r0, r1)
				}
			}
		}
	}
	r0, r1 := reprojectWindow(tall, 100, 20, tallSH)
	assert.Less(t, r1-r0, tallSH/2, "a 20-row band reads rows [%d, %d) of %d", r0, r1, tallSH)
}

func TestReprojectOverBudgetRunsOnTheCPU(t *testing.T) {
	c := newRPCase()
	var rec recorder
	fake := newReprojectFake()
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
	r.budget = 4 << 10 // 4 KiB: the grid alone does not fit
	want := c.cpu(t, 0, c.h, cpu.InterpLanczos3)
	assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpLanczos3)))
	assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpLanczos3)))
	assert.Empty(t, fake.rpRows, "the device is not tried")
	e := rec.one(t, "gpu_fallback_insufficient_memory")
	assert.Equal(t, "reason_reproject_over_budget", e.Params["reason_key"])
	assert.Equal(t, "101", e.Params["width"])
	assert.Equal(t, mib(4<<10), e.Params["allowed_mb"])
	assert.Equal(t, "reason_reproject_over_budget", rec.one(t, "reproject_using_cpu").Params["reason_key"])
	assert.Equal(t, 1, r.ForcedFallbacks(), "said once per shape")
	rep := r.Report()[0]
	assert.Equal(t, "cpu", rep.Backend)
	assert.Equal(t, 2, rep.ChunksCPU)
}

func TestReprojectGPUFailuresFallBackToTheCPU(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		key      string // the fallback event
		reason   string // its reason_key, "" when it has none
		gpuAfter bool   // whether Percentiles still uses the device
	}{
		{"out of memory", gpu.ErrOutOfMemory, "gpu_fallback_insufficient_memory", "reason_op_allocation_failed", true},
		{"too large", gpu.ErrTooLarge, "gpu_fallback_insufficient_memory", "reason_op_allocation_failed", true},
		{"device lost", gpu.ErrDeviceLost, "gpu_device_lost", "", false},
		{"compile error", gpu.ErrCompile, "gpu_fallback_runtime_error", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newRPCase()
			var rec recorder
			fake := newReprojectFake()
			fake.flip = true
			fake.failRP = func(call int) error {
				if call == 3 {
					return fmt.Errorf("fake: reproject call %d: %w", call, tc.err)
				}
				return nil
			}
			r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
			a := reprojectArgs{outWidth: c.w, rows: c.h, src: c.src, srcWidth: c.sw, srcHeight: c.sh, grid: c.grid}
			r.budget = reprojectBytes(a, 30, 12) // several chunks: the third fails
			want := c.cpu(t, 0, c.h, cpu.InterpLanczos3)
			got := c.run(t, r, 0, c.h, cpu.InterpLanczos3)
			done := fake.rpRows[0] + fake.rpRows[1]
			assert.Equal(t, bits(negated(want[:done*c.w])), bits(got[:done*c.w]), "finished chunks are kept")
			assert.Equal(t, bits(want[done*c.w:]), bits(got[done*c.w:]), "the CPU did the rest of the band")

			e := rec.one(t, tc.key)
			assert.Equal(t, Warn, e.Level)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, e.Params["reason_key"])
				assert.Equal(t, "reproject", e.Params["operation"])
			}
			assert.Contains(t, fmt.Sprint(e.Params["reason"], e.Params["error"]), tc.err.Error())
			assert.Equal(t, "reproject", rec.one(t, "gpu_forced_fallback").Params["operation"])

			calls := len(fake.rpRows)
			assert.Equal(t, bits(c.cpu(t, 5, 9, cpu.InterpBicubic)), bits(c.run(t, r, 5, 9, cpu.InterpBicubic)))
			assert.Len(t, fake.rpRows, calls, "later calls stay on the CPU")
			rep := r.Report()[0]
			assert.Equal(t, "gpu+cpu", rep.Backend)
			assert.Equal(t, 2, rep.ChunksGPU)
			assert.Equal(t, 2, rep.ChunksCPU)
			require.Len(t, rep.Fallbacks, 1)
			assert.Equal(t, Fallback{Key: tc.key, Reason: rep.Fallbacks[0].Reason, Call: 1, Chunk: 3, Forced: true}, rep.Fallbacks[0])

			_, err := r.Percentiles(t.Context(), c.src, 50)
			require.NoError(t, err)
			assert.Equal(t, tc.gpuAfter, fake.opCalls["percentiles"] == 1, "other kernels keep the GPU unless it is lost")
			if !tc.gpuAfter {
				assert.Equal(t, "reason_device_lost", r.OffParams()["reason_key"])
			}
		})
	}
}

func TestReprojectWithoutAGPUKernelRunsOnTheCPU(t *testing.T) {
	c := newRPCase()
	tests := []struct {
		name   string
		open   OpenFunc
		reason string // reason_key of reproject_using_cpu
		key    string // Fallback key in the report
	}{
		{"a device without Reproject", func(context.Context, gpu.Options) (Device, error) {
			return noReprojectDevice{newFake(hardware())}, nil
		}, "reason_no_reproject_kernel", "reproject_using_cpu"},
		{"no adapter", failOpen(gpu.ErrNoAdapter), "reason_no_adapter", "gpu_fallback_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), tc.open)
			want := c.cpu(t, 0, c.h, cpu.InterpBilinear)
			assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpBilinear)))
			assert.Equal(t, bits(want), bits(c.run(t, r, 0, c.h, cpu.InterpBilinear)))
			e := rec.one(t, "reproject_using_cpu")
			assert.Equal(t, Info, e.Level)
			assert.Equal(t, tc.reason, e.Params["reason_key"])
			assert.Positive(t, e.Params["workers"])
			assert.Empty(t, rec.find("reproject_using_gpu"))
			assert.Equal(t, 1, r.ForcedFallbacks(), "counted once under --backend gpu")
			rep := r.Report()[0]
			assert.Equal(t, "cpu", rep.Backend)
			assert.Equal(t, 2, rep.ChunksCPU)
			require.Len(t, rep.Fallbacks, 1)
			assert.Equal(t, tc.key, rep.Fallbacks[0].Key)
		})
	}
}

// Concurrent CPU calls (the pipeline reprojects several frames at once) give cpu.Reproject's
// bits whatever the interleaving; go test -race checks the bookkeeping.
func TestReprojectConcurrentCPUCallsAreBitIdentical(t *testing.T) {
	c := newRPCase()
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, nil)
	interps := []cpu.Interp{cpu.InterpBilinear, cpu.InterpBicubic, cpu.InterpLanczos3}
	type job struct {
		y0, rows int
		interp   cpu.Interp
	}
	var jobs []job
	for k := range 12 {
		rows := 20 + k*3
		jobs = append(jobs, job{y0: (k * 7) % (c.h - rows), rows: rows, interp: interps[k%3]})
	}
	got := make([][]float32, len(jobs))
	var wg sync.WaitGroup
	for k, j := range jobs {
		wg.Go(func() {
			dst := make([]float32, c.w*j.rows)
			opt := cpu.ReprojectOptions{Interp: j.interp, Workers: 1 + k%3}
			if err := r.Reproject(t.Context(), dst, c.w, j.y0, j.rows, c.src, c.sw, c.sh, c.grid, opt); err != nil {
				t.Error(err)
			}
			got[k] = dst
		})
	}
	wg.Wait()
	for k, j := range jobs {
		assert.Equal(t, bits(c.cpu(t, j.y0, j.rows, j.interp)), bits(got[k]), "job %d", k)
	}
	rep := r.Report()[0]
	assert.Equal(t, len(jobs), rep.Calls)
	assert.Equal(t, len(jobs), rep.ChunksCPU)
}

// While a CPU call computes, the Runner's lock is free: its bookkeeping is visible before its
// pixels are done (a Runner holding the lock would show both at once).
func TestReprojectCPUCallDoesNotHoldTheLock(t *testing.T) {
	const w, h = 1200, 900 // a few tenths of a second on one thread
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(i % 977)
	}
	g := cpu.NewCoordGrid(w, h, 16, func(x, y float64) (float64, float64, bool) { return 0.9*x + 0.3, 0.9*y + 0.7, true })
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, nil)
	done := make(chan error, 1)
	go func() {
		done <- r.Reproject(t.Context(), make([]float32, w*h), w, 0, h, src, w, h, g, cpu.ReprojectOptions{Interp: cpu.InterpLanczos3, Workers: 1})
	}()
	var rep []OpReport
	for len(rep) == 0 || rep[0].Calls == 0 {
		rep = r.Report()
	}
	assert.Zero(t, rep[0].ChunksCPU, "the call is counted while its pixels are still being computed")
	require.NoError(t, <-done)
	assert.Equal(t, 1, r.Report()[0].ChunksCPU)
}

func TestReprojectStopsWhenCancelled(t *testing.T) {
	c := newRPCase()
	for _, backend := range []Backend{BackendAuto, BackendCPU} {
		t.Run(string(backend), func(t *testing.T) {
			fake := newReprojectFake()
			r := NewRunnerWith(t.Context(), Options{Backend: backend}, nil, fake.opener())
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			dst := make([]float32, c.w*c.h)
			err := r.Reproject(ctx, dst, c.w, 0, c.h, c.src, c.sw, c.sh, c.grid, cpu.DefaultReprojectOptions())
			require.ErrorIs(t, err, context.Canceled)
			assert.Empty(t, fake.rpRows)
		})
	}
	// A GPU failure caused by the cancellation is an error, not a fallback.
	var rec recorder
	fake := newReprojectFake()
	ctx, cancel := context.WithCancel(t.Context())
	fake.failRP = func(int) error { cancel(); return fmt.Errorf("fake: %w", context.Canceled) }
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
	err := r.Reproject(ctx, make([]float32, c.w*c.h), c.w, 0, c.h, c.src, c.sw, c.sh, c.grid, cpu.DefaultReprojectOptions())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rec.find("gpu_fallback_runtime_error"))
	assert.Zero(t, r.Report()[0].ChunksCPU)
}

func TestReprojectRejectsBadArguments(t *testing.T) {
	c := newRPCase()
	short := cpu.NewCoordGrid(c.w, 10, 4, func(x, y float64) (float64, float64, bool) { return x, y, true })
	tests := []struct {
		name     string
		dst      []float32
		w, y0, n int
		src      []float32
		grid     *cpu.CoordGrid
		opt      cpu.ReprojectOptions
		want     error
	}{
		{"unknown kernel", make([]float32, c.w), c.w, 0, 1, c.src, c.grid, cpu.ReprojectOptions{Interp: "nearest"}, cpu.ErrInvalidOptions},
		{"negative workers", make([]float32, c.w), c.w, 0, 1, c.src, c.grid, cpu.ReprojectOptions{Interp: cpu.InterpBilinear, Workers: -1}, cpu.ErrInvalidOptions},
		{"dst of the wrong length", make([]float32, c.w+1), c.w, 0, 1, c.src, c.grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"zero width", nil, 0, 0, 0, c.src, c.grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"negative y0", make([]float32, c.w), c.w, -1, 1, c.src, c.grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"src of the wrong length", make([]float32, c.w), c.w, 0, 1, c.src[1:], c.grid, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"nil grid", make([]float32, c.w), c.w, 0, 1, c.src, nil, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"grid too short for the band", make([]float32, c.w*5), c.w, 20, 5, c.src, short, cpu.DefaultReprojectOptions(), cpu.ErrShape},
		{"inconsistent grid", make([]float32, c.w), c.w, 0, 1, c.src, &cpu.CoordGrid{Step: 16, NX: 9, NY: 6}, cpu.DefaultReprojectOptions(), cpu.ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newReprojectFake()
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, nil, fake.opener())
			err := r.Reproject(t.Context(), tc.dst, tc.w, tc.y0, tc.n, tc.src, c.sw, c.sh, tc.grid, tc.opt)
			require.ErrorIs(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "compute: "), err.Error())
			// cpu.Reproject rejects the same call.
			require.ErrorIs(t, cpu.Reproject(tc.dst, tc.w, tc.y0, tc.n, tc.src, c.sw, c.sh, tc.grid, tc.opt), tc.want)
			assert.Empty(t, fake.rpRows)
		})
	}
}

// The reasons Reproject decides itself are said in French to a French user.
func TestReprojectReasonsRenderInFrench(t *testing.T) {
	cat, err := locales.Load()
	require.NoError(t, err)
	en, fr := cat.Localizer("en"), cat.Localizer("fr")
	enRaw, err := locales.Raw("en")
	require.NoError(t, err)
	for _, why := range []reason{reasonNoReprojectKernel("FakeGPU 3000"), reasonReprojectOverBudget(4096, 6000, 4000, 3<<20, 1<<20, 2<<20)} {
		t.Run(why.key, func(t *testing.T) {
			p := why.eventParams()
			for _, name := range locales.Placeholders(enRaw[why.key]) {
				assert.Contains(t, p, name, "placeholder {%s} of %s", name, why.key)
			}
			msg := fr.Event("reproject_using_cpu", why.into(map[string]any{"workers": 2}))
			t.Log(msg)
			assert.True(t, strings.HasPrefix(msg, "reprojection sur le CPU (threads par appel : 2) : "), msg)
			assert.NotContains(t, msg, "{")
			assert.NotContains(t, msg, "needs")
			assert.NotEqual(t, en.T(why.key, p), fr.T(why.key, p))
		})
	}
}
