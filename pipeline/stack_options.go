package pipeline

import (
	"errors"
	"fmt"

	"github.com/zmosaic/zmosaic/cpu"
)

// StackOptions are every setting of a stack. JSON names are the config keys; flags use the same
// names with '-' for '_' (--kappa-low), and output headers and reports record them.
type StackOptions struct {
	cpu.StackOptions
	Weight    cpu.Weight `json:"weight"`     // noise | none
	Norm      cpu.Norm   `json:"norm"`       // linear | sky | none
	Align     string     `json:"align"`      // none (wcs arrives with the mosaic issue)
	MemBudget int64      `json:"mem_budget"` // bytes for pixel buffers; see PlanStack
	HDU       string     `json:"hdu"`        // "" = first image HDU with data; index or EXTNAME
	Reference int        `json:"reference"`  // index of the normalisation reference frame (0 = first)
	SkipBad   bool       `json:"skip_bad"`   // skip unreadable or mismatched frames instead of failing
}

// DefaultStackOptions is the one place stacking defaults live; flags, config and the browser
// start from it.
func DefaultStackOptions() StackOptions {
	return StackOptions{
		StackOptions: cpu.DefaultStackOptions(),
		Weight:       cpu.Weight("noise"),
		Norm:         cpu.Norm("linear"),
		Align:        "none",
		MemBudget:    1 << 30,
	}
}

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
	if o.Align != "none" {
		errs = append(errs, fmt.Errorf("pipeline: align %q is not available yet (only none: frames must share a shape)", o.Align))
	}
	if o.MemBudget < MinMemBudget {
		errs = append(errs, fmt.Errorf("pipeline: mem budget %s is below the minimum %s", FormatSize(o.MemBudget), FormatSize(MinMemBudget)))
	}
	if o.Reference < 0 {
		errs = append(errs, fmt.Errorf("pipeline: reference frame index %d is negative", o.Reference))
	}
	return errors.Join(errs...)
}
