package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// RunOptions are every setting of a hierarchical run (Run, `zmosaic run`). The JSON names are
// the config keys of `--config FILE.json` and, with '-' for '_', the flag names; the report
// and every master tile's manifest record them. Settings shared in name by the stack and the
// mosaic keep the stack's name (as `zmosaic stack` spells them: interp, combine, kappa_low),
// and the mosaic's get a mosaic_ prefix.
type RunOptions struct {
	// Scan.
	ScanWorkers int `json:"scan_workers"` // headers read at once (0 = 4)

	// Preprocess.
	// Bayer overrides the frames' BAYERPAT: "" (or "auto") reads it from each header, "none"
	// treats every frame as mono, RGGB|BGGR|GRBG|GBRG forces that pattern on one-plane frames.
	Bayer string `json:"bayer"`
	// HotPixels replaces hot pixels (5×5 median + k·σ, spec §1.2 step 3), on the raw CFA mosaic
	// before debayering for Bayer frames, per plane otherwise.
	HotPixels         bool    `json:"hot_pixels"`
	HotPixelThreshold float64 `json:"hot_pixel_threshold"` // k
	// HotPixelIsolation is cpu.HotPixelOptions.Isolation. The run's default is 8, not the
	// kernel's 3: on a CFA mosaic the neighbourhood has a stride of 2 px, where a 2.5 px FWHM
	// star's same-colour neighbours are at about 17 % of its peak, so with 3 the star's core
	// counts as a hot pixel (−9 % flux on the bright stars of the synthetic Seestar set of
	// run_e2e_test.go); 8 leaves the stars as without correction, and a real hot pixel (a lone
	// spike of hundreds of σ) is still caught.
	HotPixelIsolation float64 `json:"hot_pixel_isolation"`
	// Background removes each frame's sky gradient after debayering (cpu.FitBackground, then
	// SubtractBackground through the Runner): "none" (default) keeps the frames as they are,
	// "poly1" subtracts a fitted plane and "poly2" a quadratic surface, both fitted on the
	// luminance over 16 boxes along the shorter side and subtracted from every channel
	// minus their median, so the sky level is kept (see backgroundOptions).
	Background         string `json:"background"`
	PreprocessWorkers  int    `json:"preprocess_workers"` // frames preprocessed at once (0 = GOMAXPROCS, bounded by mem_budget)
	CacheVerifyContent bool   `json:"cache_verify"`       // hash cache entries before reuse (see CacheOptions)

	// Cluster.
	ClusterDeg       float64 `json:"cluster_deg"`
	ClusterAutoRelax bool    `json:"cluster_auto_relax"`
	MaxFramesPerTile int     `json:"max_frames_per_tile"` // 0 = no cap

	// Master tiles (the stack of each group, aligned by WCS).
	Reject     cpu.Reject  `json:"reject"`
	Combine    cpu.Combine `json:"combine"`
	KappaLow   float32     `json:"kappa_low"`
	KappaHigh  float32     `json:"kappa_high"`
	Iterations int         `json:"iterations"`
	Weight     cpu.Weight  `json:"weight"`
	Norm       cpu.Norm    `json:"norm"`
	Interp     cpu.Interp  `json:"interp"` // resampling of the frames onto their tile's grid

	// Mosaic of the master tiles.
	MosaicInterp     cpu.Interp `json:"mosaic_interp"`
	Feather          int        `json:"feather"`
	Match            string     `json:"match"`
	MosaicCombine    string     `json:"mosaic_combine"`
	MosaicKappaLow   float32    `json:"mosaic_kappa_low"`
	MosaicKappaHigh  float32    `json:"mosaic_kappa_high"`
	InputWeights     string     `json:"input_weights"` // per-tile weights from frame counts: none | frames | tempered
	Projection       string     `json:"projection"`
	PixelScaleArcsec float64    `json:"pixel_scale"` // arcsec/px; 0 = median of the tiles
	NorthUp          bool       `json:"north_up"`

	// Budgets and backend.
	MemBudget Size            `json:"mem_budget"` // bytes for pixel buffers of each phase
	GPUBudget Size            `json:"gpu_budget"` // 0 = auto
	Backend   compute.Backend `json:"backend"`    // auto | gpu | cpu
	Workers   int             `json:"workers"`    // goroutines of the stack and mosaic kernels (0 = GOMAXPROCS)

	// Solver plate-solves frames without a usable WCS; nil skips them (they are reported).
	Solver Solver `json:"-"`
	// Compute holds what cannot come from a config file (fault injection, software adapters in
	// auto); Backend and GPUBudget above override its fields.
	Compute compute.Options `json:"-"`
}

// Size is a byte count that a config file may also write as a string ("512MiB", "2GiB"), as
// on the command line.
type Size int64

// UnmarshalJSON accepts a number of bytes or a ParseSize string; "auto" is 0.
func (s *Size) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if strings.EqualFold(strings.TrimSpace(str), "auto") {
			*s = 0
			return nil
		}
		n, err := ParseSize(str)
		if err != nil {
			return err
		}
		*s = Size(n)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("pipeline: size %s: want bytes or a string such as \"512MiB\"", b)
	}
	*s = Size(n)
	return nil
}

// DefaultRunOptions is the one place run defaults live: they come from the phases' own
// defaults (DefaultStackOptions, DefaultMosaicOptions, DefaultClusterOptions, …).
func DefaultRunOptions() RunOptions {
	st := DefaultStackOptions()
	mo := DefaultMosaicOptions()
	cl := DefaultClusterOptions()
	hp := cpu.DefaultHotPixelOptions()
	return RunOptions{
		ScanWorkers:        DefaultScanOptions().Workers,
		Bayer:              "",
		HotPixels:          true,
		HotPixelThreshold:  hp.Threshold,
		HotPixelIsolation:  runHotPixelIsolation,
		Background:         "none",
		CacheVerifyContent: DefaultCacheOptions().VerifyContent,
		ClusterDeg:         cl.ThresholdDeg,
		ClusterAutoRelax:   cl.AutoRelax,
		MaxFramesPerTile:   cl.MaxFramesPerTile,
		Reject:             st.Reject,
		Combine:            st.Combine,
		KappaLow:           st.KappaLow,
		KappaHigh:          st.KappaHigh,
		Iterations:         st.Iterations,
		Weight:             st.Weight,
		Norm:               st.Norm,
		Interp:             st.Interp,
		MosaicInterp:       mo.Interp,
		Feather:            mo.Feather,
		Match:              mo.Match,
		MosaicCombine:      mo.Combine,
		MosaicKappaLow:     mo.KappaLow,
		MosaicKappaHigh:    mo.KappaHigh,
		InputWeights:       mo.InputWeights,
		Projection:         mo.Projection,
		PixelScaleArcsec:   mo.PixelScaleArcsec,
		NorthUp:            mo.NorthUp,
		MemBudget:          Size(st.MemBudget),
		GPUBudget:          Size(st.Compute.GPUBudget),
		Backend:            st.Compute.Backend,
		Compute:            compute.DefaultOptions(),
	}
}

// runHotPixelIsolation is the run's default HotPixelIsolation (see there).
const runHotPixelIsolation = 8

// Validate reports every invalid setting at once, through the phases' own Validate.
func (o RunOptions) Validate() error {
	var errs []error
	if o.ScanWorkers < 0 || o.PreprocessWorkers < 0 || o.Workers < 0 {
		errs = append(errs, fmt.Errorf("pipeline: worker counts must be >= 0 (scan_workers %d, preprocess_workers %d, workers %d)",
			o.ScanWorkers, o.PreprocessWorkers, o.Workers))
	}
	if _, err := o.bayerOverride(); err != nil {
		errs = append(errs, err)
	}
	if o.HotPixels {
		if err := o.hotPixelOptions(false).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("pipeline: %w", err))
		}
	}
	if _, _, err := o.backgroundOptions(); err != nil {
		errs = append(errs, err)
	}
	if err := o.clusterOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.stackOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.mosaicOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bayerOverride is the pattern --bayer forces: ok false with "" or "auto" (read BAYERPAT),
// pattern 0 with "none" (mono).
func (o RunOptions) bayerOverride() (p cpu.BayerPattern, err error) {
	switch strings.ToLower(strings.TrimSpace(o.Bayer)) {
	case "", "auto", "none":
		return 0, nil
	}
	p, err = cpu.ParseBayerPattern(o.Bayer)
	if err != nil {
		return 0, fmt.Errorf("pipeline: bayer: %w (or auto, none)", err)
	}
	return p, nil
}

func (o RunOptions) bayerNone() bool { return strings.EqualFold(strings.TrimSpace(o.Bayer), "none") }

// Background removal choices (RunOptions.Background).
const (
	BackgroundNone  = "none"
	BackgroundPoly1 = "poly1"
	BackgroundPoly2 = "poly2"
)

// backgroundOptions is the fit --background asks for; ok is false for "none". The names are
// exact (lower case), as they are part of every cache key.
func (o RunOptions) backgroundOptions() (opt cpu.BackgroundOptions, ok bool, err error) {
	opt = cpu.DefaultBackgroundOptions()
	switch o.Background {
	case BackgroundNone:
		return opt, false, nil
	case BackgroundPoly1:
		opt.Degree = 1
	case BackgroundPoly2:
		opt.Degree = 2
	default:
		return opt, false, fmt.Errorf("pipeline: unknown background %q (want none, poly1 or poly2)", o.Background)
	}
	return opt, true, nil
}

func (o RunOptions) hotPixelOptions(cfa bool) cpu.HotPixelOptions {
	return cpu.HotPixelOptions{Threshold: o.HotPixelThreshold, Isolation: o.HotPixelIsolation, CFA: cfa}
}

func (o RunOptions) computeOptions() compute.Options {
	c := o.Compute
	c.Backend, c.GPUBudget = o.Backend, int64(o.GPUBudget)
	return c
}

func (o RunOptions) scanOptions(exclude []string) ScanOptions {
	s := DefaultScanOptions()
	s.Workers, s.Exclude = o.ScanWorkers, exclude
	return s
}

func (o RunOptions) clusterOptions() ClusterOptions {
	c := DefaultClusterOptions()
	c.ThresholdDeg, c.AutoRelax, c.MaxFramesPerTile = o.ClusterDeg, o.ClusterAutoRelax, o.MaxFramesPerTile
	return c
}

// stackOptions are the master tiles' settings: always aligned by WCS onto the frame nearest
// the group's centre.
func (o RunOptions) stackOptions() StackOptions {
	s := DefaultStackOptions()
	s.Reject, s.Combine, s.KappaLow, s.KappaHigh, s.Iterations = o.Reject, o.Combine, o.KappaLow, o.KappaHigh, o.Iterations
	s.Weight, s.Norm, s.Interp = o.Weight, o.Norm, o.Interp
	s.Align = AlignWCS
	s.MemBudget = int64(o.MemBudget)
	s.Workers = o.Workers
	s.Compute = o.computeOptions()
	return s
}

func (o RunOptions) mosaicOptions() MosaicOptions {
	m := DefaultMosaicOptions()
	m.Interp, m.Feather, m.Match, m.Combine = o.MosaicInterp, o.Feather, o.Match, o.MosaicCombine
	m.KappaLow, m.KappaHigh = o.MosaicKappaLow, o.MosaicKappaHigh
	m.InputWeights = o.InputWeights
	m.Projection, m.PixelScaleArcsec, m.NorthUp = o.Projection, o.PixelScaleArcsec, o.NorthUp
	m.MemBudget = int64(o.MemBudget)
	m.Workers = o.Workers
	m.Compute = o.computeOptions()
	return m
}

// preprocessKey is what a cache entry depends on besides its input file: the settings that
// change its pixels or header. Field names are part of every cache key: renaming one
// invalidates all caches, which is the safe direction.
type preprocessKey struct {
	Bayer      string  `json:"bayer"` // pattern applied, "" for mono
	HotPixels  bool    `json:"hot_pixels"`
	Threshold  float64 `json:"hot_pixel_threshold,omitempty"`
	Isolation  float64 `json:"hot_pixel_isolation,omitempty"`
	Background string  `json:"background"`
	// BackgroundFit is the fit's settings (cpu.BackgroundOptions as JSON) when Background is
	// not none, so that a change of the fit's defaults invalidates the entries it made.
	BackgroundFit string `json:"background_fit,omitempty"`
	Solver        string `json:"solver,omitempty"` // who solved the WCS, when the header had none
	WCS           string `json:"wcs,omitempty"`    // hash of the solved WCS cards
}

// DecodeRunOptions reads a config file's JSON over o: keys absent keep o's values, unknown keys
// are errors naming the key.
func DecodeRunOptions(data []byte, o *RunOptions) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		return fmt.Errorf("pipeline: config: %w", err)
	}
	if dec.More() {
		return errors.New("pipeline: config: data after the JSON object")
	}
	return nil
}
