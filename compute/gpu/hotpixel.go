package gpu

import (
	"context"
	"fmt"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/zmosaic/zmosaic/cpu"
)

// hotpixelBindings is the layout of shaders/hotpixel.wgsl.
var hotpixelBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // source rows, f32 bits
	gputypes.BufferBindingTypeStorage,         // output band, f32 bits
	gputypes.BufferBindingTypeUniform,         // params
	gputypes.BufferBindingTypeReadOnlyStorage, // 1.0 and the reciprocals 1/n
}

// HotPixels computes on the GPU what cpu.HotPixels computes, bit for bit:
// dst is src with its hot pixels replaced by their neighbourhood median, and
// n is how many were replaced. Arguments are checked as cpu.HotPixels checks
// them (errors wrap cpu.ErrShape or cpu.ErrInvalidOptions).
//
// The image runs in bands of rows (with 2 rows of halo, 4 with opt.CFA) sized
// to the binding limit; the result does not depend on the banding. n is
// counted on the CPU as the pixels whose bits changed: a replaced pixel always
// changes, since it lies strictly above its median.
func (d *Device) HotPixels(ctx context.Context, dst, src []float32, width, height int, opt cpu.HotPixelOptions) (int, error) {
	if err := opt.Validate(); err != nil {
		return 0, fmt.Errorf("gpu: %w", err)
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != len(src) {
		return 0, fmt.Errorf("gpu: %w: hot pixels: %d×%d needs %d samples, got src %d, dst %d",
			cpu.ErrShape, width, height, width*height, len(src), len(dst))
	}
	if &dst[0] == &src[0] {
		return 0, fmt.Errorf("gpu: %w: hot pixels: dst and src must be different buffers", cpu.ErrShape)
	}
	if width >= 1<<24 || height >= 1<<24 {
		return 0, fmt.Errorf("gpu: hot pixels of %d×%d: %w", width, height, ErrTooLarge)
	}
	step := uint32(1)
	if opt.CFA {
		step = 2
	}
	aux := cpu.HotReciprocals()
	aux[0] = 1 // opaque()'s hidden 1.0; n ≥ 1 always (the centre is finite)
	job := stencilJob{
		name: "hotpixel", bindings: hotpixelBindings, halo: 2 * int(step), planes: 1,
		params: []uint32{
			step,
			floatWord(float32(opt.Threshold * opt.Threshold)),
			floatWord(float32(opt.Isolation)),
			floatWord(cpu.HotVarianceFloor),
		},
		aux: aux,
	}
	err := d.do(ctx, func(ctx context.Context, e *engine) error {
		bs := bufSet{e: e}
		err := e.stencil(ctx, &bs, job, dst, src, width, height)
		bs.done(err)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range src {
		if math.Float32bits(dst[i]) != math.Float32bits(src[i]) {
			n++
		}
	}
	return n, nil
}
