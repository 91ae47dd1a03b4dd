package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The mosaic's hot loop per input and band: a 1024² frame rotated by 3° onto
// a 128-row band of an 1100-pixel-wide output (pipeline.addInput), then the
// feather weights of the frame, the coordinate grid and the accumulation.
// Each benchmark runs the current kernel and, as "legacy", the kernel before
// the speed work (reproject_legacy_internal_test.go) in the same process, and
// reports ns per output pixel. Run with -cpu 1 for per-core figures:
//
//	go test ./cpu -run '^$' -bench 'Reproject|Feather|CoordGrid|Accumulate' -cpu 1

const (
	benchSrc   = 1024
	benchOutW  = 1100
	benchRows  = 128
	benchY0    = 480
	benchAngle = 3 * math.Pi / 180
)

// benchFrame returns a 1024² frame of sky noise around 1000.
func benchFrame() []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, benchSrc*benchSrc)
	for i := range src {
		src[i] = float32(1000 + 10*rng.NormFloat64())
	}
	return src
}

// benchGrid maps the output onto the frame rotated by 3° about its centre
// (step 16, as pipeline.mosaicGridStep).
func benchGrid() *CoordGrid {
	s, c := math.Sincos(benchAngle)
	const oc, ic = benchOutW / 2, benchSrc / 2
	return NewCoordGrid(benchOutW, benchOutW, 16, func(x, y float64) (float64, float64, bool) {
		dx, dy := x-oc, y-oc
		return c*dx - s*dy + ic, s*dx + c*dy + ic, true
	})
}

func BenchmarkReproject(b *testing.B) {
	src, grid := benchFrame(), benchGrid()
	dst := make([]float32, benchOutW*benchRows)
	perPixel := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(dst)), "ns/px")
	}
	for _, interp := range []Interp{InterpLanczos3, InterpBicubic, InterpBilinear} {
		b.Run(string(interp)+"/legacy", func(b *testing.B) {
			for b.Loop() {
				legacyReproject(dst, benchOutW, benchY0, benchRows, src, benchSrc, benchSrc, grid, interp)
			}
			perPixel(b)
		})
		for _, workers := range []int{1, 2} {
			b.Run(string(interp)+"/workers="+string(rune('0'+workers)), func(b *testing.B) {
				opt := ReprojectOptions{Interp: interp, Workers: workers}
				b.ReportAllocs()
				for b.Loop() {
					if err := Reproject(dst, benchOutW, benchY0, benchRows, src, benchSrc, benchSrc, grid, opt); err != nil {
						b.Fatal(err)
					}
				}
				perPixel(b)
			})
		}
	}
}

// BenchmarkCoordGridAt times the coordinate interpolation alone, per pixel.
func BenchmarkCoordGridAt(b *testing.B) {
	grid := benchGrid()
	var sink float64
	b.Run("legacy", func(b *testing.B) {
		for b.Loop() {
			for x := range benchOutW {
				ix, iy := legacyAt(grid, float64(x), benchY0)
				sink += ix + iy
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchOutW, "ns/px")
	})
	b.Run("At", func(b *testing.B) {
		for b.Loop() {
			for x := range benchOutW {
				ix, iy := grid.At(float64(x), benchY0)
				sink += ix + iy
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchOutW, "ns/px")
	})
	_ = sink
}

// BenchmarkNewCoordGrid times the sampling overhead (a trivial mapping) per
// output pixel of a 3300² mosaic at step 16.
func BenchmarkNewCoordGrid(b *testing.B) {
	const n = 3300
	for b.Loop() {
		NewCoordGrid(n, n, 16, func(x, y float64) (float64, float64, bool) { return y, x, true })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*n), "ns/px")
}

// benchMask is a 1024² frame whose corners are cut by a circle (the
// footprint of a rotated input) and with a few bad pixels.
func benchMask() []bool {
	rng := rand.New(rand.NewPCG(3, 4))
	m := make([]bool, benchSrc*benchSrc)
	for y := range benchSrc {
		for x := range benchSrc {
			dx, dy := float64(x-benchSrc/2), float64(y-benchSrc/2)
			m[y*benchSrc+x] = dx*dx+dy*dy < 640*640 && rng.Float64() > 1e-4
		}
	}
	return m
}

func BenchmarkFeatherWeights(b *testing.B) {
	mask := benchMask()
	dst := make([]float32, len(mask))
	b.Run("legacy", func(b *testing.B) {
		for b.Loop() {
			legacyFeatherWeights(dst, mask, benchSrc, benchSrc, 32)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(mask)), "ns/px")
	})
	b.Run("current", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := FeatherWeights(dst, mask, benchSrc, benchSrc, 32); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(mask)), "ns/px")
	})
}

func BenchmarkAccumulate(b *testing.B) {
	const n = benchOutW * benchRows
	rng := rand.New(rand.NewPCG(5, 6))
	val, wt := make([]float32, n), make([]float32, n)
	for i := range val {
		val[i], wt[i] = float32(1000+rng.NormFloat64()), float32(rng.Float64())
		if rng.Float64() < 0.1 {
			val[i] = float32(math.NaN())
		}
	}
	acc := NewCoaddBand(n)
	corr := Affine{Gain: 1.01, Offset: -3}
	b.Run("legacy", func(b *testing.B) {
		for b.Loop() {
			legacyAccumulate(acc, val, wt, 1, corr)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/px")
	})
	b.Run("current", func(b *testing.B) {
		for b.Loop() {
			if err := Accumulate(acc, val, wt, 1, corr); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/px")
	})
}
