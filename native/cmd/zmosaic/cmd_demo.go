package main

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/synth"
)

func demoCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	o := addSynthFlags(a, fs, synth.DefaultOptions())
	stretch := addStretchFlags(a, fs)
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
		if err := o.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "demo", "error": err.Error()})
			return exitUsage
		}
		lights, err := a.synth(dir, *o)
		if err != nil {
			return exitFailure
		}
		files, err := expandInputs([]string{lights})
		if err != nil || len(files) == 0 {
			a.errorf("no_inputs", map[string]any{"args": lights})
			return exitFailure
		}
		out := filepath.Join(dir, "stack.fits")
		report := filepath.Join(dir, "stack_report.json")
		if code := a.stack(files, out, pipeline.DefaultStackOptions(), *stretch, report, true, true); code != exitOK {
			return code
		}
		// The demo always says where things are, even with --quiet: that is its purpose.
		a.quiet = false
		a.infof("demo_done", map[string]any{
			"stack": out, "preview": pipeline.PreviewPath(out), "report": report,
			"truth": filepath.Join(dir, "truth.fits"), "frames": lights,
		})
		return exitOK
	}
}
