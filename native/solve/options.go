package solve

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Options configure a solver. Zero fields take the defaults of DefaultOptions, so the zero
// Options is ready to use.
type Options struct {
	// Executable is the solver program: a path, or a name looked up on PATH. Empty looks up
	// "astap" then "astap_cli" (ASTAP) or "solve-field" (astrometry.net).
	Executable string
	// Timeout bounds one solver run (ASTAP's retry is a second run); default 60 s.
	Timeout time.Duration
	// Downsample is the binning the solver applies before detecting stars; default 2.
	Downsample int
	// RadiusDeg is the search radius around the header's pointing, degrees; default 3.
	RadiusDeg float64
	// DatabaseDir is ASTAP's star database folder (-d) or a folder of astrometry.net index
	// files; empty leaves the solver's own default.
	DatabaseDir string
	// ExtraArgs are appended to the solver's command line before the input file.
	ExtraArgs []string
	// TempDir is where the private working folders are made; empty is the system default.
	TempDir string
}

// Defaults, as ZeMosaic's solver settings.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultDownsample = 2
	DefaultRadiusDeg  = 3.0
)

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{Timeout: DefaultTimeout, Downsample: DefaultDownsample, RadiusDeg: DefaultRadiusDeg}
}

// Validate reports options that cannot be used.
func (o Options) Validate() error {
	var errs []error
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("solve: timeout must be >= 0, got %v", o.Timeout))
	}
	if o.Downsample < 0 || o.Downsample > 16 {
		errs = append(errs, fmt.Errorf("solve: downsample must be in [0, 16], got %d", o.Downsample))
	}
	if o.RadiusDeg < 0 || o.RadiusDeg > 180 || math.IsNaN(o.RadiusDeg) {
		errs = append(errs, fmt.Errorf("solve: search radius must be in [0, 180] degrees, got %g", o.RadiusDeg))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	if o.Downsample == 0 {
		o.Downsample = d.Downsample
	}
	if o.RadiusDeg == 0 {
		o.RadiusDeg = d.RadiusDeg
	}
	o.ExtraArgs = append([]string(nil), o.ExtraArgs...)
	return o
}
