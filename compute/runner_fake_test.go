package compute

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// fakeDevice computes with package cpu, so its output must equal the CPU reference bit for
// bit, and fails on cue.
type fakeDevice struct {
	info      gpu.Info
	lim       wgpu.Limits
	maxFrames int
	// fail returns the error of the call-th StackBand call (1-based) of rows rows; nil computes.
	fail func(call, rows int) error
	// mark adds this to every kept count the fake writes, so tests see which rows it did.
	mark uint32

	// failOp returns the error of the call-th call (1-based) of a whole operation ("percentiles",
	// "stretch"); nil computes.
	failOp func(op string, call int) error
	// flip, when set, changes whole operations' results so tests see which backend answered.
	flip bool

	calls      int
	blockCalls []int          // framesPerBlock of each StackBandBlocks call
	rows       []int          // rows asked of each call, failed ones included
	opCalls    map[string]int // calls of each whole operation, failed ones included
	lost       bool
	closed     bool
}

func (f *fakeDevice) StackBand(_ context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions) (cpu.StackStats, error) {
	f.calls++
	f.rows = append(f.rows, len(dst)/width)
	if f.lost {
		return cpu.StackStats{}, fmt.Errorf("fake: %w (earlier failure)", gpu.ErrDeviceLost)
	}
	if f.fail != nil {
		if err := f.fail(f.calls, len(dst)/width); err != nil {
			if isLost(err) {
				f.lost = true
			}
			return cpu.StackStats{}, err
		}
	}
	st := cpu.StackBand(dst, kept, src, norm, weights, width, opt)
	for i := range kept {
		kept[i] += f.mark
	}
	return st, st.Err
}

// whole counts a call of a whole operation and returns its injected error.
func (f *fakeDevice) whole(op string) error {
	if f.opCalls == nil {
		f.opCalls = map[string]int{}
	}
	f.opCalls[op]++
	if f.lost {
		return fmt.Errorf("fake: %w (earlier failure)", gpu.ErrDeviceLost)
	}
	if f.failOp != nil {
		if err := f.failOp(op, f.opCalls[op]); err != nil {
			if isLost(err) {
				f.lost = true
			}
			return err
		}
	}
	return nil
}

func (f *fakeDevice) Percentiles(_ context.Context, x []float32, ps ...float64) ([]float64, error) {
	if err := f.whole("percentiles"); err != nil {
		return nil, err
	}
	out := cpu.Percentiles(x, ps...)
	if f.flip {
		for i := range out {
			out[i] = -out[i]
		}
	}
	return out, nil
}

func (f *fakeDevice) StretchNRGBA(_ context.Context, pix []float32, width, height, channels int, opt cpu.StretchOptions) (*image.NRGBA, error) {
	if err := f.whole("stretch"); err != nil {
		return nil, err
	}
	img := cpu.StretchNRGBA(pix, width, height, channels, opt)
	if img == nil {
		return nil, errors.New("fake: invalid stretch arguments")
	}
	if f.flip {
		for i := range img.Pix {
			img.Pix[i] ^= 0xff
		}
	}
	return img, nil
}

// StackBandBlocks counts as a StackBand call and computes the same (frame blocks keep the
// summation order, so the CPU reference is the expected result).
func (f *fakeDevice) StackBandBlocks(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions, framesPerBlock int) (cpu.StackStats, error) {
	f.blockCalls = append(f.blockCalls, framesPerBlock)
	return f.StackBand(ctx, dst, kept, src, norm, weights, width, opt)
}

func isLost(err error) bool { return err != nil && errors.Is(err, gpu.ErrDeviceLost) }

func (f *fakeDevice) MaxFrames() int      { return f.maxFrames }
func (f *fakeDevice) Info() gpu.Info      { return f.info }
func (f *fakeDevice) Limits() wgpu.Limits { return f.lim }
func (f *fakeDevice) Close() error        { f.closed = true; return nil }
func (f *fakeDevice) opener() OpenFunc {
	return func(context.Context, gpu.Options) (Device, error) { return f, nil }
}
func failOpen(err error) OpenFunc {
	return func(context.Context, gpu.Options) (Device, error) { return nil, err }
}
func hardware() gpu.Info {
	return gpu.Info{Name: "FakeGPU 3000", Backend: gputypes.BackendVulkan, DeviceType: gputypes.DeviceTypeDiscreteGPU}
}
func software() gpu.Info {
	return gpu.Info{Name: "llvmpipe (fake)", Backend: gputypes.BackendVulkan, DeviceType: gputypes.DeviceTypeCPU}
}
func capLimits(bytes uint64) wgpu.Limits {
	return wgpu.Limits{MaxBufferSize: 2 * bytes, MaxStorageBufferBindingSize: bytes}
}
func newFake(info gpu.Info) *fakeDevice {
	return &fakeDevice{info: info, lim: capLimits(128 << 20), maxFrames: 64}
}
func oomAlways(int, int) error          { return fmt.Errorf("fake: allocate: %w", gpu.ErrOutOfMemory) }
func lostAt(n int) func(int, int) error { return failAt(n, gpu.ErrDeviceLost) }
func failAt(n int, e error) func(int, int) error {
	return func(call, _ int) error {
		if call == n {
			return fmt.Errorf("fake: call %d: %w", call, e)
		}
		return nil
	}
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) sink() Sink {
	return func(e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	}
}

// keys lists the event keys in order.
func (r *recorder) keys() []string {
	var k []string
	for _, e := range r.events {
		k = append(k, e.Key)
	}
	return k
}

// find returns the events with key.
func (r *recorder) find(key string) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

// one returns the single event with key, failing otherwise.
func (r *recorder) one(t *testing.T, key string) Event {
	t.Helper()
	ev := r.find(key)
	require.Len(t, ev, 1, "events %v", r.keys())
	return ev[0]
}

// testBand is a random stacking problem with NaN, weights and normalisation.
type testBand struct {
	width, rows int
	src         [][]float32
	norm        []cpu.Affine
	weights     []float32
}

func newBand(frames, width, rows int) testBand {
	rng := rand.New(rand.NewPCG(1, 2))
	b := testBand{width: width, rows: rows}
	for range frames {
		f := make([]float32, width*rows)
		for j := range f {
			f[j] = float32(1000 + 50*rng.NormFloat64())
			if rng.IntN(20) == 0 {
				f[j] = float32(math.NaN())
			}
			if rng.IntN(50) == 0 {
				f[j] += 9000 // an outlier for the rejections
			}
		}
		b.src = append(b.src, f)
		b.norm = append(b.norm, cpu.Affine{Gain: float32(0.5 + rng.Float64()), Offset: float32(100 * rng.NormFloat64())})
		b.weights = append(b.weights, float32(rng.Float64()))
	}
	return b
}

// out is a stack result.
type out struct {
	dst  []float32
	kept []uint32
	st   cpu.StackStats
}

func (b testBand) cpu(t *testing.T, opt cpu.StackOptions) out {
	t.Helper()
	o := out{dst: make([]float32, b.width*b.rows), kept: make([]uint32, b.width*b.rows)}
	o.st = cpu.StackBand(o.dst, o.kept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, o.st.Err)
	return o
}

func (b testBand) run(t *testing.T, r *Runner, opt cpu.StackOptions) out {
	t.Helper()
	o := out{dst: make([]float32, b.width*b.rows), kept: make([]uint32, b.width*b.rows)}
	var err error
	o.st, err = r.StackBand(t.Context(), o.dst, o.kept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, err)
	return o
}

// requireSame asserts bit-identical pixels, equal kept counts and equal statistics.
func requireSame(t *testing.T, want, got out) {
	t.Helper()
	require.Equal(t, len(want.dst), len(got.dst))
	for i := range want.dst {
		if math.Float32bits(want.dst[i]) != math.Float32bits(got.dst[i]) {
			t.Fatalf("pixel %d: want %v, got %v", i, want.dst[i], got.dst[i])
		}
	}
	require.Equal(t, want.kept, got.kept)
	require.Equal(t, want.st, got.st)
}

func noneOpt() cpu.StackOptions {
	o := cpu.DefaultStackOptions()
	o.Reject = cpu.RejectNone
	return o
}
