package cpu_test

import (
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// BenchmarkReproject times each kernel on one band of 2048×64 output pixels
// resampled from a 2048×2048 input through a rotated, scaled grid (step 16),
// and reports the cost per output pixel. Run it with -cpu 1 for the
// per-core figure.
func BenchmarkReproject(b *testing.B) {
	const sw, sh, w, rows, y0 = 2048, 2048, 2048, 64, 900
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, sw*sh)
	for i := range src {
		src[i] = float32(1000 + 10*rng.NormFloat64())
	}
	grid := rotationGrid(w, 2048, 16)
	dst := make([]float32, w*rows)
	for _, interp := range allInterps {
		b.Run(string(interp), func(b *testing.B) {
			opt := cpu.ReprojectOptions{Interp: interp}
			b.SetBytes(int64(4 * len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				if err := cpu.Reproject(dst, w, y0, rows, src, sw, sh, grid, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(dst)), "ns/px")
		})
	}
}
