package solve

import (
	"math"
	"strconv"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

// hints is what a frame's header tells a solver before it starts.
type hints struct {
	ra, dec     float64 // pointing, degrees
	hasPointing bool
	scale       float64 // arcsec per pixel; 0 = unknown
	width       int     // image size in pixels; 0 = unknown
	height      int
}

// arcsecPerRadian converts focal length and pixel size into a pixel scale.
const arcsecPerRadian = 180 * 3600 / math.Pi

// readHints reads the pointing (RA/DEC in degrees as Seestar and NINA write them, else
// OBJCTRA in hours and OBJCTDEC in degrees as sexagesimal strings), the pixel scale from
// FOCALLEN (mm) and XPIXSZ (µm, binning included as MaxIm DL and NINA write it) and the image
// size. A mount's pointing can be off by a degree; it only centres the search. A nil header
// gives no hints, and the solver searches blind.
func readHints(h *fits.Header) hints {
	var hi hints
	if h == nil {
		return hi
	}
	hi.ra, hi.dec, hi.hasPointing = pipeline.PointingHint(h)
	if f, ok := h.Float("FOCALLEN"); ok && f > 0 {
		if px, ok := h.Float("XPIXSZ"); ok && px > 0 {
			s := arcsecPerRadian * px * 1e-3 / f
			// Outside wcs.DefaultValidateOptions' range the header is wrong, not the sky.
			if s >= 0.01 && s <= 3600 {
				hi.scale = s
			}
		}
	}
	if w, ok := h.Int("NAXIS1"); ok && w > 0 && w < 1<<31 {
		hi.width = int(w)
	}
	if ht, ok := h.Int("NAXIS2"); ok && ht > 0 && ht < 1<<31 {
		hi.height = int(ht)
	}
	return hi
}

// num formats a command-line number without an exponent, which some solvers do not parse.
func num(v float64) string {
	return strconv.FormatFloat(v, 'f', 6, 64)
}
