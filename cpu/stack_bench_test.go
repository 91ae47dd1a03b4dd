package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// BenchmarkStackBandFrames times every reject method with mean and median at
// 8, 32 and 100 frames on one band of 16×1920 Gaussian samples with 1% hot
// outliers, and reports the cost per pixel and frame. Run it with -cpu 1.
func BenchmarkStackBandFrames(b *testing.B) {
	const rows, width = 16, 1920
	for _, n := range []int{8, 32, 100} {
		rng := rand.New(rand.NewPCG(1, 2))
		src := make([][]float32, n)
		for i := range src {
			src[i] = make([]float32, rows*width)
			for j := range src[i] {
				src[i][j] = float32(1000 + 10*rng.NormFloat64())
				if rng.Float64() < 0.01 {
					src[i][j] = 30000
				}
			}
		}
		dst := make([]float32, rows*width)
		kept := make([]uint32, rows*width)
		for _, r := range allRejects {
			for _, c := range []cpu.Combine{cpu.CombineMean, cpu.CombineMedian} {
				b.Run(fmt.Sprintf("%s/%s/%d", r, c, n), func(b *testing.B) {
					opt := opts(r, c)
					for b.Loop() {
						cpu.StackBand(dst, kept, src, nil, nil, width, opt)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*rows*width), "ns/px-frame")
				})
			}
		}
	}
}

// BenchmarkStackBandNormWeights is the pipeline's usual call: 32 frames with
// normalisation and noise weights, mean combination.
func BenchmarkStackBandNormWeights(b *testing.B) {
	const n, rows, width = 32, 16, 1920
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([][]float32, n)
	norm := make([]cpu.Affine, n)
	w := make([]float32, n)
	for i := range src {
		src[i] = make([]float32, rows*width)
		for j := range src[i] {
			src[i][j] = float32(1000 + 10*rng.NormFloat64())
			if rng.Float64() < 0.01 {
				src[i][j] = 30000
			}
		}
		norm[i] = cpu.Affine{Gain: float32(0.9 + 0.2*rng.Float64()), Offset: float32(10 * rng.NormFloat64())}
		w[i] = float32(0.5 + rng.Float64())
	}
	dst := make([]float32, rows*width)
	kept := make([]uint32, rows*width)
	for _, r := range allRejects {
		b.Run(string(r), func(b *testing.B) {
			opt := opts(r, cpu.CombineMean)
			for b.Loop() {
				cpu.StackBand(dst, kept, src, norm, w, width, opt)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*rows*width), "ns/px-frame")
		})
	}
}
