package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
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
		if *gridFrom != "" {
			if err := loadGrid(*gridFrom, opt.HDU, &opt); err != nil {
				a.errorf("grid_from_error", map[string]any{"file": *gridFrom, "error": err.Error()})
				return exitFailure
			}
		}
		if err := opt.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "mosaic", "error": err.Error()})
			return exitUsage
		}
		if err := stretch.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "mosaic", "error": err.Error()})
			return exitUsage
		}
		files, err := expandInputs(args, *out, pipeline.PreviewPath(*out), pipeline.CoveragePath(*out))
		if err != nil {
			a.errorf("input_error", map[string]any{"error": err.Error()})
			return exitFailure
		}
		if len(files) == 0 {
			a.errorf("no_inputs", map[string]any{"args": fmt.Sprint(args)})
			return exitFailure
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

// mosaic runs a mosaic and writes its outputs; the report is written even when the run fails.
func (a *app) mosaic(files []string, out string, opt pipeline.MosaicOptions, stretch cpu.StretchOptions, reportPath string, preview bool) int {
	debug.SetMemoryLimit(opt.MemBudget + 16<<20) // see (*app).stack
	start := time.Now()
	srcs := make([]pipeline.FrameSource, len(files))
	for i, f := range files {
		srcs[i] = pipeline.DiskFrame(f)
	}
	a.infof("mosaic_inputs", map[string]any{"frames": len(files), "budget": pipeline.FormatSize(opt.MemBudget)})
	res, err := pipeline.Mosaic(a.ctx, srcs, opt, pipeline.Hooks{Events: a.event, Progress: a.progressFunc()})
	rep := &pipeline.Report{Software: "zmosaic " + pipeline.Version, Command: "mosaic", Options: opt, Started: start}
	if res != nil {
		rep.Inputs, rep.Phases = res.Frames, res.Phases
		err = a.writeMosaicOutputs(res, out, stretch, preview, rep)
	}
	if code := a.finishReport(rep, start, err, reportPath, "mosaic_failed"); code != exitOK {
		return code
	}
	a.infof("mosaic_summary", map[string]any{
		"frames": res.Used, "output": out, "width": res.Image.Width, "height": res.Image.Height,
		"seconds": rep.Seconds, "peak_mb": float64(rep.PeakRSSBytes) / (1 << 20),
	})
	if skipped := len(res.Frames) - res.Used; skipped > 0 {
		a.errorf("mosaic_skipped_summary", map[string]any{"skipped": skipped})
	}
	return exitOK
}

func (a *app) writeMosaicOutputs(res *pipeline.MosaicResult, out string, stretch cpu.StretchOptions, preview bool, rep *pipeline.Report) error {
	if _, err := os.Stat(out); err == nil {
		for _, f := range res.Frames {
			if same(f.File, out) {
				return fmt.Errorf("output %s is one of the inputs", out)
			}
		}
	}
	t0 := time.Now()
	a.progressFunc()("write", 0, 1)
	cov := pipeline.CoveragePath(out)
	if err := pipeline.WriteMosaicFITS(out, cov, res); err != nil {
		return err
	}
	rep.Outputs = append(rep.Outputs, out, cov)
	a.progressFunc()("write", 1, 1)
	rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "write", Backend: "cpu", Seconds: time.Since(t0).Seconds()})
	if preview {
		t0 = time.Now()
		p := pipeline.PreviewPath(out)
		if err := pipeline.WritePreview(p, res.Image, stretch); err != nil {
			return err
		}
		rep.Outputs = append(rep.Outputs, p)
		rep.Phases = append(rep.Phases, pipeline.PhaseTiming{Name: "preview", Backend: "cpu", Seconds: time.Since(t0).Seconds()})
	}
	for _, o := range rep.Outputs {
		a.infof("wrote_file", map[string]any{"file": o})
	}
	return nil
}
