package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

func stackCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	def := pipeline.DefaultStackOptions()
	opt := def
	var reject, combine, weight, norm, interp string
	out := fs.StringP("output", "o", "", a.t("flag_output", nil))
	fs.StringVar(&reject, "reject", string(def.Reject), a.t("flag_reject", nil))
	fs.StringVar(&combine, "combine", string(def.Combine), a.t("flag_combine", nil))
	fs.Float32Var(&opt.KappaLow, "kappa-low", def.KappaLow, a.t("flag_kappa_low", nil))
	fs.Float32Var(&opt.KappaHigh, "kappa-high", def.KappaHigh, a.t("flag_kappa_high", nil))
	fs.IntVar(&opt.Iterations, "iterations", def.Iterations, a.t("flag_iterations", nil))
	fs.StringVar(&weight, "weight", string(def.Weight), a.t("flag_weight", nil))
	fs.StringVar(&norm, "norm", string(def.Norm), a.t("flag_norm", nil))
	fs.StringVar(&opt.Align, "align", def.Align, a.t("flag_stack_align", nil))
	fs.StringVar(&interp, "interp", string(def.Interp), a.t("flag_interp", nil))
	fs.IntVar(&opt.Reference, "reference", def.Reference, a.t("flag_reference", nil))
	fs.StringVar(&opt.HDU, "hdu", def.HDU, a.t("flag_hdu", nil))
	budget := fs.String("mem-budget", pipeline.FormatSizeFlag(def.MemBudget), a.t("flag_mem_budget", nil))
	fs.IntVar(&opt.Workers, "workers", 0, a.t("flag_workers", nil))
	cf := addComputeFlags(a, fs, true)
	fs.BoolVar(&opt.SkipBad, "skip-bad", def.SkipBad, a.t("flag_skip_bad", nil))
	report := fs.String("report", "", a.t("flag_report", nil))
	noPreview := fs.Bool("no-preview", false, a.t("flag_no_preview", nil))
	saveCount := fs.Bool("save-count", false, a.t("flag_save_count", nil))
	stretch := addStretchFlags(a, fs)
	return func(args []string) int {
		if *out == "" || len(args) == 0 {
			a.errorf("usage_stack_needs", nil)
			return exitUsage
		}
		opt.Reject, opt.Combine = cpu.Reject(reject), cpu.Combine(combine)
		opt.Weight, opt.Norm, opt.Interp = cpu.Weight(weight), cpu.Norm(norm), cpu.Interp(interp)
		b, err := pipeline.ParseSize(*budget)
		if err != nil {
			a.errorf("usage_error", map[string]any{"command": "stack", "error": err.Error()})
			return exitUsage
		}
		opt.MemBudget = b
		c, ok := cf.options(a, "stack")
		if !ok {
			return exitUsage
		}
		opt.Compute = c
		if !a.validOptions("stack", opt.Validate, stretch.Validate) {
			return exitUsage
		}
		files, ok := a.inputFiles(args, *out, pipeline.PreviewPath(*out), pipeline.CountPath(*out))
		if !ok {
			return exitFailure
		}
		return a.stack(files, *out, opt, *stretch, *report, !*noPreview, *saveCount)
	}
}

// stack runs a stack and writes its outputs; the report is written even when the run fails,
// so a failure leaves its reasons on disk.
func (a *app) stack(files []string, out string, opt pipeline.StackOptions, stretch cpu.StretchOptions, reportPath string, preview, count bool) int {
	// Let the GC work harder as the heap nears the budget: the plan counts live buffers, and
	// without a limit garbage between bands could double the resident size. 16 MiB over the
	// budget, not more: the Vulkan driver (lavapipe's LLVM) lives outside the Go heap, and with
	// 64 MiB the 64 × 2048² stack at 256 MiB peaked at 375 MiB instead of 335 MiB, no faster.
	debug.SetMemoryLimit(opt.MemBudget + 16<<20)
	start := time.Now()
	srcs := make([]pipeline.FrameSource, len(files))
	for i, f := range files {
		srcs[i] = pipeline.DiskFrame(f)
	}
	a.infof("stack_inputs", map[string]any{"frames": len(files), "budget": pipeline.FormatSize(opt.MemBudget)})
	// One Runner for the stack and the preview: one device, one set of decisions and fallbacks
	// (a device lost while stacking is not tried again for the preview), one summary.
	runner := compute.NewRunner(a.ctx, opt.Compute, a.event)
	defer runner.Close()
	res, err := pipeline.StackWith(a.ctx, runner, srcs, opt, pipeline.Hooks{Events: a.event, Progress: a.progressFunc()})
	rep := &pipeline.Report{Software: "zmosaic " + pipeline.Version, Command: "stack", Options: opt}
	if res != nil {
		rep = pipeline.NewStackReport(res, opt)
	}
	rep.Started = start
	if err == nil {
		err = a.writeStackOutputs(runner, res, out, stretch, preview, count, rep)
	}
	// The summary again, now with the preview's stretch (rep.Compute points at res.Compute).
	sum := runner.Summary()
	if res != nil {
		res.Compute = sum
	} else {
		rep.Compute = &sum
	}
	if code := a.finishReport(rep, start, err, reportPath, "stack_failed"); code != exitOK {
		return code
	}
	a.infof("stack_summary", map[string]any{
		"frames": res.Used, "output": out, "seconds": rep.Seconds,
		"rejected_low_pct": rep.Rejection.LowPercent, "rejected_high_pct": rep.Rejection.HighPercent,
		"peak_mb": float64(rep.PeakRSSBytes) / (1 << 20),
	})
	if n := sum.ForcedFallbacks; n > 0 {
		// --backend gpu never falls back silently: the count closes the run, even with --quiet.
		a.warnf("gpu_forced_fallback_summary", map[string]any{"count": n})
	}
	if skipped := len(res.Frames) - res.Used; skipped > 0 {
		a.errorf("stack_skipped_summary", map[string]any{"skipped": skipped})
	}
	return exitOK
}

func (a *app) writeStackOutputs(runner *compute.Runner, res *pipeline.StackResult, out string, stretch cpu.StretchOptions, preview, count bool, rep *pipeline.Report) error {
	t0 := time.Now()
	a.progressFunc()("write", 0, 1)
	if err := fitsWrite(out, res); err != nil {
		return err
	}
	rep.Outputs = append(rep.Outputs, out)
	if count {
		p := pipeline.CountPath(out)
		if err := pipeline.WriteCount(p, res.Image, res.Kept); err != nil {
			return err
		}
		rep.Outputs = append(rep.Outputs, p)
	}
	a.progressFunc()("write", 1, 1)
	rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "write", Backend: "cpu", Seconds: time.Since(t0).Seconds()})
	if preview {
		t0 = time.Now()
		p := pipeline.PreviewPath(out)
		if err := pipeline.WritePreviewWith(a.ctx, runner, p, res.Image, stretch); err != nil {
			return err
		}
		rep.Outputs = append(rep.Outputs, p)
		rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "preview", Backend: opBackend(runner, "stretch"), Seconds: time.Since(t0).Seconds()})
	}
	for _, o := range rep.Outputs {
		a.infof("wrote_file", map[string]any{"file": o})
	}
	return nil
}

func fitsWrite(out string, res *pipeline.StackResult) error {
	if _, err := os.Stat(out); err == nil {
		// Overwriting is allowed (rename is atomic), but never over one of the inputs.
		for _, f := range res.Frames {
			if same(f.File, out) {
				return fmt.Errorf("output %s is one of the inputs", out)
			}
		}
	}
	return pipeline.WriteStackFITS(out, res)
}

// opBackend is where the Runner ran an operation ("gpu", "cpu" or "gpu+cpu"); "cpu" when it
// never ran.
func opBackend(r *compute.Runner, op string) string {
	for _, o := range r.Report() {
		if o.Op == op {
			return o.Backend
		}
	}
	return "cpu"
}
