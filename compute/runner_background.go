package compute

import (
	"context"
	"fmt"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// backgroundSubtracter is the background kernel of *gpu.Device, optional as debayerer is.
type backgroundSubtracter interface {
	SubtractBackground(ctx context.Context, dst, src []float32, width, height, channels int, m cpu.BackgroundModel) error
}

var _ backgroundSubtracter = (*gpu.Device)(nil)

// SubtractBackground computes cpu.SubtractBackground (same arguments, same meaning; dst may
// be src) on the GPU when it is usable and on the CPU otherwise, with Percentiles' fallback
// policy; the operation is reported as "background". Both backends give the same bits. The
// model comes from cpu.FitBackground, which always runs on the CPU (a small reduction over a
// grid of boxes). Invalid arguments are errors (wrapping cpu.ErrShape or
// cpu.ErrInvalidOptions), as is a cancelled ctx.
//
// When dst is src and the GPU fails part-way, the CPU fallback would subtract twice from the
// rows already written; the GPU therefore writes to a scratch copy in that case.
func (r *Runner) SubtractBackground(ctx context.Context, dst, src []float32, width, height, channels int, m cpu.BackgroundModel) error {
	if err := cpu.CheckBackground(dst, src, width, height, channels, m); err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	var cpuErr error
	err := r.whole(ctx, wholeOp{
		name:  "background",
		bytes: 8 * int64(len(src)),
		gpu: func(d Device) error {
			k, ok := d.(backgroundSubtracter)
			if !ok {
				return fmt.Errorf("compute: background: device has no kernel: %w", gpu.ErrUnsupported)
			}
			if &dst[0] != &src[0] {
				return k.SubtractBackground(ctx, dst, src, width, height, channels, m)
			}
			out := make([]float32, len(dst))
			if err := k.SubtractBackground(ctx, out, src, width, height, channels, m); err != nil {
				return err
			}
			copy(dst, out)
			return nil
		},
		cpu: func() { cpuErr = cpu.SubtractBackground(dst, src, width, height, channels, m) },
	})
	if err != nil {
		return err
	}
	return cpuErr
}
