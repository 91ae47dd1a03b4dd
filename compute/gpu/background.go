package gpu

import (
	"context"
	"fmt"

	"github.com/gogpu/gputypes"
	"github.com/zmosaic/zmosaic/cpu"
)

// backgroundBindings is the layout of shaders/background.wgsl.
var backgroundBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // source rows, f32 bits
	gputypes.BufferBindingTypeStorage,         // output band, f32 bits
	gputypes.BufferBindingTypeUniform,         // params
	gputypes.BufferBindingTypeReadOnlyStorage, // 1.0, su, ou, sv, ov, coefficients
}

// SubtractBackground computes on the GPU what cpu.SubtractBackground computes, bit for bit:
// dst = src − model for every finite sample of the CHW image src, non-finite samples copied.
// dst may be src. Arguments are checked as cpu.SubtractBackground checks them (errors wrap
// cpu.ErrShape or cpu.ErrInvalidOptions). The model is fitted on the CPU (cpu.FitBackground):
// only its per-pixel evaluation runs here.
//
// Each channel runs in bands of rows sized to the binding limit, with its own coefficients;
// every pixel is independent, so the result does not depend on the banding.
func (d *Device) SubtractBackground(ctx context.Context, dst, src []float32, width, height, channels int, m cpu.BackgroundModel) error {
	if err := cpu.CheckBackground(dst, src, width, height, channels, m); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	if width >= 1<<24 || height >= 1<<24 {
		return fmt.Errorf("gpu: background of %d×%d: %w", width, height, ErrTooLarge)
	}
	plane := width * height
	return d.do(ctx, func(ctx context.Context, e *engine) error {
		for c := range channels {
			p := m.Poly(c)
			aux := append([]float32{1, p.SU, p.OU, p.SV, p.OV}, p.Coeffs...)
			job := stencilJob{
				name: "background", bindings: backgroundBindings, halo: 0, planes: 1,
				params: []uint32{uint32(p.Degree)},
				aux:    aux,
			}
			bs := bufSet{e: e}
			err := e.stencil(ctx, &bs, job, dst[c*plane:(c+1)*plane], src[c*plane:(c+1)*plane], width, height)
			bs.done(err)
			if err != nil {
				return err
			}
		}
		return nil
	})
}
