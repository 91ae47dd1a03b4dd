package compute

import (
	"context"
	"image"

	"github.com/gogpu/wgpu"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// Device is what the Runner needs from a GPU. *gpu.Device is the real one (through OpenGPU);
// tests inject fakes that fail on cue.
type Device interface {
	// StackBand computes what cpu.StackBand computes, on the GPU, within the tolerance the
	// device documents; errors wrap the sentinels of package gpu.
	StackBand(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions) (cpu.StackStats, error)
	// StackBandBlocks is StackBand for kernels that stream frames (see streams), uploading
	// framesPerBlock frames at a time; same bits as StackBand.
	StackBandBlocks(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions, framesPerBlock int) (cpu.StackStats, error)
	// Percentiles computes what cpu.Percentiles computes, bit for bit (a zero may be +0 where
	// the CPU gives −0), streaming inputs larger than a buffer itself.
	Percentiles(ctx context.Context, x []float32, ps ...float64) ([]float64, error)
	// StretchNRGBA computes what cpu.StretchNRGBA computes, byte for byte; invalid arguments
	// are errors.
	StretchNRGBA(ctx context.Context, pix []float32, width, height, channels int, opt cpu.StretchOptions) (*image.NRGBA, error)
	// MaxFrames is how many samples per pixel the rejection kernels hold.
	MaxFrames() int
	Info() gpu.Info
	Limits() wgpu.Limits
	Close() error
}

// OpenFunc opens a Device; OpenGPU is the real one.
type OpenFunc func(ctx context.Context, opt gpu.Options) (Device, error)

// The real device satisfies the interface.
var _ Device = (*gpu.Device)(nil)

// OpenGPU opens a *gpu.Device as a Device.
func OpenGPU(ctx context.Context, opt gpu.Options) (Device, error) {
	d, err := gpu.Open(ctx, opt)
	if err != nil {
		return nil, err // not a nil *gpu.Device inside a non-nil interface
	}
	return d, nil
}
