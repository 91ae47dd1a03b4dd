package pipeline

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/cpu"
)

// MosaicOptions are every setting of a mosaic. JSON names are the config keys; flags use the
// same names with '-' for '_' (--pixel-scale).
type MosaicOptions struct {
	Interp           cpu.Interp `json:"interp"`      // bilinear | bicubic | lanczos3
	Feather          int        `json:"feather"`     // edge feathering width in input pixels; 0 = flat weights
	Projection       string     `json:"projection"`  // output projection code (TAN, SIN, …)
	PixelScaleArcsec float64    `json:"pixel_scale"` // output scale in arcsec/px; 0 = median of the inputs
	NorthUp          bool       `json:"north_up"`    // no rotation instead of the minimum-area rectangle
	MemBudget        int64      `json:"mem_budget"`  // bytes for pixel buffers; see PlanMosaic
	HDU              string     `json:"hdu"`         // "" = first image HDU with data; index or EXTNAME
	SkipBad          bool       `json:"skip_bad"`    // skip unreadable inputs or inputs without a valid WCS
	// Match is the photometric matching of the inputs before they are blended: none, offset
	// (per-input sky offsets) or gain-offset (gains from the overlaps' signal spans, then
	// offsets). See matchInputs.
	Match string `json:"match"`
	// GridFrom, when set, is the output grid (--grid-from): its WCS with GridWidth×GridHeight
	// pixels replaces the optimal grid, and Projection, PixelScaleArcsec and NorthUp are unused.
	GridFrom   *wcs.WCS `json:"-"`
	GridWidth  int      `json:"grid_width,omitempty"`
	GridHeight int      `json:"grid_height,omitempty"`
	Workers    int      `json:"-"` // goroutines of the reprojection; 0 = GOMAXPROCS

	bandRows int // > 0: force this band height (tests of band independence)
}

// DefaultMosaicOptions is the one place mosaic defaults live; flags and config start from it.
func DefaultMosaicOptions() MosaicOptions {
	return MosaicOptions{
		Interp:     cpu.InterpLanczos3,
		Feather:    32,
		Projection: "TAN",
		MemBudget:  1 << 30,
		Match:      MatchOffset,
	}
}

// Validate reports every invalid setting at once.
func (o MosaicOptions) Validate() error {
	var errs []error
	if err := o.Interp.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
	}
	switch o.Match {
	case MatchNone, MatchOffset, MatchGainOffset:
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown match %q (want none, offset or gain-offset)", o.Match))
	}
	if o.Feather < 0 {
		errs = append(errs, fmt.Errorf("pipeline: feather must be >= 0 px, got %d", o.Feather))
	}
	if o.GridFrom == nil {
		g := sky.DefaultGridOptions()
		g.Projection = strings.TrimSpace(o.Projection)
		g.PixelScaleArcsec = o.PixelScaleArcsec
		if err := g.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("pipeline: %w", err))
		}
	} else if o.GridWidth <= 0 || o.GridHeight <= 0 || o.GridWidth > sky.MaxGridSide || o.GridHeight > sky.MaxGridSide {
		errs = append(errs, fmt.Errorf("pipeline: grid size %d×%d must be positive and at most %d per side", o.GridWidth, o.GridHeight, sky.MaxGridSide))
	}
	if math.IsNaN(o.PixelScaleArcsec) || math.IsInf(o.PixelScaleArcsec, 0) || o.PixelScaleArcsec < 0 {
		errs = append(errs, fmt.Errorf("pipeline: pixel scale must be finite and >= 0 arcsec/px, got %g", o.PixelScaleArcsec))
	}
	if o.MemBudget < MinMemBudget {
		errs = append(errs, fmt.Errorf("pipeline: mem budget %s is below the minimum %s", FormatSize(o.MemBudget), FormatSize(MinMemBudget)))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("pipeline: workers must be >= 0, got %d", o.Workers))
	}
	return errors.Join(errs...)
}

// MosaicPlan is how a mosaic uses its memory budget.
type MosaicPlan struct {
	Width, Height, Channels int
	BandRows                int   // output rows per band
	Bands                   int   // number of row bands
	PeakBytes               int64 // estimated pixel buffers at the peak
}

// PlanMosaic cuts a width×height×channels output into row bands that fit budget. The result
// image, its coverage and alpha are held whole (fixed); each band needs float64 sum and weight
// accumulators per channel plus the reprojected value and weight rows; the largest input
// window (maxInputPixels, all channels, with its mask, feather weights and distance scratch)
// is held once.
func PlanMosaic(width, height, channels int, maxInputPixels int64, budget int64) (MosaicPlan, error) {
	p := MosaicPlan{Width: width, Height: height, Channels: channels}
	if width <= 0 || height <= 0 || channels <= 0 {
		return p, fmt.Errorf("pipeline: mosaic of %d×%d×%d pixels", width, height, channels)
	}
	px := int64(width) * int64(height)
	fixed := px*int64(channels)*4*2 + px // image + coverage (float32 each) + alpha
	input := maxInputPixels * (int64(channels)*4 + 4 + 1 + 8)
	perRow := int64(width) * (int64(channels)*16 + 8)
	free := budget - fixed - input
	rows := int64(0)
	if free > 0 {
		rows = free / perRow
	}
	if rows < 1 {
		return p, fmt.Errorf("pipeline: mem budget %s is too small for a %d×%d×%d mosaic (needs at least %s)",
			FormatSize(budget), width, height, channels, FormatSize(fixed+input+perRow))
	}
	// Bands of a few hundred rows already amortise the per-band work (grid, input windows);
	// taller ones only cost memory.
	p.BandRows = int(min(rows, int64(height), 512))
	p.Bands = (height + p.BandRows - 1) / p.BandRows
	p.PeakBytes = fixed + input + perRow*int64(p.BandRows)
	return p, nil
}
