package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/synth"
)

// addSynthFlags adds the data-set flags shared by synth and demo.
func addSynthFlags(a *app, fs *pflag.FlagSet, def synth.Options) *synth.Options {
	o := def
	fs.IntVar(&o.Frames, "frames", def.Frames, a.t("flag_frames", nil))
	fs.IntVar(&o.Width, "width", def.Width, a.t("flag_width", nil))
	fs.IntVar(&o.Height, "height", def.Height, a.t("flag_height", nil))
	fs.Uint64Var(&o.Seed, "seed", def.Seed, a.t("flag_seed", nil))
	fs.StringVar(&o.Bayer, "bayer", def.Bayer, a.t("flag_bayer", nil))
	fs.IntVar(&o.Stars, "stars", def.Stars, a.t("flag_stars", nil))
	fs.IntVar(&o.CosmicRays, "cosmic-rays", def.CosmicRays, a.t("flag_cosmic_rays", nil))
	fs.Float64Var(&o.Satellites, "satellites", def.Satellites, a.t("flag_satellites", nil))
	fs.IntVar(&o.HotPixels, "hot-pixels", def.HotPixels, a.t("flag_hot_pixels", nil))
	fs.BoolVar(&o.Artefacts, "artefacts", def.Artefacts, a.t("flag_artefacts", nil))
	fs.StringVar(&o.Mosaic, "mosaic", def.Mosaic, a.t("flag_synth_mosaic", nil))
	fs.Float64Var(&o.Overlap, "overlap", def.Overlap, a.t("flag_overlap", nil))
	fs.Float64Var(&o.RotateDeg, "rotate", def.RotateDeg, a.t("flag_rotate", nil))
	fs.Float64Var(&o.DitherPx, "dither", def.DitherPx, a.t("flag_dither", nil))
	return &o
}

func synthCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	o := addSynthFlags(a, fs, synth.DefaultOptions())
	return func(args []string) int {
		if len(args) != 1 {
			a.errorf("usage_synth_needs", nil)
			return exitUsage
		}
		if err := o.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "synth", "error": err.Error()})
			return exitUsage
		}
		if _, err := a.synth(args[0], *o); err != nil {
			return exitFailure
		}
		return exitOK
	}
}

// synth writes a data set into dir: frames in dir/lights, truth.fits and catalog.csv in dir.
// It returns the folder holding the frames.
func (a *app) synth(dir string, o synth.Options) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.errorf("write_failed", map[string]any{"file": dir, "error": err.Error()})
		return "", err
	}
	paths, err := synth.Write(a.ctx, dir, o, func(done, total int) { a.progressFunc()("synth", done, total) })
	if err != nil {
		a.errorf("synth_failed", map[string]any{"dir": dir, "error": err.Error()})
		return "", err
	}
	a.infof("synth_done", map[string]any{"frames": o.Frames, "dir": dir, "files": len(paths)})
	return filepath.Join(dir, synth.LightsDir), nil
}
