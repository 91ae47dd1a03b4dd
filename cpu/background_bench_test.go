package cpu_test

import (
	"math/rand/v2"
	"testing"

	"github.com/zmosaic/zmosaic/cpu"
)

// seestarRGB is a debayered Seestar-sized frame (1080×1920×3) with a gradient and noise.
func seestarRGB() (w, h int, pix []float32) {
	w, h = 1080, 1920
	rng := rand.New(rand.NewPCG(1, 2))
	pix = make([]float32, 3*w*h)
	for i := range pix {
		x, y := i%w, (i/w)%h
		pix[i] = float32(1000 + 0.02*float64(x) - 0.01*float64(y) + 30*rng.NormFloat64())
	}
	return w, h, pix
}

func BenchmarkFitBackground(b *testing.B) {
	w, h, pix := seestarRGB()
	opt := cpu.DefaultBackgroundOptions()
	opt.Degree = 2
	b.SetBytes(int64(4 * len(pix)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cpu.FitBackground(pix, w, h, 3, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubtractBackground(b *testing.B) {
	w, h, pix := seestarRGB()
	opt := cpu.DefaultBackgroundOptions()
	opt.Degree = 2
	m, err := cpu.FitBackground(pix, w, h, 3, opt)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, len(pix))
	b.SetBytes(int64(4 * len(pix)))
	for b.Loop() {
		if err := cpu.SubtractBackground(out, pix, w, h, 3, m); err != nil {
			b.Fatal(err)
		}
	}
}
