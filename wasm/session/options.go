package session

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// memBudget bounds the pixel buffers of a browser stack. wasm32 addresses 4 GiB at most and
// browsers often grant less, so the CLI's 1 GiB default is too greedy here.
const memBudget = 256 << 20

// Defaults returns every option key of Stack with its default value, from
// pipeline.DefaultStackOptions, compute.DefaultOptions and cpu.DefaultStretchOptions.
// gpu_budget is "auto" (0 bytes).
func Defaults() map[string]any {
	o := pipeline.DefaultStackOptions()
	s := cpu.DefaultStretchOptions()
	return map[string]any{
		"reject":     string(o.Reject),
		"combine":    string(o.Combine),
		"kappa_low":  float64(o.KappaLow),
		"kappa_high": float64(o.KappaHigh),
		"iterations": o.Iterations,
		"weight":     string(o.Weight),
		"norm":       string(o.Norm),
		"backend":    string(o.Compute.Backend),
		"gpu_budget": budgetString(o.Compute.GPUBudget),
		"p_low":      s.PLow,
		"p_high":     s.PHigh,
		"asinh":      s.Asinh,
	}
}

func budgetString(b int64) any {
	if b == 0 {
		return "auto"
	}
	return b
}

// OptionError is an option the page got wrong: which key, and why.
type OptionError struct {
	Key string
	Err error
}

func (e *OptionError) Error() string { return fmt.Sprintf("session: option %s: %v", e.Key, e.Err) }
func (e *OptionError) Unwrap() error { return e.Err }

// ParseOptions turns the page's options object into stack and stretch options. Absent keys
// keep their defaults; numbers may arrive as numbers or as numeric strings (input values);
// gpu_budget is "auto", 0, a number of bytes or a size such as "256MiB". An unknown key is an
// error, so that a typo never silently runs with a default. The result is validated.
func ParseOptions(m map[string]any) (pipeline.StackOptions, cpu.StretchOptions, error) {
	opt := pipeline.DefaultStackOptions()
	opt.MemBudget = memBudget
	opt.SkipBad = true                // the page lists unreadable files; the others still stack
	opt.Compute.SoftwareInAuto = true // see the package doc
	st := cpu.DefaultStretchOptions()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if v == nil {
			continue
		}
		var err error
		switch k {
		case "reject":
			err = setString(v, func(s string) { opt.Reject = cpu.Reject(s) })
		case "combine":
			err = setString(v, func(s string) { opt.Combine = cpu.Combine(s) })
		case "weight":
			err = setString(v, func(s string) { opt.Weight = cpu.Weight(s) })
		case "norm":
			err = setString(v, func(s string) { opt.Norm = cpu.Norm(s) })
		case "kappa_low":
			err = setFloat(v, func(f float64) { opt.KappaLow = float32(f) })
		case "kappa_high":
			err = setFloat(v, func(f float64) { opt.KappaHigh = float32(f) })
		case "iterations":
			err = setWhole(v, func(n int) { opt.Iterations = n })
		default:
			var known bool
			if known, err = setShared(k, v, &opt.Compute, &st); !known {
				err = fmt.Errorf("unknown option (known: %s)", strings.Join(slices.Sorted(maps.Keys(Defaults())), ", "))
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

// setShared sets the options every operation of the page takes (backend, GPU budget,
// stretch); known is false for another key.
func setShared(k string, v any, c *compute.Options, st *cpu.StretchOptions) (known bool, err error) {
	switch k {
	case "backend":
		err = setString(v, func(s string) { c.Backend = compute.Backend(s) })
	case "gpu_budget":
		c.GPUBudget, err = parseBudget(v)
	case "p_low":
		err = setFloat(v, func(f float64) { st.PLow = f })
	case "p_high":
		err = setFloat(v, func(f float64) { st.PHigh = f })
	case "asinh":
		err = setFloat(v, func(f float64) { st.Asinh = f })
	default:
		return false, nil
	}
	return true, err
}

// setWhole sets a whole number given as a JSON number.
func setWhole(v any, set func(int)) error {
	err := setFloat(v, func(f float64) { set(int(f)) })
	if err == nil && !isIntegral(v) {
		err = fmt.Errorf("want a whole number, got %v", v)
	}
	return err
}

func setString(v any, set func(string)) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want a string, got %v", v)
	}
	set(strings.ToLower(strings.TrimSpace(s)))
	return nil
}

func setFloat(v any, set func(float64)) error {
	f, err := number(v)
	if err != nil {
		return err
	}
	set(f)
	return nil
}

// number reads a JavaScript number, or a numeric string as an <input> gives it.
func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		if x != x {
			return 0, fmt.Errorf("want a number, got NaN")
		}
		return x, nil
	case int:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || f != f {
			return 0, fmt.Errorf("want a number, got %q", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %v", v)
}

func isIntegral(v any) bool {
	f, err := number(v)
	return err == nil && f == float64(int64(f))
}

// parseBudget reads gpu_budget: "auto"/""/0 = automatic, bytes, or a size string.
func parseBudget(v any) (int64, error) {
	if s, ok := v.(string); ok {
		t := strings.ToLower(strings.TrimSpace(s))
		if t == "" || t == "auto" {
			return 0, nil
		}
		return pipeline.ParseSize(t)
	}
	f, err := number(v)
	if err != nil {
		return 0, err
	}
	if f < 0 || f != float64(int64(f)) {
		return 0, fmt.Errorf("want a whole number of bytes, got %v", v)
	}
	return int64(f), nil
}
