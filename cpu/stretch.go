package cpu

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// StretchOptions configures the 8-bit preview stretch (spec §4.5).
type StretchOptions struct {
	PLow  float64 `json:"preview_p_low"`   // black point percentile, [0, 20]
	PHigh float64 `json:"preview_p_high"`  // white point percentile, [PLow+0.1, 100]
	Asinh float64 `json:"preview_asinh_a"` // asinh softening a, [0.001, 200]; 12 is almost linear
}

// DefaultStretchOptions returns ZeMosaic's preview defaults: P1, P99.9, a = 12.
func DefaultStretchOptions() StretchOptions {
	return StretchOptions{PLow: 1, PHigh: 99.9, Asinh: 12}
}

// Validate checks the ranges that ZeMosaic clamps silently.
func (o StretchOptions) Validate() error {
	switch {
	case !(o.PLow >= 0 && o.PLow <= 20):
		return fmt.Errorf("%w: preview p_low must be in [0, 20], got %v", ErrInvalidOptions, o.PLow)
	case !(o.PHigh >= o.PLow+0.1 && o.PHigh <= 100):
		return fmt.Errorf("%w: preview p_high must be in [p_low+0.1, 100], got %v", ErrInvalidOptions, o.PHigh)
	case !(o.Asinh >= 0.001 && o.Asinh <= 200):
		return fmt.Errorf("%w: preview asinh a must be in [0.001, 200], got %v", ErrInvalidOptions, o.Asinh)
	}
	return nil
}

// minStretchSpan is the vmax−vmin below which a channel is flat and maps to 0.
const minStretchSpan = 1e-3

// StretchLimits returns per-channel black and white points: the PLow and
// PHigh percentiles (Percentiles semantics) of each plane of the CHW image pix.
// A channel without finite samples gets NaN limits. len(pix) must be at least
// width·height·channels (StretchNRGBA checks it). Large planes are ranked by
// counting on GOMAXPROCS goroutines (radixPercentiles): the same samples as
// Percentiles selects, up to the sign of a zero.
func StretchLimits(pix []float32, width, height, channels int, opt StretchOptions) (vmin, vmax []float64) {
	plane := width * height
	vmin = make([]float64, channels)
	vmax = make([]float64, channels)
	for c := range channels {
		p := stretchPercentiles(pix[c*plane:(c+1)*plane], opt.PLow, opt.PHigh)
		vmin[c], vmax[c] = p[0], p[1]
	}
	return vmin, vmax
}

// radixMinSamples is the plane size from which counting beats quickselect; radixMaxWorkers
// bounds its goroutines (each holds up to five 256 KiB count tables).
const (
	radixMinSamples = 1 << 18
	radixMaxWorkers = 8
)

func stretchPercentiles(x []float32, lo, hi float64) []float64 {
	if len(x) < radixMinSamples {
		return Percentiles(x, lo, hi)
	}
	workers := min(runtime.GOMAXPROCS(0), radixMaxWorkers, len(x)/radixMinSamples*2)
	return radixPercentiles(x, []float64{lo, hi}, workers)
}

// StretchChannel maps src to 8-bit values in dst (same length):
// n = clamp((x−vmin)/(vmax−vmin), 0, 1), y = asinh(n/a)/asinh(1/a),
// dst = round(255·y). NaN or ±Inf samples, and every sample of a channel whose
// limits are non-finite or closer than 1e-3, give 0. float64 arithmetic.
func StretchChannel(dst []uint8, src []float32, vmin, vmax, a float64) {
	span := vmax - vmin
	if !finite64(span) || span < minStretchSpan {
		clear(dst[:len(src)])
		return
	}
	norm := 1 / math.Asinh(1/a)
	for i, x := range src {
		if !finite32(x) {
			dst[i] = 0
			continue
		}
		n := min(max((float64(x)-vmin)/span, 0), 1)
		y := math.Asinh(n/a) * norm
		dst[i] = uint8(math.Floor(min(max(y, 0), 1)*255 + 0.5))
	}
}

// StretchNRGBA renders the CHW float image pix (channels 1 or 3) as an 8-bit
// preview: each channel stretched with its own StretchLimits, mono shown as
// grey, alpha 0 where any channel is non-finite (no data) and 255 elsewhere.
// Unlike ZeMosaic there is no white balance and no linear fallback, so the CPU
// and GPU previews agree. It returns nil when opt is invalid, channels is not 1
// or 3, a dimension is ≤ 0, or len(pix) != width·height·channels; callers
// check those with opt.Validate and their own shape. Rows are stretched in
// parallel (GOMAXPROCS goroutines); the bytes do not depend on their number.
func StretchNRGBA(pix []float32, width, height, channels int, opt StretchOptions) *image.NRGBA {
	if opt.Validate() != nil || (channels != 1 && channels != 3) || width <= 0 || height <= 0 ||
		len(pix) != width*height*channels {
		return nil
	}
	vmin, vmax := StretchLimits(pix, width, height, channels, opt)
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	stretchRows(img, pix, width, height, channels, vmin, vmax, opt.Asinh, runtime.GOMAXPROCS(0))
	return img
}

// stretchRowChunk is how many rows a stretch goroutine takes at a time.
const stretchRowChunk = 16

// stretchRows fills img (width×height) from the CHW pix, row chunks spread over workers
// goroutines. Every pixel depends only on its own samples, so the bytes do not depend on
// workers.
func stretchRows(img *image.NRGBA, pix []float32, width, height, channels int, vmin, vmax []float64, a float64, workers int) {
	n := (height + stretchRowChunk - 1) / stretchRowChunk
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			row := make([]uint8, width)
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				for y := k * stretchRowChunk; y < min((k+1)*stretchRowChunk, height); y++ {
					stretchRow(img, row, pix, y, width, height, channels, vmin, vmax, a)
				}
			}
		})
	}
	wg.Wait()
}

// stretchRow fills row y of img; row is scratch of width bytes.
func stretchRow(img *image.NRGBA, row []uint8, pix []float32, y, width, height, channels int, vmin, vmax []float64, a float64) {
	plane := width * height
	out := img.Pix[img.PixOffset(0, y):][:4*width]
	for c := range channels {
		src := pix[c*plane+y*width:][:width]
		StretchChannel(row, src, vmin[c], vmax[c], a)
		for x, v := range row {
			px := out[4*x:][:4]
			if channels == 1 {
				px[0], px[1], px[2] = v, v, v
			} else {
				px[c] = v
			}
			// Alpha starts opaque at the first channel; any later NaN clears it.
			if c == 0 {
				px[3] = 255
			}
			if !finite32(src[x]) {
				px[3] = 0
			}
		}
	}
}
