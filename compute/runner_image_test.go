package compute

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// testImage is a 3-channel CHW image with NaN holes, a flat-ish channel and outliers.
type testImage struct {
	w, h, c int
	pix     []float32
}

func newImage() testImage {
	rng := rand.New(rand.NewPCG(1, 2))
	im := testImage{w: 37, h: 23, c: 3}
	im.pix = make([]float32, im.w*im.h*im.c)
	for i := range im.pix {
		im.pix[i] = float32(500 + 80*rng.NormFloat64())
		if rng.IntN(15) == 0 {
			im.pix[i] = float32(math.NaN())
		}
		if rng.IntN(40) == 0 {
			im.pix[i] *= 30
		}
	}
	return im
}

var testPs = []float64{0, 1, 25, 50, 99.9, 100, 150}

// wholeOps drives the two whole operations the same way: run returns the Runner's result as
// bytes, cpu the CPU reference, flipped what the fake GPU returns with flip set.
var wholeOps = []struct {
	op       string
	announce string // "" when the operation announces nothing
	run      func(t *testing.T, r *Runner, im testImage) string
	cpu      func(im testImage) string
	flipped  func(im testImage) string
}{
	{
		op: "percentiles",
		run: func(t *testing.T, r *Runner, im testImage) string {
			got, err := r.Percentiles(t.Context(), im.pix, testPs...)
			require.NoError(t, err)
			return floatsKey(got)
		},
		cpu: func(im testImage) string { return floatsKey(cpu.Percentiles(im.pix, testPs...)) },
		flipped: func(im testImage) string {
			p := cpu.Percentiles(im.pix, testPs...)
			for i := range p {
				p[i] = -p[i]
			}
			return floatsKey(p)
		},
	},
	{
		op: "stretch", announce: "preview_using",
		run: func(t *testing.T, r *Runner, im testImage) string {
			got, err := r.StretchNRGBA(t.Context(), im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions())
			require.NoError(t, err)
			require.Equal(t, im.w, got.Bounds().Dx())
			return string(got.Pix)
		},
		cpu: func(im testImage) string {
			return string(cpu.StretchNRGBA(im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions()).Pix)
		},
		flipped: func(im testImage) string {
			pix := cpu.StretchNRGBA(im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions()).Pix
			for i := range pix {
				pix[i] ^= 0xff
			}
			return string(pix)
		},
	},
}

// floatsKey compares float64 slices bit for bit (NaN included).
func floatsKey(v []float64) string {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = fmt.Appendf(b, "%016x,", math.Float64bits(x))
	}
	return string(b)
}

func TestWholeOpsUseTheGPUWhenUsable(t *testing.T) {
	im := newImage()
	for _, w := range wholeOps {
		t.Run(w.op, func(t *testing.T) {
			var rec recorder
			fake := newFake(hardware())
			fake.flip = true
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
			defer r.Close()
			assert.Equal(t, w.flipped(im), w.run(t, r, im), "the device answered")
			assert.Equal(t, w.flipped(im), w.run(t, r, im))
			assert.Equal(t, 2, fake.opCalls[w.op])
			if w.announce != "" {
				assert.Equal(t, []string{"gpu_info_summary", w.announce + "_gpu"}, rec.keys())
				assert.Equal(t, "FakeGPU 3000", rec.one(t, w.announce+"_gpu").Params["adapter"])
			} else {
				assert.Equal(t, []string{"gpu_info_summary"}, rec.keys())
			}
			rep := r.Report()
			require.Len(t, rep, 1)
			assert.Equal(t, OpReport{Op: w.op, Backend: "gpu", Calls: 2, ChunksGPU: 2,
				GPUSeconds: rep[0].GPUSeconds, Seconds: rep[0].Seconds}, rep[0])
		})
	}
}

func TestWholeOpsWithoutAGPURunOnTheCPU(t *testing.T) {
	im := newImage()
	for _, w := range wholeOps {
		for _, backend := range []Backend{BackendAuto, BackendGPU, BackendCPU} {
			t.Run(w.op+"/"+string(backend), func(t *testing.T) {
				var rec recorder
				r := NewRunnerWith(t.Context(), Options{Backend: backend}, rec.sink(), failOpen(gpu.ErrNoAdapter))
				assert.Equal(t, w.cpu(im), w.run(t, r, im))
				assert.Equal(t, w.cpu(im), w.run(t, r, im))
				why := "reason_no_adapter"
				if backend == BackendCPU {
					why = "reason_backend_cpu"
				}
				forced := 0
				if backend == BackendGPU {
					forced = 1
					f := rec.one(t, "gpu_forced_fallback")
					assert.Equal(t, Warn, f.Level)
					assert.Equal(t, w.op, f.Params["operation"])
					assert.Equal(t, why, f.Params["reason_key"])
				}
				assert.Len(t, rec.find("gpu_forced_fallback"), forced, "counted once per operation")
				assert.Equal(t, forced, r.ForcedFallbacks())
				if w.announce != "" {
					e := rec.one(t, w.announce+"_cpu")
					assert.Equal(t, Info, e.Level)
					assert.NotEmpty(t, e.Params["reason"])
					assert.Equal(t, why, e.Params["reason_key"])
				}
				rep := r.Report()[0]
				assert.Equal(t, "cpu", rep.Backend)
				assert.Equal(t, 2, rep.ChunksCPU)
				require.Len(t, rep.Fallbacks, 1)
				assert.Equal(t, "gpu_fallback_unavailable", rep.Fallbacks[0].Key)
			})
		}
	}
}

func TestWholeOpsAllocationFailureKeepsTheOperationOnTheCPU(t *testing.T) {
	im := newImage()
	for _, w := range wholeOps {
		for _, sentinel := range []error{gpu.ErrOutOfMemory, gpu.ErrTooLarge} {
			t.Run(w.op+"/"+sentinel.Error(), func(t *testing.T) {
				var rec recorder
				fake := newFake(hardware())
				fake.flip = true
				fake.failOp = func(op string, call int) error {
					if op == w.op && call == 1 {
						return fmt.Errorf("fake: allocate: %w", sentinel)
					}
					return nil
				}
				r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
				assert.Equal(t, w.cpu(im), w.run(t, r, im), "the CPU answered")
				e := rec.one(t, "gpu_fallback_insufficient_memory")
				assert.Equal(t, Warn, e.Level)
				assert.Contains(t, e.Params["reason"], sentinel.Error())
				assert.Contains(t, e.Params["reason"], w.op)
				assert.Equal(t, "reason_op_allocation_failed", e.Params["reason_key"])
				assert.Equal(t, w.op, e.Params["operation"])
				assert.Positive(t, e.Params["estimated_mb"])
				assert.Equal(t, 256.0, e.Params["allowed_mb"])
				assert.Empty(t, rec.find("gpu_forced_fallback"), "auto does not count forced fallbacks")

				assert.Equal(t, w.cpu(im), w.run(t, r, im))
				assert.Equal(t, 1, fake.opCalls[w.op], "the operation stays on the CPU")
				// The GPU stays on for the stack.
				b := newBand(3, 8, 4)
				requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
				assert.Equal(t, 1, fake.calls)
				rep := r.Report()[0]
				assert.Equal(t, OpReport{Op: w.op, Backend: "cpu", Calls: 2, ChunksCPU: 2, Fallbacks: rep.Fallbacks,
					GPUSeconds: rep.GPUSeconds, CPUSeconds: rep.CPUSeconds, Seconds: rep.Seconds}, rep)
				require.Len(t, rep.Fallbacks, 1)
				assert.Equal(t, Fallback{Key: "gpu_fallback_insufficient_memory", Reason: rep.Fallbacks[0].Reason, Call: 1, Chunk: 1}, rep.Fallbacks[0])
			})
		}
	}
}

func TestWholeOpsDeviceLostTurnsTheGPUOffForTheRun(t *testing.T) {
	im := newImage()
	for _, w := range wholeOps {
		t.Run(w.op, func(t *testing.T) {
			var rec recorder
			fake := newFake(hardware())
			fake.flip = true
			fake.failOp = func(op string, call int) error {
				if call == 2 {
					return fmt.Errorf("fake: submit: %w", gpu.ErrDeviceLost)
				}
				return nil
			}
			r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, rec.sink(), fake.opener())
			assert.Equal(t, w.flipped(im), w.run(t, r, im), "first call on the GPU")
			assert.Equal(t, w.cpu(im), w.run(t, r, im), "second call lost the device")
			e := rec.one(t, "gpu_device_lost")
			assert.Equal(t, Warn, e.Level)
			assert.Equal(t, 1, e.Params["chunk"])
			assert.Contains(t, e.Params["error"], "device lost")
			f := rec.one(t, "gpu_forced_fallback")
			assert.Equal(t, w.op, f.Params["operation"])

			assert.Equal(t, w.cpu(im), w.run(t, r, im))
			assert.Equal(t, 2, fake.opCalls[w.op], "a lost device is never called again")
			b := newBand(3, 8, 4)
			requireSame(t, b.cpu(t, noneOpt()), b.run(t, r, noneOpt()))
			assert.Zero(t, fake.calls, "the stack runs on the CPU too")
			assert.Equal(t, 2, r.ForcedFallbacks(), "the lost device, then the stack that could not use it")
			rep := r.Report()
			require.Len(t, rep, 2)
			assert.Equal(t, "gpu+cpu", rep[0].Backend)
			assert.Equal(t, 1, rep[0].ChunksGPU)
			assert.Equal(t, 2, rep[0].ChunksCPU)
			assert.Equal(t, Fallback{Key: "gpu_device_lost", Reason: rep[0].Fallbacks[0].Reason, Call: 2, Chunk: 1, Forced: true}, rep[0].Fallbacks[0])
			assert.Equal(t, "gpu_device_lost", rep[1].Fallbacks[0].Key)
			assert.Contains(t, r.Summary().GPUOff, "device lost")
			require.NoError(t, r.Close())
			assert.True(t, fake.closed)
		})
	}
}

func TestWholeOpsRuntimeErrorDisablesOnlyThatOperation(t *testing.T) {
	im := newImage()
	for _, w := range wholeOps {
		for _, sentinel := range []error{gpu.ErrCompile, gpu.ErrUnsupported, fmt.Errorf("validation: binding size")} {
			t.Run(w.op+"/"+sentinel.Error(), func(t *testing.T) {
				var rec recorder
				fake := newFake(hardware())
				fake.flip = true
				fake.failOp = func(op string, _ int) error {
					if op == w.op {
						return fmt.Errorf("fake: pipeline %s: %w", op, sentinel)
					}
					return nil
				}
				r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, rec.sink(), fake.opener())
				assert.Equal(t, w.cpu(im), w.run(t, r, im))
				assert.Equal(t, w.cpu(im), w.run(t, r, im))
				assert.Equal(t, 1, fake.opCalls[w.op], "the failing kernel is not tried again")
				e := rec.one(t, "gpu_fallback_runtime_error")
				assert.Equal(t, Warn, e.Level)
				assert.Contains(t, e.Params["error"], sentinel.Error())
				if w.announce != "" {
					assert.Empty(t, rec.find(w.announce+"_cpu"), "the warning already said where it runs")
				}
				// The other operation still uses the GPU.
				for _, other := range wholeOps {
					if other.op != w.op {
						assert.Equal(t, other.flipped(im), other.run(t, r, im))
					}
				}
				assert.Equal(t, "cpu", r.Report()[0].Backend)
				assert.Equal(t, "gpu", r.Report()[1].Backend)
			})
		}
	}
}

func TestWholeOpsStopWhenCancelled(t *testing.T) {
	im := newImage()
	fake := newFake(hardware())
	ctx, cancel := context.WithCancel(t.Context())
	r := NewRunnerWith(ctx, Options{Backend: BackendAuto}, nil, fake.opener())
	cancel()
	_, err := r.Percentiles(ctx, im.pix, 50)
	require.ErrorIs(t, err, context.Canceled)
	_, err = r.StretchNRGBA(ctx, im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, fake.opCalls)

	// A failure caused by the cancellation is an error, not a fallback.
	var rec recorder
	ctx, cancel = context.WithCancel(t.Context())
	fake.failOp = func(string, int) error { cancel(); return fmt.Errorf("fake: %w", context.Canceled) }
	r = NewRunnerWith(ctx, Options{Backend: BackendAuto}, rec.sink(), fake.opener())
	_, err = r.StretchNRGBA(ctx, im.pix, im.w, im.h, im.c, cpu.DefaultStretchOptions())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, rec.find("gpu_fallback_runtime_error"))
}

func TestStretchRejectsBadArguments(t *testing.T) {
	im := newImage()
	bad := cpu.DefaultStretchOptions()
	bad.PHigh = bad.PLow
	tests := []struct {
		name    string
		w, h, c int
		opt     cpu.StretchOptions
		want    error
	}{
		{"invalid options", im.w, im.h, im.c, bad, cpu.ErrInvalidOptions},
		{"two channels", im.w, im.h, 2, cpu.DefaultStretchOptions(), cpu.ErrShape},
		{"wrong length", im.w + 1, im.h, im.c, cpu.DefaultStretchOptions(), cpu.ErrShape},
		{"zero width", 0, im.h, im.c, cpu.DefaultStretchOptions(), cpu.ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(hardware())
			r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto}, nil, fake.opener())
			img, err := r.StretchNRGBA(t.Context(), im.pix, tc.w, tc.h, tc.c, tc.opt)
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, img)
			assert.Empty(t, fake.opCalls)
		})
	}
}

// The CPU part of a whole operation runs outside the Runner's lock: while one call computes,
// another goroutine can use the Runner (here: read its report). Holding the lock would
// serialise every caller's CPU work (a run's parallel preprocessing) and would deadlock here.
func TestWholeOperationComputesOnTheCPUWithoutTheLock(t *testing.T) {
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, nil)
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- r.whole(t.Context(), wholeOp{name: "probe", cpu: func() {
			close(inside)
			<-release
		}})
	}()
	<-inside
	reported := make(chan []OpReport, 1)
	go func() { reported <- r.Report() }()
	select {
	case rep := <-reported:
		require.Len(t, rep, 1)
		assert.Equal(t, 1, rep[0].Calls)
		assert.Zero(t, rep[0].ChunksCPU, "counted when the CPU work ends")
	case <-time.After(10 * time.Second):
		t.Fatal("Report blocked while a CPU operation was computing: the lock is held")
	}
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, 1, r.Report()[0].ChunksCPU)
}
