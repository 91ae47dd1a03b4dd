package gpu

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogpu/wgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

func TestOpenReportsAdapter(t *testing.T) {
	d := sharedDevice(t)
	info := d.Info()
	t.Logf("adapter: %+v (software=%v)", info, info.Software())
	assert.NotEmpty(t, info.Name)
	lim := d.Limits()
	assert.NotZero(t, lim.MaxStorageBufferBindingSize, "full limits requested, not a partial struct")
	assert.NotZero(t, lim.MaxComputeWorkgroupsPerDimension)
	assert.NotZero(t, lim.MaxStorageBuffersPerShaderStage)
}

func TestOpenRefusesSoftwareAdapterUnlessAllowed(t *testing.T) {
	if !sharedDevice(t).Info().Software() {
		t.Skip("the adapter is hardware; nothing to refuse")
	}
	opt := testOptions()
	opt.AllowSoftware = false
	_, err := Open(context.Background(), opt)
	require.ErrorIs(t, err, ErrNoAdapter)
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"negative workgroup", func(o *Options) { o.WorkgroupSize = -1 }},
		{"negative max workgroups", func(o *Options) { o.MaxWorkgroupsPerDim = -1 }},
		{"negative timeout", func(o *Options) { o.MapTimeout = -time.Second }},
		{"negative fault count", func(o *Options) { o.Faults.OOMAt = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.mod(&o)
			require.Error(t, o.Validate())
			_, err := Open(context.Background(), o)
			require.Error(t, err)
		})
	}
}

func TestBuffersAndPipelinesAreReusedAcrossCalls(t *testing.T) {
	d := openDevice(t, testOptions())
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 40, 2, 6)
	run := func() {
		require.NoError(t, d.StackMean(context.Background(), make([]float32, b.pixels()), make([]uint32, b.pixels()), b.src, b.norm, b.weights, b.width))
	}
	run()
	first := d.Stats()
	run()
	run()
	again := d.Stats()
	assert.Equal(t, 1, again.Pipelines, "one compile for one (shader, consts)")
	assert.Equal(t, first.Allocations, again.Allocations, "equal-sized chunks allocate once")
	assert.Equal(t, first.Submits+2, again.Submits)
	assert.Positive(t, again.PooledBytes)
}

func TestConcurrentCallersAreSerialisedAndCorrect(t *testing.T) {
	d := sharedDevice(t)
	const callers, rounds = 4, 3
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for c := range callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 9))
			for range rounds {
				b := randomBand(rng, 31+c, 2, 5+c) // different shapes per caller
				dst := make([]float32, b.pixels())
				kept := make([]uint32, b.pixels())
				if err := d.StackMean(context.Background(), dst, kept, b.src, b.norm, b.weights, b.width); err != nil {
					errs[c] = err
					return
				}
				want, wantKept := cpuStack(t, b, cpu.CombineMean)
				for j := range want {
					w, g := float64(want[j]), float64(dst[j])
					ok := kept[j] == wantKept[j]
					if math.IsNaN(w) {
						ok = ok && math.IsNaN(g)
					} else {
						ok = ok && math.Abs(g-w) <= meanTol(want[j], meanScale(b, j))
					}
					if !ok {
						errs[c] = fmt.Errorf("pixel %d: got %v (kept %d), want %v (kept %d)", j, g, kept[j], w, wantKept[j])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for c, err := range errs {
		assert.NoError(t, err, "caller %d got a wrong or failed result", c)
	}
}

func TestCancelledContextDoesNotLoseDevice(t *testing.T) {
	d := sharedDevice(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 8, 1, 2)
	err := d.StackMean(ctx, make([]float32, 8), nil, b.src, b.norm, b.weights, b.width)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, d.Lost())
	require.NoError(t, d.StackMean(context.Background(), make([]float32, 8), nil, b.src, b.norm, b.weights, b.width))
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// gcWarnings runs the GC until finalisers have had a chance and returns
// wgpu's "released by GC" warnings logged meanwhile.
func gcWarnings(log *syncBuffer) int {
	for range 5 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	return strings.Count(log.String(), "missing explicit Release")
}

func TestCloseReleasesEverything(t *testing.T) {
	// wgpu's GC cleanups warn through the default slog logger, not through
	// wgpu.SetLogger's: capture both.
	log := &syncBuffer{}
	capture := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	prevDefault, prev := slog.Default(), wgpu.Logger()
	slog.SetDefault(capture)
	wgpu.SetLogger(capture)
	t.Cleanup(func() { slog.SetDefault(prevDefault); wgpu.SetLogger(prev) })

	// Control: a buffer dropped without Release is reported, so the check
	// below can fail.
	leaky := openDevice(t, testOptions())
	require.NoError(t, leaky.send(context.Background(), func(_ context.Context, e *engine) error {
		_, err := e.dev.CreateBuffer(&wgpu.BufferDescriptor{Label: "leak", Size: 256, Usage: wgpu.BufferUsageStorage})
		return err
	}))
	require.Positive(t, gcWarnings(log), "the GC warning must be observable")
	require.NoError(t, leaky.Close())
	before := gcWarnings(log)

	d := openDevice(t, testOptions())
	b := randomBand(rand.New(rand.NewPCG(1, 2)), 50, 3, 8)
	for _, c := range []cpu.Combine{cpu.CombineMean, cpu.CombineMax} {
		opt := cpu.DefaultStackOptions()
		opt.Reject, opt.Combine = cpu.RejectNone, c
		_, err := d.StackBand(context.Background(), make([]float32, b.pixels()), make([]uint32, b.pixels()), b.src, b.norm, b.weights, b.width, opt)
		require.NoError(t, err)
	}
	require.Positive(t, d.Stats().LiveBuffers)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
	assert.Zero(t, d.Stats().LiveBuffers, "every buffer released")
	assert.Equal(t, before, gcWarnings(log), "no object left for the GC: %s", log.String())

	err := d.StackMean(context.Background(), make([]float32, 2), nil, [][]float32{{1, 2}}, nil, nil, 2)
	require.ErrorIs(t, err, ErrClosed)
}
