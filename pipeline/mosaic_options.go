package pipeline

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
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
	// Combine is how overlapping inputs become one pixel: mean (the feather-weighted mean),
	// median (median of the inputs' values, weights ignored) or kappa (median-centred
	// kappa-sigma clip of the values, then the feather-weighted mean of those kept). See
	// combinePixel.
	Combine   string  `json:"combine"`
	KappaLow  float32 `json:"kappa_low"`  // kappa: lower clip bound in σ
	KappaHigh float32 `json:"kappa_high"` // kappa: upper clip bound in σ
	// Compute chooses where reprojection runs and the GPU budget (as StackOptions.Compute).
	Compute compute.Options `json:"-"`
	// InputWeights is the weight of each input, multiplying its feather weights: none, frames
	// (∝ the frame count in NCOMBINE/MT_NFRAMES, 1 when absent) or tempered (√ of the count
	// relative to the median, clipped to [0.75, 1.35]). See inputWeights.
	InputWeights string `json:"input_weights"`

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
		Combine:    CombineMean,
		KappaLow:   3,
		KappaHigh:  3,
		Compute:    compute.DefaultOptions(),

		InputWeights: InputWeightsTempered,
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
	switch o.Combine {
	case CombineMean, CombineMedian, CombineKappa:
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown combine %q (want mean, median or kappa)", o.Combine))
	}
	switch o.InputWeights {
	case InputWeightsNone, InputWeightsFrames, InputWeightsTempered:
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown input weights %q (want none, frames or tempered)", o.InputWeights))
	}
	if !(o.KappaLow > 0) || !(o.KappaHigh > 0) || math.IsInf(float64(o.KappaLow), 0) || math.IsInf(float64(o.KappaHigh), 0) {
		errs = append(errs, fmt.Errorf("pipeline: kappa bounds must be finite and > 0, got %g and %g", o.KappaLow, o.KappaHigh))
	}
	if err := o.Compute.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
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

// Combination modes of MosaicOptions.Combine.
const (
	CombineMean   = "mean"
	CombineMedian = "median"
	CombineKappa  = "kappa"
)

// kappaIterations bounds the clip of Combine kappa, as the stacking default does.
const kappaIterations = 10

func (o MosaicOptions) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}
