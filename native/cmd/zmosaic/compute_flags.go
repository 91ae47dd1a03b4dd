package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// faultEnv names the variable that makes the GPU fail on purpose. Libraries never read the
// environment: it is parsed here into gpu.Faults.
const faultEnv = "ZMOSAIC_GPU_FAULT"

// parseFaults reads a ZMOSAIC_GPU_FAULT value: a comma-separated list of oom@N (the N-th buffer
// allocation fails), lost@N (the N-th queue submission loses the device) and compile (every
// shader compilation fails); N counts from 1. An empty value injects nothing.
func parseFaults(s string) (gpu.Faults, error) {
	var f gpu.Faults
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		kind, count, hasCount := strings.Cut(item, "@")
		if seen[kind] {
			return gpu.Faults{}, fmt.Errorf("%q is given twice", kind)
		}
		seen[kind] = true
		switch kind {
		case "compile":
			if hasCount {
				return gpu.Faults{}, fmt.Errorf("%q takes no count", item)
			}
			f.Compile = true
		case "oom", "lost":
			n, err := strconv.Atoi(count)
			if !hasCount || err != nil || n < 1 {
				return gpu.Faults{}, fmt.Errorf("%q needs a count N >= 1 (%s@N)", item, kind)
			}
			if kind == "oom" {
				f.OOMAt = n
			} else {
				f.LostAt = n
			}
		default:
			return gpu.Faults{}, fmt.Errorf("unknown fault %q", item)
		}
	}
	return f, nil
}

// computeFlags are --backend and --gpu-budget, shared by stack, preview and gpu.
type computeFlags struct {
	backend, budget *string
}

// addComputeFlags declares the flags with their defaults from compute.DefaultOptions.
func addComputeFlags(a *app, fs *pflag.FlagSet, withBackend bool) computeFlags {
	def := compute.DefaultOptions()
	var c computeFlags
	if withBackend {
		c.backend = fs.String("backend", string(def.Backend), a.t("flag_backend", nil))
	}
	c.budget = fs.String("gpu-budget", budgetFlag(def.GPUBudget), a.t("flag_gpu_budget", nil))
	return c
}

func budgetFlag(b int64) string {
	if b == 0 {
		return "auto"
	}
	return pipeline.FormatSizeFlag(b)
}

// options turns the flags and ZMOSAIC_GPU_FAULT into compute.Options; a bad value prints a
// localised usage error and gives ok false (exit 2).
func (c computeFlags) options(a *app, command string) (compute.Options, bool) {
	opt := compute.DefaultOptions()
	if c.backend != nil {
		opt.Backend = compute.Backend(strings.ToLower(*c.backend))
	}
	if b := strings.TrimSpace(*c.budget); !strings.EqualFold(b, "auto") {
		n, err := pipeline.ParseSize(b)
		if err != nil {
			a.errorf("usage_error", map[string]any{"command": command, "error": err.Error()})
			return opt, false
		}
		opt.GPUBudget = n
	}
	env := os.Getenv(faultEnv)
	f, err := parseFaults(env)
	if err != nil {
		a.errorf("fault_env_invalid", map[string]any{"value": env, "error": err.Error()})
		return opt, false
	}
	opt.Faults = f
	if err := opt.Validate(); err != nil {
		a.errorf("usage_error", map[string]any{"command": command, "error": err.Error()})
		return opt, false
	}
	return opt, true
}
