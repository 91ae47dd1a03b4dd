package compute

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// Percentiles computes cpu.Percentiles (same arguments, same meaning) on the GPU when it is
// usable and on the CPU otherwise; the operation is reported as "percentiles". The GPU result
// equals the CPU's bit for bit, except that a zero percentile may be +0 where the CPU gives −0
// (see gpu.Device.Percentiles). The fallback policy is StackBand's, without the Runner's
// chunking (the device streams large inputs itself):
//
//   - allocation failure (gpu.ErrOutOfMemory, gpu.ErrTooLarge): this call and later ones run
//     on the CPU (gpu_fallback_insufficient_memory);
//   - device lost (gpu.ErrDeviceLost): the GPU is off for the run (gpu_device_lost);
//   - any other error (gpu.ErrCompile, gpu.ErrUnsupported, validation): percentiles run on the
//     CPU for the rest of the run (gpu_fallback_runtime_error).
//
// Errors are returned only for a cancelled ctx.
func (r *Runner) Percentiles(ctx context.Context, x []float32, ps ...float64) ([]float64, error) {
	var out []float64
	err := r.whole(ctx, wholeOp{
		name:  "percentiles",
		bytes: 4 * int64(len(x)),
		gpu: func(d Device) error {
			var err error
			out, err = d.Percentiles(ctx, x, ps...)
			return err
		},
		cpu: func() { out = cpu.Percentiles(x, ps...) },
	})
	return out, err
}

// StretchNRGBA computes cpu.StretchNRGBA (same arguments, same meaning) on the GPU when it is
// usable and on the CPU otherwise, with Percentiles' fallback policy; the operation is reported
// as "stretch" and announced once by preview_using_gpu or preview_using_cpu. Both backends give
// the same bytes.
//
// Unlike cpu.StretchNRGBA, invalid options (cpu.ErrInvalidOptions), channels other than 1 or 3
// or a pix whose length is not width·height·channels (cpu.ErrShape) are errors, as is a
// cancelled ctx.
func (r *Runner) StretchNRGBA(ctx context.Context, pix []float32, width, height, channels int, opt cpu.StretchOptions) (*image.NRGBA, error) {
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("compute: %w: stretch needs 1 or 3 channels, got %d", cpu.ErrShape, channels)
	}
	if width <= 0 || height <= 0 || len(pix) != width*height*channels {
		return nil, fmt.Errorf("compute: %w: stretch of %d×%d×%d needs that many samples, got %d", cpu.ErrShape, width, height, channels, len(pix))
	}
	var img *image.NRGBA
	err := r.whole(ctx, wholeOp{
		name:     "stretch",
		bytes:    4*int64(len(pix)) + 4*int64(width)*int64(height),
		announce: "preview_using",
		gpu: func(d Device) error {
			var err error
			img, err = d.StretchNRGBA(ctx, pix, width, height, channels, opt)
			return err
		},
		cpu: func() { img = cpu.StretchNRGBA(pix, width, height, channels, opt) },
	})
	return img, err
}

// wholeOp is an operation that the Runner sends to the device in one call.
type wholeOp struct {
	name     string // the OpReport name, also the key of r.disabled
	bytes    int64  // input and output bytes, for the insufficient-memory event
	announce string // event key prefix: announce+"_gpu" / announce+"_cpu"; "" says nothing
	gpu      func(Device) error
	cpu      func()
}

// whole runs op on the GPU when it is usable and not disabled for op, and on the CPU otherwise
// or after a GPU failure, classified as StackBand classifies its chunks. The GPU part holds
// the Runner's lock (one goroutine owns the device); the CPU part runs outside it, so callers
// on several goroutines (a run preprocesses frames in parallel) compute at the same time and
// only their bookkeeping is serialised.
func (r *Runner) whole(ctx context.Context, op wholeOp) error {
	start := time.Now()
	if done, err := r.wholeOnGPU(ctx, op, start); done {
		return err
	}
	t0 := time.Now()
	op.cpu()
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op(op.name)
	o.CPUSeconds += time.Since(t0).Seconds()
	o.ChunksCPU++
	o.Seconds += time.Since(start).Seconds()
	return nil
}

// wholeOnGPU is the part of whole under the lock: it runs op on the GPU when it may, and says
// whether op is done (with its error); not done means the CPU must run it.
func (r *Runner) wholeOnGPU(ctx context.Context, op wholeOp, start time.Time) (done bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op(op.name)
	o.Calls++
	finish := func(err error) (bool, error) {
		o.Seconds += time.Since(start).Seconds()
		return true, err
	}
	if err := ctx.Err(); err != nil {
		return finish(fmt.Errorf("compute: %s: %w", op.name, err))
	}
	why := r.wholePlan(o, op.name)
	if why.text == "" {
		if op.announce != "" {
			r.announce(o, op.announce+"_gpu", map[string]any{"adapter": r.info.Name})
		}
		t0 := time.Now()
		err := op.gpu(r.dev)
		o.GPUSeconds += time.Since(t0).Seconds()
		if err == nil {
			o.ChunksGPU++
			return finish(nil)
		}
		if ctx.Err() != nil {
			return finish(fmt.Errorf("compute: %s: %w", op.name, err))
		}
		r.wholeFailed(o, op, err)
	} else if op.announce != "" {
		r.announce(o, op.announce+"_cpu", why.eventParams())
	}
	return false, nil
}

// wholePlan returns why op must run on the CPU, or no reason when the GPU may try it.
func (r *Runner) wholePlan(o *OpReport, name string) reason {
	switch {
	case r.dev == nil || r.off.text != "":
		// The event was emitted when the GPU went off; this operation's report still needs it.
		if len(o.Fallbacks) == 0 {
			r.recordOnly(o, r.offKey, r.off)
		}
		return r.off
	case r.disabled[name].text != "":
		return r.disabled[name]
	}
	return reason{}
}

// wholeFailed classifies a GPU failure of op and records the fallback. The device already cut
// the work into pieces that fit its buffers, so an allocation failure is not retried smaller:
// the operation stays on the CPU for the run, since the memory that was missing is most likely
// still missing. Other kernels keep the GPU.
func (r *Runner) wholeFailed(o *OpReport, op wholeOp, err error) {
	switch {
	case errors.Is(err, gpu.ErrOutOfMemory) || errors.Is(err, gpu.ErrTooLarge):
		why := reasonOpAllocationFailed(op.name, op.bytes, err)
		r.disabled[op.name] = why
		r.fallback(o, "gpu_fallback_insufficient_memory", why, 1, why.into(map[string]any{
			"estimated_mb": mib(op.bytes), "allowed_mb": mib(r.budget),
		}))
	case errors.Is(err, gpu.ErrDeviceLost):
		r.off, r.offKey = reasonDeviceLost(err), "gpu_device_lost"
		// See StackBand: a device lost in a readback timeout must not be released.
		r.keepLost = errors.Is(err, context.DeadlineExceeded)
		r.fallback(o, "gpu_device_lost", r.off, 1, map[string]any{"error": err.Error(), "chunk": 1})
	default:
		r.disabled[op.name] = reasonGPUError(err)
		r.fallback(o, "gpu_fallback_runtime_error", reasonGPUError(err), 1, map[string]any{"error": err.Error()})
	}
}
