package session

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// MosaicDefaults returns every option key of Mosaic with its default value, from
// pipeline.DefaultMosaicOptions (the CLI's defaults, compute options included) and
// cpu.DefaultStretchOptions. pixel_scale 0 means the median scale of the inputs.
func MosaicDefaults() map[string]any {
	o := pipeline.DefaultMosaicOptions()
	c := o.Compute
	s := cpu.DefaultStretchOptions()
	return map[string]any{
		"interp":      string(o.Interp),
		"feather":     o.Feather,
		"match":       o.Match,
		"projection":  o.Projection,
		"pixel_scale": o.PixelScaleArcsec,
		"north_up":    o.NorthUp,
		"combine":     o.Combine,
		"kappa_low":   float64(o.KappaLow),
		"kappa_high":  float64(o.KappaHigh),
		"backend":     string(c.Backend),
		"gpu_budget":  budgetString(c.GPUBudget),
		"p_low":       s.PLow,
		"p_high":      s.PHigh,
		"asinh":       s.Asinh,
	}
}

// ParseMosaicOptions turns the page's options object into mosaic options (their Compute
// included: backend, gpu_budget) and stretch options, with the rules of ParseOptions (absent keys keep their defaults, numeric strings are numbers,
// unknown keys are errors). The memory budget is the session's (see memBudget) and unusable
// inputs are skipped, since the page lists them with the reason.
func ParseMosaicOptions(m map[string]any) (pipeline.MosaicOptions, cpu.StretchOptions, error) {
	opt := pipeline.DefaultMosaicOptions()
	opt.MemBudget = memBudget
	opt.SkipBad = true
	opt.Compute.SoftwareInAuto = true // see the package doc
	st := cpu.DefaultStretchOptions()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if v == nil {
			continue
		}
		var err error
		switch k {
		case "interp":
			err = setString(v, func(s string) { opt.Interp = cpu.Interp(s) })
		case "match":
			err = setString(v, func(s string) { opt.Match = s })
		case "combine":
			err = setString(v, func(s string) { opt.Combine = s })
		case "kappa_low":
			err = setFloat(v, func(f float64) { opt.KappaLow = float32(f) })
		case "kappa_high":
			err = setFloat(v, func(f float64) { opt.KappaHigh = float32(f) })
		case "projection":
			// Projection codes are upper case (TAN, SIN): setString lowers its value.
			s, ok := v.(string)
			if !ok {
				err = fmt.Errorf("want a string, got %v", v)
			}
			opt.Projection = strings.ToUpper(strings.TrimSpace(s))
		case "feather":
			err = setWhole(v, func(n int) { opt.Feather = n })
		case "pixel_scale":
			err = setFloat(v, func(f float64) { opt.PixelScaleArcsec = f })
		case "north_up":
			b, ok := v.(bool)
			if !ok {
				err = fmt.Errorf("want true or false, got %v", v)
			}
			opt.NorthUp = b
		default:
			var known bool
			if known, err = setShared(k, v, &opt.Compute, &st); !known {
				err = fmt.Errorf("unknown option (known: %s)", strings.Join(slices.Sorted(maps.Keys(MosaicDefaults())), ", "))
			}
		}
		if err != nil {
			return opt, st, &OptionError{Key: k, Err: err}
		}
	}
	if err := opt.Validate(); err != nil {
		return opt, st, err
	}
	if err := st.Validate(); err != nil {
		return opt, st, err
	}
	return opt, st, nil
}
