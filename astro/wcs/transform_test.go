package wcs

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

func BenchmarkPixelToWorld(b *testing.B) {
	for _, sip := range []bool{false, true} {
		w := sipWCS(b, true)
		if !sip {
			w.SIP = nil
		}
		if err := w.Init(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("sip=%v", sip), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, _, err := w.PixelToWorld(float64(i%2048), float64(i%1999)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWorldToPixel(b *testing.B) {
	for _, sip := range []bool{false, true} {
		w := sipWCS(b, true)
		if !sip {
			w.SIP = nil
		}
		if err := w.Init(); err != nil {
			b.Fatal(err)
		}
		ra, dec, err := w.PixelToWorld(1500, 300)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("sip=%v", sip), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := w.WorldToPixel(ra, dec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestConcurrentUseGivesSameResults(t *testing.T) {
	w := sipWCS(t, true)
	want := make([][2]float64, 256)
	for i := range want {
		ra, dec, err := w.PixelToWorld(float64(i*7), float64(i*5))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = [2]float64{ra, dec}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for i, p := range want {
				x, y, err := w.WorldToPixel(p[0], p[1])
				if err == nil && (math.Abs(x-float64(i*7)) > 1e-6 || math.Abs(y-float64(i*5)) > 1e-6) {
					err = fmt.Errorf("point %d came back at (%g, %g)", i, x, y)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
