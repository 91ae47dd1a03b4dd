package gpu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// BenchmarkGPUStackBandBlocks times StackBandBlocks (300 frames × 1920 px ×
// 16 rows, 35 MiB of input, mean) for a few block sizes against StackBand
// (all frames in one buffer) and cpu.StackBand (GOMAXPROCS workers).
// Run: go test ./compute/gpu -run '^$' -bench GPUStackBandBlocks -benchtime 3x
func BenchmarkGPUStackBandBlocks(b *testing.B) {
	bd := randomBand(rand.New(rand.NewPCG(1, 2)), 1920, 16, 300)
	opt := noneOpt(cpu.CombineMean)
	dst := make([]float32, bd.pixels())
	kept := make([]uint32, bd.pixels())
	bytes := int64(4 * bd.pixels() * len(bd.src))
	run := func(b *testing.B, stack func() error) {
		if err := stack(); err != nil { // warm-up: compile, allocate
			b.Fatal(err)
		}
		b.SetBytes(bytes)
		b.ResetTimer()
		for range b.N {
			if err := stack(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, fpb := range []int{8, 32, 300} {
		b.Run(fmt.Sprintf("blocks-%d", fpb), func(b *testing.B) {
			d := sharedDevice(b)
			run(b, func() error {
				_, err := d.StackBandBlocks(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt, fpb)
				return err
			})
		})
	}
	b.Run("band", func(b *testing.B) {
		d := sharedDevice(b)
		run(b, func() error {
			_, err := d.StackBand(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt)
			return err
		})
	})
	b.Run("cpu", func(b *testing.B) {
		run(b, func() error { return cpu.StackBand(dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt).Err })
	})
}
