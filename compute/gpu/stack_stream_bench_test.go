package gpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// BenchmarkGPUStackStreamed times the streamed winsor/mean rule (2000
// frames × 1920 px × 4 rows, 61 MB of input, with cosmic rays) on the GPU,
// in one block and in blocks of 256 frames, against cpu.StackBand
// (GOMAXPROCS workers); compare gpu-… with cpu.
// Run: go test ./compute/gpu -run '^$' -bench GPUStackStreamed -benchtime 3x
func BenchmarkGPUStackStreamed(b *testing.B) {
	bd := outlierBand(rand.New(rand.NewPCG(1, 2)), 1920, 4, 2000)
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = cpu.RejectWinsor, cpu.CombineMean
	dst := make([]float32, bd.pixels())
	kept := make([]uint32, bd.pixels())
	run := func(b *testing.B, stack func() error) {
		if err := stack(); err != nil { // warm-up: compile, allocate
			b.Fatal(err)
		}
		b.SetBytes(int64(4 * bd.pixels() * len(bd.src)))
		b.ResetTimer()
		for range b.N {
			if err := stack(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("gpu-band", func(b *testing.B) {
		d := sharedDevice(b)
		run(b, func() error {
			_, err := d.StackBand(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt)
			return err
		})
	})
	b.Run("gpu-blocks-256", func(b *testing.B) {
		d := sharedDevice(b)
		run(b, func() error {
			_, err := d.StackBandBlocks(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt, 256)
			return err
		})
	})
	b.Run("cpu", func(b *testing.B) {
		run(b, func() error { return cpu.StackBand(dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt).Err })
	})
}
