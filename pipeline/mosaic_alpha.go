package pipeline

import (
	"fmt"
	"math"
	"strings"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// alphaSoftFloor is the least weight factor of a pixel whose ALPHA is above 0. ZeMosaic uses
// ALPHA as a soft per-pixel weight with this floor (spec §1.10, phase5_alpha_soft_weights):
// an ALPHA of 1/255 still marks data, and without the floor such pixels would weigh 0.004 —
// next to nothing, so a partly transparent edge would show up as a hole in the coverage rather
// than as a soft edge. With the floor, ALPHA 0 is no data and 1..255 weighs between 0.02 and 1.
const alphaSoftFloor = 0.02

// alphaHDU is the index in f.Images of the ALPHA extension that goes with data, the image
// being mosaicked: an image HDU named ALPHA (case-insensitively, as fits.File.Image selects
// by EXTNAME), one channel, other than data itself. found is false when there is none. An
// ALPHA of another size than data is an error: it cannot be a mask of these pixels.
func alphaHDU(f *fits.File, data *fits.ImageHDU) (idx int, found bool, err error) {
	for i, h := range f.Images {
		if h.Index == data.Index || !strings.EqualFold(strings.TrimSpace(h.Name), "ALPHA") || h.Channels != 1 {
			continue
		}
		if h.Width != data.Width || h.Height != data.Height {
			return 0, false, fmt.Errorf("ALPHA extension is %d×%d, the image is %d×%d", h.Width, h.Height, data.Width, data.Height)
		}
		return i, true, nil
	}
	return 0, false, nil
}

// readAlphaRows reads rows [y0, y1) of in's ALPHA extension into dst as stored (0..255).
func (in *mosaicInput) readAlphaRows(y0, y1 int, dst []float32) error {
	r := in.r
	if err := r.open(); err != nil {
		return fmt.Errorf("pipeline: %s: %w", r.src.Name(), err)
	}
	var err error
	if in.alphaIdx >= len(r.f.Images) {
		err = fmt.Errorf("ALPHA extension %d is gone", in.alphaIdx)
	} else {
		err = r.f.Images[in.alphaIdx].ReadRows(0, y0, y1, dst)
	}
	if !r.keep {
		r.close()
	}
	if err != nil {
		return fmt.Errorf("pipeline: %s: ALPHA: %w", r.src.Name(), err)
	}
	return nil
}

// applyAlpha turns the ALPHA values a of a window of np pixels into weight factors, in
// place, and makes the pixels of pix (CHW, nc channels) with ALPHA 0 no data (NaN), so that
// the mask, the feathering, the median and kappa combines and the photometric samples all
// treat them as they treat NaN. Factor: 0 where ALPHA ≤ 0 or is NaN, else ALPHA/255 clipped to
// [alphaSoftFloor, 1] (255 gives exactly 1).
func applyAlpha(a, pix []float32, nc int) {
	np := len(a)
	nan := float32(math.NaN())
	for i, v := range a {
		if !(v > 0) {
			a[i] = 0
			for c := range nc {
				pix[c*np+i] = nan
			}
			continue
		}
		a[i] = float32(max(min(float64(v)/255, 1), alphaSoftFloor))
	}
}

// scaleByAlpha multiplies the feather weights w by the ALPHA factors a (applyAlpha).
func scaleByAlpha(w, a []float32) {
	for i, f := range a {
		if f != 1 {
			w[i] *= f
		}
	}
}

// noDataWhereAlphaZero makes the pixels of one plane pix whose ALPHA a is 0 (or NaN) no data.
func noDataWhereAlphaZero(pix, a []float32) {
	nan := float32(math.NaN())
	for i, v := range a {
		if !(v > 0) {
			pix[i] = nan
		}
	}
}
