package compute

import (
	"context"
	"fmt"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// debayerer and hotPixeler are the preprocessing kernels of *gpu.Device. They are optional
// interfaces rather than Device methods so that Device fakes need not implement them: a
// device without them falls back to the CPU as after an unsupported operation.
type debayerer interface {
	Debayer(ctx context.Context, dst, src []float32, width, height int, p cpu.BayerPattern) error
}

type hotPixeler interface {
	HotPixels(ctx context.Context, dst, src []float32, width, height int, opt cpu.HotPixelOptions) (int, error)
}

var (
	_ debayerer  = (*gpu.Device)(nil)
	_ hotPixeler = (*gpu.Device)(nil)
)

// Debayer computes cpu.Debayer (same arguments, same meaning) on the GPU when it is usable and
// on the CPU otherwise, with Percentiles' fallback policy; the operation is reported as
// "debayer". Both backends give the same bits. Invalid arguments are errors (wrapping
// cpu.ErrShape or cpu.ErrInvalidOptions), as is a cancelled ctx.
func (r *Runner) Debayer(ctx context.Context, dst, src []float32, width, height int, p cpu.BayerPattern) error {
	if _, err := cpu.ParseBayerPattern(p.String()); err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != 3*width*height {
		return fmt.Errorf("compute: %w: debayer: %d×%d needs %d source and %d output samples, got %d and %d",
			cpu.ErrShape, width, height, width*height, 3*width*height, len(src), len(dst))
	}
	var cpuErr error
	err := r.whole(ctx, wholeOp{
		name:  "debayer",
		bytes: 4 * int64(len(src)+len(dst)),
		gpu: func(d Device) error {
			k, ok := d.(debayerer)
			if !ok {
				return fmt.Errorf("compute: debayer: device has no kernel: %w", gpu.ErrUnsupported)
			}
			return k.Debayer(ctx, dst, src, width, height, p)
		},
		cpu: func() { cpuErr = cpu.Debayer(dst, src, width, height, p) },
	})
	if err != nil {
		return err
	}
	return cpuErr
}

// HotPixels computes cpu.HotPixels (same arguments, same meaning) on the GPU when it is usable
// and on the CPU otherwise, with Percentiles' fallback policy; the operation is reported as
// "hot_pixels". Both backends replace the same pixels by the same values. Invalid arguments
// are errors (wrapping cpu.ErrShape or cpu.ErrInvalidOptions), as is a cancelled ctx.
func (r *Runner) HotPixels(ctx context.Context, dst, src []float32, width, height int, opt cpu.HotPixelOptions) (int, error) {
	if err := opt.Validate(); err != nil {
		return 0, fmt.Errorf("compute: %w", err)
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != len(src) {
		return 0, fmt.Errorf("compute: %w: hot pixels: %d×%d needs %d samples, got src %d, dst %d",
			cpu.ErrShape, width, height, width*height, len(src), len(dst))
	}
	if &dst[0] == &src[0] {
		return 0, fmt.Errorf("compute: %w: hot pixels: dst and src must be different buffers", cpu.ErrShape)
	}
	var n int
	var cpuErr error
	err := r.whole(ctx, wholeOp{
		name:  "hot_pixels",
		bytes: 8 * int64(len(src)),
		gpu: func(d Device) error {
			k, ok := d.(hotPixeler)
			if !ok {
				return fmt.Errorf("compute: hot pixels: device has no kernel: %w", gpu.ErrUnsupported)
			}
			var err error
			n, err = k.HotPixels(ctx, dst, src, width, height, opt)
			return err
		},
		cpu: func() { n, cpuErr = cpu.HotPixels(dst, src, width, height, opt) },
	})
	if err != nil {
		return 0, err
	}
	return n, cpuErr
}
