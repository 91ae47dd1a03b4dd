package main

import (
	"encoding/json"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

func compareCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	fit := fs.Bool("fit", false, a.t("flag_fit", nil))
	cfa := fs.String("cfa", "", a.t("flag_cfa", nil))
	return func(args []string) int {
		if len(args) != 2 {
			a.errorf("usage_compare_needs", nil)
			return exitUsage
		}
		img, err := fits.ReadImage(args[0], "")
		if err != nil {
			a.errorf("read_failed", map[string]any{"file": args[0], "error": err.Error()})
			return exitFailure
		}
		ref, err := fits.ReadImage(args[1], "")
		if err != nil {
			a.errorf("read_failed", map[string]any{"file": args[1], "error": err.Error()})
			return exitFailure
		}
		refPix := ref.Pix
		if *cfa != "" {
			if refPix, err = pipeline.MosaicCFA(ref, *cfa); err != nil {
				a.errorf("usage_error", map[string]any{"command": "compare", "error": err.Error()})
				return exitUsage
			}
		}
		c, err := pipeline.Compare(img.Pix, refPix, *fit)
		if err != nil {
			a.errorf("compare_failed", map[string]any{"error": err.Error()})
			return exitFailure
		}
		enc := json.NewEncoder(a.stdout)
		if err := enc.Encode(c); err != nil {
			return exitFailure
		}
		return exitOK
	}
}
