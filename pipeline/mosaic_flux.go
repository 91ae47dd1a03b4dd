package pipeline

import (
	"math"

	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// Flux convention of the mosaic. Inputs hold flux per pixel (ADU per pixel, as a camera
// measures it), and so does the mosaic, per output pixel: a star's aperture sum is the same in
// an input and in the mosaic whatever the scales. Reprojection itself keeps the value per pixel
// (surface brightness in units of the input's pixel), so an input whose pixels are larger or
// smaller than the output's is multiplied by cpu.FluxScale(input scale, output scale) — the
// ratio of pixel areas, measured at the input's centre — before matching and blending. Inputs
// whose pixel area is within alignScaleTolerance of the output's (the usual case: the output
// scale is the median of the inputs') are left exactly as they are. zmosaic stack --align wcs
// follows the same convention (align.go).

// setFluxScales sets in.flux for every input from its pixel area at its centre and the output
// grid's pixel area where that centre lands, and records it in res.Frames when it is not 1.
func setFluxScales(inputs []*mosaicInput, grid *wcs.WCS, res *MosaicResult) {
	for _, in := range inputs {
		fs := inputFluxScale(in, grid)
		if math.IsNaN(fs) || math.Abs(fs-1) <= alignScaleTolerance {
			continue
		}
		in.flux = float32(fs)
		res.Frames[in.r.info].FluxScale = fs
	}
}

// inputFluxScale is (output pixel area / input pixel area) at the input's centre, NaN when
// either cannot be measured there.
func inputFluxScale(in *mosaicInput, grid *wcs.WCS) float64 {
	m := in.r.meta
	cx, cy := float64(m.Width-1)/2, float64(m.Height-1)/2
	ra, dec, err := in.w.PixelToWorld(cx, cy)
	if err != nil {
		return math.NaN()
	}
	ox, oy, err := grid.WorldToPixel(ra, dec)
	if err != nil || math.IsNaN(ox) || math.IsNaN(oy) {
		return math.NaN()
	}
	isx, isy := in.w.PixelScale(cx, cy)
	osx, osy := grid.PixelScale(ox, oy)
	return cpu.FluxScale(math.Sqrt(isx*isy), math.Sqrt(osx*osy))
}

// scaledCorrection composes the flux scale with a photometric correction solved on
// flux-scaled values: corr(flux·x) = (Gain·flux)·x + Offset.
func scaledCorrection(c cpu.Affine, flux float32) cpu.Affine {
	if c == (cpu.Affine{}) {
		c = cpu.Identity
	}
	return cpu.Affine{Gain: c.Gain * flux, Offset: c.Offset}
}
