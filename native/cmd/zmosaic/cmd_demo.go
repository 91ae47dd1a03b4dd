package main

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/synth"
)

// demoSynthOptions is the demo's data set: a small Seestar-like 3×3 mosaic (GRBG uint16
// frames of 240×320 px, 8 per panel, field rotation, dithers, hot pixels, cosmic rays and
// satellites) with one truncated file and one frame without WCS, so that the run shows every
// phase and how it reports bad inputs, in well under a minute on two cores.
func demoSynthOptions() synth.Options {
	o := synth.SeestarOptions()
	o.Width, o.Height, o.Frames = 240, 320, 8
	o.Mosaic, o.Overlap, o.DitherPx, o.FieldRotationDeg = "3x3", 0.3, 3, 6
	o.Stars, o.Seed = 120, 7
	o.Corrupt, o.NoWCS = 1, 1
	return o
}

func demoCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	o := addSynthFlags(a, fs, demoSynthOptions())
	addSeestarFlags(a, fs, o)
	framesAlias(fs)
	def := pipeline.DefaultRunOptions()
	backend := fs.String("backend", string(def.Backend), a.t("flag_backend", nil))
	budget := fs.String("mem-budget", pipeline.FormatSizeFlag(int64(def.MemBudget)), a.t("flag_mem_budget", nil))
	return func(args []string) int {
		dir := "zmosaic-demo"
		switch len(args) {
		case 0:
		case 1:
			dir = args[0]
		default:
			a.errorf("usage_demo_needs", nil)
			return exitUsage
		}
		opt := pipeline.DefaultRunOptions()
		opt.Backend = compute.Backend(*backend)
		b, err := pipeline.ParseSize(*budget)
		if err == nil {
			opt.MemBudget = pipeline.Size(b)
			err = o.Validate()
		}
		if err == nil {
			err = opt.Validate()
		}
		if err != nil {
			a.errorf("usage_error", map[string]any{"command": "demo", "error": err.Error()})
			return exitUsage
		}
		lights, err := a.synth(dir, *o)
		if err != nil {
			return exitFailure
		}
		out := filepath.Join(dir, "out")
		if code := a.runPipeline(lights, out, opt, "", []string{"zmosaic", "demo", dir}); code != exitOK {
			return code
		}
		// The demo always says where things are, even with --quiet: that is its purpose.
		a.quiet = false
		a.infof("demo_run_done", map[string]any{
			"mosaic": filepath.Join(out, pipeline.RunMosaicName), "preview": filepath.Join(out, pipeline.RunPreviewName),
			"tiles": filepath.Join(out, pipeline.TilesDirName), "report": filepath.Join(out, pipeline.RunReportName),
			"log": filepath.Join(out, pipeline.RunLogName), "truth": filepath.Join(dir, "truth.fits"), "frames": lights,
		})
		return exitOK
	}
}
