package gpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// A typical band: 32 frames × 1920 px × 64 rows (15.7 MB of input).
// Run: go test ./compute/gpu -run '^$' -bench StackMean -benchtime 10x
func benchBand() band { return randomBand(rand.New(rand.NewPCG(1, 2)), 1920, 64, 32) }

func BenchmarkStackMeanGPU(b *testing.B) {
	d := sharedDevice(b)
	bd := benchBand()
	dst := make([]float32, bd.pixels())
	kept := make([]uint32, bd.pixels())
	if err := d.StackMean(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width); err != nil {
		b.Fatal(err) // warm-up: pipeline compile and buffer allocation
	}
	b.SetBytes(int64(4 * bd.pixels() * len(bd.src)))
	b.ResetTimer()
	for range b.N {
		if err := d.StackMean(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStackMeanCPU(b *testing.B) {
	bd := benchBand()
	dst := make([]float32, bd.pixels())
	kept := make([]uint32, bd.pixels())
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = cpu.RejectNone, cpu.CombineMean
	b.SetBytes(int64(4 * bd.pixels() * len(bd.src)))
	for range b.N {
		if st := cpu.StackBand(dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt); st.Err != nil {
			b.Fatal(st.Err)
		}
	}
}
