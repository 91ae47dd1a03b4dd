package gpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// A typical band: 32 frames × 1920 px × 64 rows (15.7 MB of input), with
// cosmic-ray-like outliers so that the rejection loops iterate.
func benchBand() band { return outlierBand(rand.New(rand.NewPCG(1, 2)), 1920, 64, 32) }

// BenchmarkGPUStackBand times StackBand per method against cpu.StackBand on
// the same band (GOMAXPROCS workers); compare gpu/… and cpu/… of one method.
// Run: go test ./compute/gpu -run '^$' -bench GPUStackBand -benchtime 5x
func BenchmarkGPUStackBand(b *testing.B) {
	bd := benchBand()
	methods := []struct {
		name    string
		reject  cpu.Reject
		combine cpu.Combine
	}{
		{"none-mean", cpu.RejectNone, cpu.CombineMean},
		{"none-median", cpu.RejectNone, cpu.CombineMedian},
		{"winsor-mean", cpu.RejectWinsor, cpu.CombineMean},
		{"kappa-mean", cpu.RejectKappa, cpu.CombineMean},
		{"linear-mean", cpu.RejectLinear, cpu.CombineMean},
	}
	dst := make([]float32, bd.pixels())
	kept := make([]uint32, bd.pixels())
	for _, m := range methods {
		opt := cpu.DefaultStackOptions()
		opt.Reject, opt.Combine = m.reject, m.combine
		b.Run(m.name+"/gpu", func(b *testing.B) {
			d := sharedDevice(b)
			// Warm-up: pipeline compile and buffer allocation.
			if _, err := d.StackBand(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(4 * bd.pixels() * len(bd.src)))
			b.ResetTimer()
			for range b.N {
				if _, err := d.StackBand(context.Background(), dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/cpu", func(b *testing.B) {
			b.SetBytes(int64(4 * bd.pixels() * len(bd.src)))
			for range b.N {
				if st := cpu.StackBand(dst, kept, bd.src, bd.norm, bd.weights, bd.width, opt); st.Err != nil {
					b.Fatal(st.Err)
				}
			}
		})
	}
}
