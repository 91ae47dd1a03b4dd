package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// StackOptions are every setting of a stack. JSON names are the config keys; flags use the same
// names with '-' for '_' (--kappa-low), and output headers and reports record them.
type StackOptions struct {
	cpu.StackOptions
	Weight cpu.Weight `json:"weight"` // noise | none
	Norm   cpu.Norm   `json:"norm"`   // linear | sky | none
	// Align is "none" (frames share one pixel grid) or "wcs": every frame is resampled with
	// Interp onto the grid of the frame nearest the group's centre (see align.go).
	Align     string     `json:"align"`
	Interp    cpu.Interp `json:"interp"`     // resampling kernel of align wcs: bilinear | bicubic | lanczos3
	MemBudget int64      `json:"mem_budget"` // bytes for pixel buffers; see PlanStack
	HDU       string     `json:"hdu"`        // "" = first image HDU with data; index or EXTNAME
	Reference int        `json:"reference"`  // index of the normalisation reference frame (0 = first)
	SkipBad   bool       `json:"skip_bad"`   // skip unreadable or mismatched frames instead of failing
	// Compute chooses where the combine runs and the GPU budget. Its keys (backend,
	// gpu_budget) sit at the top level of the JSON, like the other settings: see MarshalJSON.
	Compute compute.Options `json:"-"`
}

// stackOptionsJSON is StackOptions without its methods, so that MarshalJSON does not recurse.
type stackOptionsJSON StackOptions

// MarshalJSON writes the compute keys (backend, gpu_budget) beside the others: one flat set of
// config keys, as flags and reports name them.
func (o StackOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		stackOptionsJSON
		compute.Options
	}{stackOptionsJSON(o), o.Compute})
}

// UnmarshalJSON reads what MarshalJSON writes; absent keys keep their current values.
func (o *StackOptions) UnmarshalJSON(data []byte) error {
	v := struct {
		*stackOptionsJSON
		*compute.Options
	}{(*stackOptionsJSON)(o), &o.Compute}
	return json.Unmarshal(data, &v)
}

// DefaultStackOptions is the one place stacking defaults live; flags, config and the browser
// start from it.
func DefaultStackOptions() StackOptions {
	return StackOptions{
		StackOptions: cpu.DefaultStackOptions(),
		Weight:       cpu.Weight("noise"),
		Norm:         cpu.Norm("linear"),
		Align:        AlignNone,
		Interp:       cpu.InterpLanczos3,
		MemBudget:    1 << 30,
		Compute:      compute.DefaultOptions(),
	}
}

// Alignment modes of StackOptions.Align.
const (
	AlignNone = "none" // frames are already on one pixel grid and must share a shape
	AlignWCS  = "wcs"  // frames are resampled onto the reference frame's grid through their WCS
)

// MinMemBudget is the smallest budget accepted: below it the per-run overheads dominate.
const MinMemBudget = 16 << 20

// Validate reports every invalid setting at once.
func (o StackOptions) Validate() error {
	var errs []error
	if err := o.StackOptions.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch o.Weight {
	case "noise", "none":
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown weight %q (noise|none)", o.Weight))
	}
	switch o.Norm {
	case "linear", "sky", "none":
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown norm %q (linear|sky|none)", o.Norm))
	}
	switch o.Align {
	case AlignNone, AlignWCS:
	default:
		errs = append(errs, fmt.Errorf("pipeline: unknown align %q (none|wcs)", o.Align))
	}
	if err := o.Interp.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("pipeline: %w", err))
	}
	if o.MemBudget < MinMemBudget {
		errs = append(errs, fmt.Errorf("pipeline: mem budget %s is below the minimum %s", FormatSize(o.MemBudget), FormatSize(MinMemBudget)))
	}
	if err := o.Compute.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Reference < 0 {
		errs = append(errs, fmt.Errorf("pipeline: reference frame index %d is negative", o.Reference))
	}
	return errors.Join(errs...)
}
