package pipeline

import (
	"path/filepath"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// stackHeader starts from the header of the frame whose grid the output has (WCS, observation
// keys): the normalisation reference, or the alignment reference with --align wcs. It records how
// the stack was made, so the file alone tells its provenance.
func stackHeader(ref *fits.Header, frames []*frameReader, opt StackOptions, res *StackResult) *fits.Header {
	h := fits.NewHeader()
	if ref != nil {
		h = ref.Clone()
	}
	// Keys that described the raw input no longer hold for the float32 result.
	for _, k := range []string{"BAYERPAT", "DATAMIN", "DATAMAX", "CHECKSUM", "DATASUM"} {
		h.Delete(k)
	}
	h.Set("NCOMBINE", len(frames), "number of frames stacked")
	h.Set("SWCREATE", "zmosaic "+Version, "software that created this file")
	h.Set("DATE", time.Now().UTC().Format("2006-01-02T15:04:05"), "file creation date (UTC)")
	h.Set("ZMREJECT", string(opt.Reject), "zmosaic rejection method")
	h.Set("ZMCOMBIN", string(opt.Combine), "zmosaic combine method")
	h.Set("ZMKLOW", float64(opt.KappaLow), "zmosaic kappa low")
	h.Set("ZMKHIGH", float64(opt.KappaHigh), "zmosaic kappa high")
	h.Set("ZMITER", opt.Iterations, "zmosaic max rejection iterations")
	h.Set("ZMWEIGHT", string(opt.Weight), "zmosaic frame weighting")
	h.Set("ZMNORM", string(opt.Norm), "zmosaic normalisation")
	h.Set("ZMREF", filepath.Base(frames[opt.Reference].src.Name()), "zmosaic normalisation reference frame")
	h.Set("ZMALIGN", opt.Align, "zmosaic frame alignment")
	if opt.Align == AlignWCS {
		// The header (WCS included) is the alignment reference's: the output is on its grid.
		h.Set("ZMINTERP", string(opt.Interp), "zmosaic resampling kernel of the alignment")
		h.Set("ZMALREF", filepath.Base(res.Frames[res.AlignReference].File), "zmosaic alignment reference (grid) frame")
	}
	h.Set("ZMBACKND", opBackend(res.Compute, "stack"), "zmosaic backend of the combine phase")
	h.Set("ZMREJLO", res.Stats.RejectedLow, "samples rejected low")
	h.Set("ZMREJHI", res.Stats.RejectedHigh, "samples rejected high")
	for _, f := range frames {
		h.Add("HISTORY", nil, "zmosaic stack input: "+filepath.Base(f.src.Name()))
	}
	return h
}
