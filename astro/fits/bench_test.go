package fits

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkReadRows(b *testing.B) {
	const w, h = 2048, 1024
	for _, bitpix := range []int{16, -32} {
		b.Run(fmt.Sprintf("bitpix=%d", bitpix), func(b *testing.B) {
			data := hduBytes(append(imageCards("", bitpix, w, h), kv("BZERO", 32768)), make([]byte, w*h*abs(bitpix)/8))
			f, err := NewReader(bytes.NewReader(data), int64(len(data)), "bench")
			if err != nil {
				b.Fatal(err)
			}
			img := f.Images[0]
			dst := make([]float32, w*h)
			b.SetBytes(int64(w * h * abs(bitpix) / 8)) // file bytes decoded per op
			b.ReportAllocs()
			for b.Loop() {
				if err := img.ReadRows(0, 0, h, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bitpix := range []int{-32, 16} {
		b.Run(fmt.Sprintf("bitpix=%d", bitpix), func(b *testing.B) {
			img := testImage(2048, 1024, 1)
			if bitpix > 0 {
				img = intImage(2048, 1024, 1, 65535)
			}
			var buf bytes.Buffer
			b.SetBytes(int64(len(img.Pix) * 4)) // float32 input bytes per op
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := Encode(&buf, img, WriteOptions{Bitpix: bitpix}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
