package pipeline

import (
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// wcsKey matches the header keys of a celestial WCS (and its SIP distortion): the mosaic's
// own WCS replaces all of them, so no stale key of an input can contradict it.
var wcsKey = regexp.MustCompile(`^(WCSAXES|WCSNAME|CTYPE\d|CRPIX\d|CRVAL\d|CDELT\d|CUNIT\d|CROTA\d|CD\d_\d|PC\d_\d|PC0\d_0\d|PV\d_\d+|LONPOLE|LATPOLE|RADESYS|RADECSYS|EQUINOX|EPOCH|(A|B|AP|BP)_(ORDER|\d+_\d+|DMAX))$`)

// mosaicHeader starts from the first input's header (observation keys), replaces its WCS by
// the output grid's, and records how the mosaic was made.
func mosaicHeader(inputs []*mosaicInput, grid *wcs.WCS, opt MosaicOptions, matched bool) *fits.Header {
	h := inputs[0].r.meta.Header.Clone()
	for _, c := range h.Cards() {
		if wcsKey.MatchString(c.Key) {
			h.Delete(c.Key)
		}
	}
	for _, k := range []string{"BAYERPAT", "DATAMIN", "DATAMAX", "CHECKSUM", "DATASUM"} {
		h.Delete(k)
	}
	for _, c := range grid.Cards() {
		h.Set(c.Key, c.Value, c.Comment)
	}
	h.Set("NCOMBINE", len(inputs), "number of frames in the mosaic")
	h.Set("SWCREATE", "zmosaic "+Version, "software that created this file")
	h.Set("DATE", time.Now().UTC().Format("2006-01-02T15:04:05"), "file creation date (UTC)")
	h.Set("ZMINTERP", string(opt.Interp), "zmosaic reprojection kernel")
	h.Set("ZMFEATHR", opt.Feather, "zmosaic feather width (input px)")
	h.Set("ZMMATCH", opt.Match, "zmosaic photometric matching")
	h.Set("ZMINWGT", opt.InputWeights, "zmosaic per-input weights")
	h.Set("ZMCOMBIN", opt.Combine, "zmosaic combination of overlapping inputs")
	if opt.Combine == CombineKappa {
		h.Set("ZMKAPPAL", opt.KappaLow, "zmosaic kappa clip, lower bound (sigma)")
		h.Set("ZMKAPPAH", opt.KappaHigh, "zmosaic kappa clip, upper bound (sigma)")
	}
	for _, in := range inputs {
		line := "zmosaic mosaic input: " + filepath.Base(in.r.src.Name())
		if matched {
			c := in.correction()
			line += fmt.Sprintf(" gain=%.6g offset=%.6g", c.Gain, c.Offset)
		}
		line += fmt.Sprintf(" weight=%.4g", in.weight)
		if in.flux != 1 {
			line += fmt.Sprintf(" flux_scale=%.6g", in.flux)
		}
		h.Add("HISTORY", nil, line)
	}
	return h
}

// WriteMosaicFITS writes the mosaic with its header and ALPHA extension, and its coverage map
// (the sum of the per-pixel weights, float32, same WCS) to coveragePath unless it is "".
func WriteMosaicFITS(name, coveragePath string, res *MosaicResult) error {
	if err := fits.Write(name, res.Image, fits.WriteOptions{Alpha: res.Alpha}); err != nil {
		return err
	}
	if coveragePath == "" {
		return nil
	}
	h := res.Image.Header.Clone()
	h.Set("BUNIT", "weight", "sum of the per-pixel mosaic weights")
	cov := &fits.Image{Width: res.Image.Width, Height: res.Image.Height, Channels: res.Image.Channels, Pix: res.Coverage, Header: h}
	return fits.Write(coveragePath, cov, fits.WriteOptions{})
}

// CoveragePath is where the coverage map of out.fits goes: out_coverage.fits beside it.
func CoveragePath(out string) string { return sibling(out, "_coverage.fits") }
