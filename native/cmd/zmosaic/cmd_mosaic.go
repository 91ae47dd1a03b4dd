package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

func mosaicCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	def := pipeline.DefaultMosaicOptions()
	opt := def
	var interp string
	out := fs.StringP("output", "o", "", a.t("flag_output", nil))
	fs.StringVar(&interp, "interp", string(def.Interp), a.t("flag_interp", nil))
	fs.IntVar(&opt.Feather, "feather", def.Feather, a.t("flag_feather", nil))
	fs.StringVar(&opt.Projection, "projection", def.Projection, a.t("flag_projection", nil))
	fs.Float64Var(&opt.PixelScaleArcsec, "pixel-scale", def.PixelScaleArcsec, a.t("flag_pixel_scale", nil))
	fs.BoolVar(&opt.NorthUp, "north-up", def.NorthUp, a.t("flag_north_up", nil))
	gridFrom := fs.String("grid-from", "", a.t("flag_grid_from", nil))
	fs.StringVar(&opt.HDU, "hdu", def.HDU, a.t("flag_hdu", nil))
	budget := fs.String("mem-budget", pipeline.FormatSizeFlag(def.MemBudget), a.t("flag_mem_budget", nil))
	fs.IntVar(&opt.Workers, "workers", 0, a.t("flag_workers", nil))
	fs.BoolVar(&opt.SkipBad, "skip-bad", def.SkipBad, a.t("flag_skip_bad", nil))
	fs.StringVar(&opt.Match, "match", def.Match, a.t("flag_match", nil))
	fs.StringVar(&opt.Combine, "combine", def.Combine, a.t("flag_mosaic_combine", nil))
	fs.StringVar(&opt.InputWeights, "input-weights", def.InputWeights, a.t("flag_input_weights", nil))
	fs.Float32Var(&opt.KappaLow, "kappa-low", def.KappaLow, a.t("flag_kappa_low", nil))
	fs.Float32Var(&opt.KappaHigh, "kappa-high", def.KappaHigh, a.t("flag_kappa_high", nil))
	cf := addComputeFlags(a, fs, true)
	cpuProfile := fs.String("cpuprofile", "", a.t("flag_cpuprofile", nil))
	_ = fs.MarkHidden("cpuprofile") // a developer's tool, not part of the interface
	report := fs.String("report", "", a.t("flag_report", nil))
	noPreview := fs.Bool("no-preview", false, a.t("flag_no_preview", nil))
	stretch := addStretchFlags(a, fs)
	return func(args []string) int {
		if *out == "" || len(args) == 0 {
			a.errorf("usage_mosaic_needs", nil)
			return exitUsage
		}
		opt.Interp = cpu.Interp(interp)
		b, err := pipeline.ParseSize(*budget)
		if err != nil {
			a.errorf("usage_error", map[string]any{"command": "mosaic", "error": err.Error()})
			return exitUsage
		}
		opt.MemBudget = b
		c, ok := cf.options(a, "mosaic")
		if !ok {
			return exitUsage
		}
		opt.Compute = c
		if *gridFrom != "" {
			if err := loadGrid(*gridFrom, opt.HDU, &opt); err != nil {
				a.errorf("grid_from_error", map[string]any{"file": *gridFrom, "error": err.Error()})
				return exitFailure
			}
		}
		if !a.validOptions("mosaic", opt.Validate, stretch.Validate) {
			return exitUsage
		}
		files, ok := a.inputFiles(args, *out, pipeline.PreviewPath(*out), pipeline.CoveragePath(*out))
		if !ok {
			return exitFailure
		}
		if *cpuProfile != "" {
			stop, err := startCPUProfile(*cpuProfile)
			if err != nil {
				a.errorf("write_failed", map[string]any{"file": *cpuProfile, "error": err.Error()})
				return exitFailure
			}
			defer stop()
		}
		return a.mosaic(files, *out, opt, *stretch, *report, !*noPreview)
	}
}

// loadGrid reads the output grid of --grid-from: the WCS and size of a FITS file's image.
func loadGrid(name, hdu string, opt *pipeline.MosaicOptions) error {
	f, err := fits.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	im, err := f.Image(hdu)
	if err != nil {
		return err
	}
	g, err := sky.GridFromHeader(im.Header, im.Width, im.Height)
	if err != nil {
		return err
	}
	opt.GridFrom, opt.GridWidth, opt.GridHeight = g, im.Width, im.Height
	return nil
}

// startCPUProfile writes a CPU profile (runtime/pprof) to name until stop is called.
func startCPUProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// mosaic runs a mosaic, streaming it band by band to OUT.fits (with ALPHA), OUT_coverage.fits
// and a downsampled preview, so that memory stays within the budget whatever the mosaic's
// size; the report is written even when the run fails.
func (a *app) mosaic(files []string, out string, opt pipeline.MosaicOptions, stretch cpu.StretchOptions, reportPath string, preview bool) int {
	debug.SetMemoryLimit(opt.MemBudget + 16<<20) // see (*app).stack
	start := time.Now()
	srcs := make([]pipeline.FrameSource, len(files))
	for i, f := range files {
		srcs[i] = pipeline.DiskFrame(f)
	}
	a.infof("mosaic_inputs", map[string]any{"frames": len(files), "budget": pipeline.FormatSize(opt.MemBudget)})
	rep := &pipeline.Report{Software: "zmosaic " + pipeline.Version, Command: "mosaic", Options: opt, Started: start}
	// One Runner for the reprojection and the preview's stretch: one device, one summary.
	runner := compute.NewRunner(a.ctx, opt.Compute, a.event)
	defer runner.Close()
	res, err := a.runMosaic(runner, srcs, out, opt, stretch, preview, rep)
	sum := runner.Summary()
	rep.Compute = &sum
	if res != nil {
		rep.Inputs = res.Frames
		res.Compute = sum
	}
	if code := a.finishReport(rep, start, err, reportPath, "mosaic_failed"); code != exitOK {
		return code
	}
	a.infof("mosaic_summary", map[string]any{
		"frames": res.Used, "output": out, "width": res.Image.Width, "height": res.Image.Height,
		"seconds": rep.Seconds, "peak_mb": float64(rep.PeakRSSBytes) / (1 << 20),
	})
	if n := sum.ForcedFallbacks; n > 0 {
		a.warnf("gpu_forced_fallback_summary", map[string]any{"count": n})
	}
	if skipped := len(res.Frames) - res.Used; skipped > 0 {
		a.errorf("mosaic_skipped_summary", map[string]any{"skipped": skipped})
	}
	return exitOK
}

// runMosaic streams the mosaic into its files and writes the preview; on failure nothing is
// left at the output names.
func (a *app) runMosaic(runner *compute.Runner, srcs []pipeline.FrameSource, out string, opt pipeline.MosaicOptions,
	stretch cpu.StretchOptions, preview bool, rep *pipeline.Report) (*pipeline.MosaicResult, error) {
	if _, err := os.Stat(out); err == nil {
		for _, s := range srcs {
			if same(s.Name(), out) {
				return nil, fmt.Errorf("output %s is one of the inputs", out)
			}
		}
	}
	sink := &pipeline.MosaicFileSink{Name: out, Coverage: pipeline.CoveragePath(out)}
	if preview {
		sink.PreviewSide = pipeline.DefaultPreviewSide
	}
	res, err := pipeline.MosaicTo(a.ctx, runner, srcs, opt, pipeline.Hooks{Events: a.event, Progress: a.progressFunc()}, sink)
	if res != nil {
		rep.Phases = res.Phases
	}
	if err == nil {
		t0 := time.Now()
		err = sink.Close()
		rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "write", Backend: "cpu", Seconds: time.Since(t0).Seconds()})
	}
	if err != nil {
		sink.Abort()
		return res, err
	}
	rep.Outputs = append(rep.Outputs, out, sink.Coverage)
	if preview {
		t0 := time.Now()
		p := pipeline.PreviewPath(out)
		if err := pipeline.WritePreviewWith(a.ctx, runner, p, sink.Preview(), stretch); err != nil {
			return res, err
		}
		rep.Outputs = append(rep.Outputs, p)
		rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "preview", Backend: opBackend(runner, "stretch"), Seconds: time.Since(t0).Seconds()})
	}
	for _, o := range rep.Outputs {
		a.infof("wrote_file", map[string]any{"file": o})
	}
	return res, nil
}
