package gpu

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/zmosaic/zmosaic/cpu"
)

// BenchmarkReproject compares Device.Reproject with cpu.Reproject (all
// cores) on a 512×512 Lanczos-3 rotation+scale and reports gpu/cpu, the
// time ratio (below 1: the GPU is faster; lavapipe is a CPU too).
func BenchmarkReproject(b *testing.B) {
	d := sharedDevice(b)
	const n = 512
	src := make([]float32, n*n)
	for j := range n {
		for i := range n {
			src[j*n+i] = float32(smooth(float64(i)/6, float64(j)/6))
		}
	}
	c, s := 0.9*math.Cos(0.4), 0.9*math.Sin(0.4)
	g := affineCoordGrid(n, n, 16, [6]float64{c, -s, 120, s, c, -80})
	opt := cpu.DefaultReprojectOptions()
	dst := make([]float32, n*n)
	t0 := time.Now()
	const cpuRuns = 3
	for range cpuRuns {
		if err := cpu.Reproject(dst, n, 0, n, src, n, n, g, opt); err != nil {
			b.Fatal(err)
		}
	}
	cpuTime := time.Since(t0) / cpuRuns
	b.ResetTimer()
	for b.Loop() {
		if err := d.Reproject(context.Background(), dst, n, 0, n, src, n, n, g, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(cpuTime), "gpu/cpu")
}
