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

// addSeestarFlags adds the synth-only flags of Seestar-like sets and bad-input injection to o.
func addSeestarFlags(a *app, fs *pflag.FlagSet, o *synth.Options) {
	fs.BoolVar(&o.Seestar, "seestar", o.Seestar, a.t("flag_seestar", nil))
	fs.Float64Var(&o.FieldRotationDeg, "field-rotation", o.FieldRotationDeg, a.t("flag_field_rotation", nil))
	fs.IntVar(&o.Corrupt, "corrupt", o.Corrupt, a.t("flag_corrupt", nil))
	fs.IntVar(&o.NoWCS, "no-wcs", o.NoWCS, a.t("flag_no_wcs", nil))
}

// framesAlias makes --frames-per-panel another spelling of --frames (frames per panel of a
// mosaic, the name issue 5 and Seestar users know), so the two can never disagree.
func framesAlias(fs *pflag.FlagSet) {
	prev := fs.GetNormalizeFunc()
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, n string) pflag.NormalizedName {
		if m := prev(f, n); m != "frames-per-panel" {
			return m
		}
		return "frames"
	})
}

// seestarPreset returns the options of `synth --seestar`: synth.SeestarOptions with every flag
// given on the command line applied on top, so --width 270 shrinks the preset's frames.
func seestarPreset(a *app, fs *pflag.FlagSet) (synth.Options, error) {
	ps := pflag.NewFlagSet("seestar", pflag.ContinueOnError)
	ps.SetNormalizeFunc(fs.GetNormalizeFunc())
	o := addSynthFlags(a, ps, synth.SeestarOptions())
	addSeestarFlags(a, ps, o)
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if ps.Lookup(f.Name) != nil && err == nil {
			err = ps.Set(f.Name, f.Value.String())
		}
	})
	return *o, err
}

func synthCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	o := addSynthFlags(a, fs, synth.DefaultOptions())
	addSeestarFlags(a, fs, o)
	framesAlias(fs)
	return func(args []string) int {
		if len(args) != 1 {
			a.errorf("usage_synth_needs", nil)
			return exitUsage
		}
		if o.Seestar {
			p, err := seestarPreset(a, fs)
			if err != nil {
				a.errorf("usage_error", map[string]any{"command": "synth", "error": err.Error()})
				return exitUsage
			}
			*o = p
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
	a.infof("synth_done", map[string]any{"frames": o.TotalFrames(), "dir": dir, "files": len(paths)})
	if o.Corrupt > 0 || o.NoWCS > 0 {
		a.infof("synth_injected", map[string]any{"corrupt": o.Corrupt, "no_wcs": o.NoWCS})
	}
	return filepath.Join(dir, synth.LightsDir), nil
}
