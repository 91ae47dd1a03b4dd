package synth

import (
	"errors"
	"fmt"
	"math"
)

// Options describes a synthetic data set. Start from DefaultOptions and change fields; Validate
// holds every range check.
type Options struct {
	Frames int    `json:"frames"` // number of frames in a set
	Width  int    `json:"width"`  // pixels
	Height int    `json:"height"` // pixels
	Seed   uint64 `json:"seed"`   // everything (stars, noise, artefacts) derives from it
	// Bayer is "none" (or "") for mono float32 frames, or a 2×2 CFA pattern read row-major
	// ("GRBG", "RGGB", "GBRG", "BGGR") for uint16 mosaics with a BAYERPAT key.
	Bayer      string  `json:"bayer"`
	Stars      int     `json:"stars"`       // number of stars (a few of them bright)
	FWHM       float64 `json:"fwhm"`        // PSF full width at half maximum, pixels
	Sky        float64 `json:"sky"`         // mean sky level, ADU (a linear gradient of a few % is added)
	ReadNoise  float64 `json:"read_noise"`  // electrons RMS
	Gain       float64 `json:"gain"`        // electrons per ADU
	CosmicRays int     `json:"cosmic_rays"` // hits per frame, 1–3 px each
	Satellites float64 `json:"satellites"`  // probability per frame of one satellite trail
	HotPixels  int     `json:"hot_pixels"`  // hot pixels at fixed positions in every frame
	// Artefacts enables cosmic rays, satellites and hot pixels; false gives the same frames
	// without them (the clean twin used by noise-floor tests).
	Artefacts   bool    `json:"artefacts"`
	RA          float64 `json:"ra"`           // field centre, degrees
	Dec         float64 `json:"dec"`          // field centre, degrees
	ScaleArcsec float64 `json:"scale_arcsec"` // pixel scale, arcseconds per pixel
	// Mosaic is "" for a single pointing or "NxM" for N columns × M rows of panels, each of
	// Frames frames (frame i belongs to panel i / Frames). With a mosaic or a dither the stars
	// live on the sky and every frame renders them through its own WCS (see mosaic.go).
	Mosaic    string  `json:"mosaic"`
	Overlap   float64 `json:"overlap"`    // fraction of a panel's side shared with its neighbour
	RotateDeg float64 `json:"rotate_deg"` // camera position angle of a mosaic/dithered set, degrees
	DitherPx  float64 `json:"dither_px"`  // maximum random per-frame pointing offset, pixels per axis
	// FieldRotationDeg is the field rotation an alt-az mount accumulates over each panel's
	// frames, degrees: frame j of a panel is turned about its centre by
	// FieldRotationDeg·(j/(Frames-1) − ½) on top of RotateDeg, so the panel's mean orientation
	// stays RotateDeg. 0 is an equatorial mount (see seestar.go).
	FieldRotationDeg float64 `json:"field_rotation_deg"`
	// Seestar adds the acquisition keys of a Seestar S50 frame (RA/DEC and OBJCTRA/OBJCTDEC
	// pointing hints, EQMODE, FOCALLEN, XPIXSZ, TELESCOP) and writes frames.csv; SeestarOptions
	// is the whole preset (1080×1920 GRBG frames at 2.39"/px).
	Seestar bool `json:"seestar"`
	// Corrupt and NoWCS inject bad inputs for pipeline tests: Corrupt frames are written then
	// truncated (unreadable), NoWCS frames are written without WCS keys. Which frames is drawn
	// from the seed (Injected); the two sets are disjoint.
	Corrupt int `json:"corrupt"`
	NoWCS   int `json:"no_wcs"`
}

// DefaultOptions returns the demo data set: 16 mono frames of 1024×768 around M42.
func DefaultOptions() Options {
	return Options{
		Frames:      16,
		Width:       1024,
		Height:      768,
		Seed:        1,
		Bayer:       "none",
		Stars:       300,
		FWHM:        2.5,
		Sky:         1000,
		ReadNoise:   5,
		Gain:        1,
		CosmicRays:  40,
		Satellites:  0.3,
		HotPixels:   50,
		Artefacts:   true,
		RA:          83.82,
		Dec:         -5.39,
		ScaleArcsec: 2.4,
		Overlap:     0.3,
	}
}

// Limits that keep a set generatable in bounded memory and time.
const (
	maxFrames = 100000
	maxSide   = 32768
	maxPixels = 1 << 27 // 128 MP per frame, 512 MiB of float32
)

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("synth: invalid options")

// Validate reports the first option out of range, wrapping ErrInvalidOptions.
func (o Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	// Comparisons are written so that NaN fails them.
	switch {
	case o.Frames < 1 || o.Frames > maxFrames:
		return bad("frames = %d, want 1..%d", o.Frames, maxFrames)
	case o.Width < 8 || o.Width > maxSide || o.Height < 8 || o.Height > maxSide:
		return bad("size %dx%d, want each side in 8..%d", o.Width, o.Height, maxSide)
	case o.Width*o.Height > maxPixels:
		return bad("size %dx%d exceeds %d pixels", o.Width, o.Height, maxPixels)
	case o.Stars < 0:
		return bad("stars = %d, want >= 0", o.Stars)
	case !(o.FWHM >= 0.5 && o.FWHM <= 50):
		return bad("fwhm = %g, want 0.5..50 px", o.FWHM)
	case !(o.Sky >= 0 && o.Sky <= 60000):
		return bad("sky = %g, want 0..60000 ADU", o.Sky)
	case !(o.ReadNoise >= 0 && o.ReadNoise <= 1e4):
		return bad("read_noise = %g, want 0..10000 e-", o.ReadNoise)
	case !(o.Gain > 0 && o.Gain <= 1e3):
		return bad("gain = %g, want > 0 and <= 1000 e-/ADU", o.Gain)
	case o.CosmicRays < 0 || o.CosmicRays > o.Width*o.Height/16:
		return bad("cosmic_rays = %d, want 0..%d", o.CosmicRays, o.Width*o.Height/16)
	case !(o.Satellites >= 0 && o.Satellites <= 1):
		return bad("satellites = %g, want a probability 0..1", o.Satellites)
	case o.HotPixels < 0 || o.HotPixels > o.Width*o.Height/16:
		return bad("hot_pixels = %d, want 0..%d", o.HotPixels, o.Width*o.Height/16)
	case !(o.RA >= 0 && o.RA < 360):
		return bad("ra = %g, want 0 <= ra < 360 degrees", o.RA)
	case !(o.Dec >= -90 && o.Dec <= 90):
		return bad("dec = %g, want -90..90 degrees", o.Dec)
	case !(o.ScaleArcsec > 0 && o.ScaleArcsec <= 3600) || math.IsInf(o.ScaleArcsec, 0):
		return bad("scale_arcsec = %g, want > 0 and <= 3600", o.ScaleArcsec)
	}
	if _, err := parseBayer(o.Bayer); err != nil {
		return bad("%v", err)
	}
	return o.validateSky(bad)
}

// Channel indices of an RGB truth cube.
const (
	chR = 0
	chG = 1
	chB = 2
)

// parseBayer returns the channel seen by each site of the 2×2 CFA cell, row-major
// ([y%2*2 + x%2]), or nil for mono.
func parseBayer(p string) ([]int, error) {
	switch p {
	case "", "none":
		return nil, nil
	case "RGGB", "GRBG", "GBRG", "BGGR":
	default:
		return nil, fmt.Errorf("bayer = %q, want none, RGGB, GRBG, GBRG or BGGR", p)
	}
	sites := make([]int, 4)
	for i, c := range p {
		sites[i] = map[rune]int{'R': chR, 'G': chG, 'B': chB}[c]
	}
	return sites, nil
}

// isBayer reports whether o asks for CFA frames; o must be valid.
func (o Options) isBayer() bool { return o.Bayer != "" && o.Bayer != "none" }
