package cpu_test

import (
	"image"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

func TestStretchChannel(t *testing.T) {
	src := []float32{-5, 0, 10, 100, 1000, float32(math.NaN()), 5}
	dst := make([]uint8, len(src))
	cpu.StretchChannel(dst, src, 0, 10, 12)
	assert.Equal(t, uint8(0), dst[0], "below vmin is black")
	assert.Equal(t, uint8(0), dst[1], "vmin is black")
	assert.Equal(t, uint8(255), dst[2], "vmax is white")
	assert.Equal(t, uint8(255), dst[3], "above vmax is white")
	assert.Equal(t, uint8(0), dst[5], "NaN is 0")
	want := math.Floor(math.Asinh(0.5/12)/math.Asinh(1.0/12)*255 + 0.5)
	assert.Equal(t, uint8(want), dst[6], "midpoint follows the asinh curve")
	assert.Greater(t, dst[6], uint8(127), "asinh lifts the midpoint")

	t.Run("a flat channel is black", func(t *testing.T) {
		d := []uint8{9, 9}
		cpu.StretchChannel(d, []float32{3, 3}, 3, 3.0005, 12)
		assert.Equal(t, []uint8{0, 0}, d)
	})
}

func TestStretchNRGBA(t *testing.T) {
	const w, h = 4, 3
	t.Run("mono becomes grey with alpha 0 on NaN", func(t *testing.T) {
		pix := make([]float32, w*h)
		for i := range pix {
			pix[i] = float32(i)
		}
		pix[5] = float32(math.NaN())
		opt := cpu.StretchOptions{PLow: 0, PHigh: 100, Asinh: 12}
		img := cpu.StretchNRGBA(pix, w, h, 1, opt)
		require.NotNil(t, img)
		assert.Equal(t, image.Rect(0, 0, w, h), img.Bounds())
		assert.Equal(t, []uint8{0, 0, 0, 255}, img.Pix[0:4], "min is black")
		last := img.PixOffset(w-1, h-1)
		assert.Equal(t, []uint8{255, 255, 255, 255}, img.Pix[last:last+4], "max is white")
		o := img.PixOffset(1, 1)
		assert.Equal(t, []uint8{0, 0, 0, 0}, img.Pix[o:o+4], "NaN is transparent")
	})
	t.Run("colour channels are stretched independently", func(t *testing.T) {
		pix := make([]float32, 3*w*h)
		for i := range w * h {
			pix[i] = float32(i)              // R ramp
			pix[w*h+i] = float32(100 - i)    // G reversed ramp
			pix[2*w*h+i] = float32(1000 * i) // B ramp, other scale
		}
		pix[2*w*h+7] = float32(math.NaN())
		img := cpu.StretchNRGBA(pix, w, h, 3, cpu.StretchOptions{PLow: 0, PHigh: 100, Asinh: 12})
		require.NotNil(t, img)
		assert.Equal(t, []uint8{0, 255, 0, 255}, img.Pix[0:4])
		o := img.PixOffset(3, 1) // pixel 7
		assert.Equal(t, uint8(0), img.Pix[o+3], "NaN in one channel clears alpha")
	})
	t.Run("invalid arguments give nil", func(t *testing.T) {
		assert.Nil(t, cpu.StretchNRGBA(make([]float32, 2*w*h), w, h, 2, cpu.DefaultStretchOptions()))
		assert.Nil(t, cpu.StretchNRGBA(make([]float32, w*h-1), w, h, 1, cpu.DefaultStretchOptions()))
		assert.Nil(t, cpu.StretchNRGBA(make([]float32, w*h), w, h, 1, cpu.StretchOptions{PLow: 50, PHigh: 99, Asinh: 12}))
	})
}
