package pipeline

import (
	"errors"
	"fmt"
	"image"
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

// MosaicPlan is how a mosaic uses its memory budget.
type MosaicPlan struct {
	Width, Height, Channels int
	BandRows                int   // output rows per band
	Bands                   int   // number of row bands
	Slots                   int   // inputs reprojected at the same time, each with its own window
	PeakBytes               int64 // estimated pixel buffers at the peak
}

// MosaicShape is what PlanMosaic needs to know about a mosaic.
type MosaicShape struct {
	Width, Height, Channels int
	MaxInputPixels          int64             // pixels of the largest input (one channel)
	SinkBytes               int64             // what the sink keeps for the whole run (MosaicSink.HeldBytes)
	Workers                 int               // goroutines; bounds Slots
	Layered                 bool              // Combine median or kappa: every input of a band held at once
	Boxes                   []image.Rectangle // the inputs' boxes on the output grid (Layered)
	ForceRows               int               // > 0: this band height (tests of band independence)
}

// mosaicMaxBandRows caps the band height: bands of a few hundred rows already amortise the
// per-band work (coordinate grids, input windows); taller ones only cost memory.
const mosaicMaxBandRows = 512

// PlanMosaic cuts the output into row bands that fit budget. Held for the whole run: what the
// sink keeps (the whole image for Mosaic, a preview when streaming to files). Per slot (an input
// being reprojected): the largest input window (all channels, with its mask, feather weights and
// distance scratch). Per band row: float64 sum and weight accumulators per channel, the
// finished band (value and coverage per channel, alpha) and the encoding buffer of the file
// writer; for mean, each slot's reprojected values and weights of one row; for median and kappa,
// the reprojected values and weights of every input that reaches the band (their boxes' widths)
// and the per-pixel sort scratch. Slots start at Workers and drop to 1 before the band height
// does; the band height then drops until the band with the most inputs fits.
func PlanMosaic(s MosaicShape, budget int64) (MosaicPlan, error) {
	width, height, channels := s.Width, s.Height, s.Channels
	p := MosaicPlan{Width: width, Height: height, Channels: channels}
	if width <= 0 || height <= 0 || channels <= 0 {
		return p, fmt.Errorf("pipeline: mosaic of %d×%d×%d pixels", width, height, channels)
	}
	nc := int64(channels)
	input := s.MaxInputPixels * (nc*4 + 4 + 1 + 8)
	band := int64(width) * (nc*16 + nc*8 + 1 + 4)
	layerPx := (nc + 1) * 4
	need := func(rows, slots int) int64 {
		b := s.SinkBytes + int64(slots)*input + band*int64(rows)
		if !s.Layered {
			return b + int64(slots)*int64(width)*layerPx*int64(rows)
		}
		worst := int64(0)
		for y0 := 0; y0 < height; y0 += rows {
			var sum int64
			for _, r := range s.Boxes {
				if r.Min.Y < y0+rows && r.Max.Y > y0 && r.Dx() > 0 {
					sum += int64(r.Dx())
				}
			}
			worst = max(worst, sum)
		}
		return b + worst*int64(rows)*layerPx
	}
	top := min(height, mosaicMaxBandRows)
	if s.ForceRows > 0 {
		top = min(s.ForceRows, height)
	}
	rows, slots := top, max(1, s.Workers)
	for slots > 1 && need(rows, slots) > budget {
		slots--
	}
	for rows > 1 && need(rows, slots) > budget {
		rows = max(1, min(rows-1, rows*7/8))
	}
	if s.ForceRows == 0 && need(rows, slots) > budget {
		why := ""
		if s.Layered {
			deepest := 0
			for y := range height {
				n := 0
				for _, r := range s.Boxes {
					if r.Min.Y <= y && r.Max.Y > y && r.Dx() > 0 {
						n++
					}
				}
				deepest = max(deepest, n)
			}
			why = fmt.Sprintf("; combine median and kappa hold every input of a band at once, and up to %d inputs overlap in one row", deepest)
		}
		return p, fmt.Errorf("pipeline: mem budget %s is too small for a %d×%d×%d mosaic (one row band needs %s%s)",
			FormatSize(budget), width, height, channels, FormatSize(need(1, 1)), why)
	}
	p.BandRows, p.Slots = rows, slots
	p.Bands = (height + rows - 1) / rows
	p.PeakBytes = need(rows, slots)
	return p, nil
}
