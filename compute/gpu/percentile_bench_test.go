package gpu

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// Run: go test ./compute/gpu -run '^$' -bench 'Percentiles|Stretch' -benchtime 10x
const benchW, benchH = 1920, 1080

func BenchmarkPercentilesGPU(b *testing.B) {
	d := sharedDevice(b)
	x := randomSamples(rand.New(rand.NewPCG(1, 2)), benchW*benchH, "sky")
	if _, err := d.Percentiles(context.Background(), x, 1, 99.9); err != nil {
		b.Fatal(err) // warm-up: pipelines and buffers
	}
	b.SetBytes(int64(4 * len(x)))
	b.ResetTimer()
	for range b.N {
		if _, err := d.Percentiles(context.Background(), x, 1, 99.9); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPercentilesCPU(b *testing.B) {
	x := randomSamples(rand.New(rand.NewPCG(1, 2)), benchW*benchH, "sky")
	b.SetBytes(int64(4 * len(x)))
	for range b.N {
		cpu.Percentiles(x, 1, 99.9)
	}
}

func BenchmarkStretchGPU(b *testing.B) {
	d := sharedDevice(b)
	pix := skyImage(rand.New(rand.NewPCG(1, 2)), benchW, benchH, 3)
	opt := cpu.DefaultStretchOptions()
	if _, err := d.StretchNRGBA(context.Background(), pix, benchW, benchH, 3, opt); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(pix)))
	b.ResetTimer()
	for range b.N {
		if _, err := d.StretchNRGBA(context.Background(), pix, benchW, benchH, 3, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStretchCPU(b *testing.B) {
	pix := skyImage(rand.New(rand.NewPCG(1, 2)), benchW, benchH, 3)
	opt := cpu.DefaultStretchOptions()
	b.SetBytes(int64(4 * len(pix)))
	for range b.N {
		cpu.StretchNRGBA(pix, benchW, benchH, 3, opt)
	}
}
