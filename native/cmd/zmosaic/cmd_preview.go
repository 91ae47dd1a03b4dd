package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// addStretchFlags adds the preview stretch flags shared by stack and preview.
func addStretchFlags(a *app, fs *pflag.FlagSet) *cpu.StretchOptions {
	def := cpu.DefaultStretchOptions()
	opt := def
	fs.Float64Var(&opt.PLow, "p-low", def.PLow, a.t("flag_p_low", nil))
	fs.Float64Var(&opt.PHigh, "p-high", def.PHigh, a.t("flag_p_high", nil))
	fs.Float64Var(&opt.Asinh, "asinh", def.Asinh, a.t("flag_asinh", nil))
	return &opt
}

func previewCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	out := fs.StringP("output", "o", "", a.t("flag_output_png", nil))
	hdu := fs.String("hdu", "", a.t("flag_hdu", nil))
	stretch := addStretchFlags(a, fs)
	cf := addComputeFlags(a, fs, true)
	return func(args []string) int {
		if len(args) != 1 {
			a.errorf("usage_preview_needs", nil)
			return exitUsage
		}
		if err := stretch.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "preview", "error": err.Error()})
			return exitUsage
		}
		c, ok := cf.options(a, "preview")
		if !ok {
			return exitUsage
		}
		dst := *out
		if dst == "" {
			dst = pipeline.PreviewPath(args[0])
		}
		img, err := fits.ReadImage(args[0], *hdu)
		if err != nil {
			a.errorf("read_failed", map[string]any{"file": args[0], "error": err.Error()})
			return exitFailure
		}
		// Opened after the input is read: a missing file should not cost a device start.
		runner := compute.NewRunner(a.ctx, c, a.event)
		defer runner.Close()
		if err := pipeline.WritePreviewWith(a.ctx, runner, dst, img, *stretch); err != nil {
			a.errorf("write_failed", map[string]any{"file": dst, "error": err.Error()})
			return exitFailure
		}
		a.infof("wrote_file", map[string]any{"file": dst})
		if n := runner.ForcedFallbacks(); n > 0 {
			// As for stack: --backend gpu never falls back silently.
			a.warnf("gpu_forced_fallback_summary", map[string]any{"count": n})
		}
		return exitOK
	}
}

// same reports whether two paths name the same existing file.
func same(p, q string) bool {
	a, err1 := os.Stat(p)
	b, err2 := os.Stat(q)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}
