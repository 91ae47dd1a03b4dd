package cpu

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidOptions is wrapped by every Validate error of this package.
var ErrInvalidOptions = errors.New("cpu: invalid options")

// ErrShape is wrapped by errors about inconsistent buffer lengths.
var ErrShape = errors.New("cpu: inconsistent buffer shape")

// Reject names a per-pixel rejection method.
type Reject string

// Rejection methods. RejectWinsor is the default.
const (
	RejectWinsor Reject = "winsor" // PixInsight winsorized sigma clipping (Huber estimate, then rejection)
	RejectKappa  Reject = "kappa"  // iterative median-centred kappa-sigma clip
	RejectLinear Reject = "linear" // linear-fit clip over the sorted samples
	RejectNone   Reject = "none"   // no rejection
)

// Validate reports whether r names a known method.
func (r Reject) Validate() error {
	switch r {
	case RejectWinsor, RejectKappa, RejectLinear, RejectNone:
		return nil
	}
	return fmt.Errorf("%w: unknown reject %q (want winsor, kappa, linear or none)", ErrInvalidOptions, string(r))
}

// Combine names how the kept samples of a pixel become one value.
type Combine string

// Combination methods. CombineMean is the default.
const (
	CombineMean   Combine = "mean"   // weighted mean Σw·v/Σw
	CombineMedian Combine = "median" // median, weights ignored
	CombineMin    Combine = "min"
	CombineMax    Combine = "max"
)

// Validate reports whether c names a known method.
func (c Combine) Validate() error {
	switch c {
	case CombineMean, CombineMedian, CombineMin, CombineMax:
		return nil
	}
	return fmt.Errorf("%w: unknown combine %q (want mean, median, min or max)", ErrInvalidOptions, string(c))
}

// MaxIterations bounds StackOptions.Iterations; more iterations never change a
// converged clip and would only let a bad config stall a run.
const MaxIterations = 1000

// StackOptions configures StackBand.
type StackOptions struct {
	Reject     Reject  `json:"reject"`
	Combine    Combine `json:"combine"`
	KappaLow   float32 `json:"kappa_low"`  // lower clip bound in σ; > 0
	KappaHigh  float32 `json:"kappa_high"` // upper clip bound in σ; > 0
	Iterations int     `json:"iterations"` // max iterations for winsor, kappa and linear; 1..MaxIterations
	Workers    int     `json:"-"`          // goroutines; 0 = runtime.GOMAXPROCS(0)
}

// DefaultStackOptions returns the defaults of ZeMosaic: winsor, mean, κ 3/3, 10 iterations.
func DefaultStackOptions() StackOptions {
	return StackOptions{
		Reject:     RejectWinsor,
		Combine:    CombineMean,
		KappaLow:   3,
		KappaHigh:  3,
		Iterations: 10,
	}
}

// Validate checks every field of o.
func (o StackOptions) Validate() error {
	if err := o.Reject.Validate(); err != nil {
		return err
	}
	if err := o.Combine.Validate(); err != nil {
		return err
	}
	if !positiveFinite(float64(o.KappaLow)) {
		return fmt.Errorf("%w: kappa_low must be a finite number > 0, got %v", ErrInvalidOptions, o.KappaLow)
	}
	if !positiveFinite(float64(o.KappaHigh)) {
		return fmt.Errorf("%w: kappa_high must be a finite number > 0, got %v", ErrInvalidOptions, o.KappaHigh)
	}
	if o.Iterations < 1 || o.Iterations > MaxIterations {
		return fmt.Errorf("%w: iterations must be in [1, %d], got %d", ErrInvalidOptions, MaxIterations, o.Iterations)
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: workers must be >= 0, got %d", ErrInvalidOptions, o.Workers)
	}
	return nil
}

func positiveFinite(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

// Affine is the normalisation x' = Gain*x + Offset applied to a frame's
// samples before stacking.
type Affine struct{ Gain, Offset float32 }

// Identity is the normalisation that leaves samples unchanged.
var Identity = Affine{Gain: 1, Offset: 0}

// Weight names how per-frame weights are derived.
type Weight string

// Weighting methods. WeightNoise is the default.
const (
	WeightNoise Weight = "noise" // inverse noise variance (spec §2.4 noise_variance)
	WeightNone  Weight = "none"  // all frames weigh 1
)

// Validate reports whether w names a known method.
func (w Weight) Validate() error {
	switch w {
	case WeightNoise, WeightNone:
		return nil
	}
	return fmt.Errorf("%w: unknown weight %q (want noise or none)", ErrInvalidOptions, string(w))
}

// Norm names how frames are normalised to the reference frame.
type Norm string

// Normalisation methods. NormLinear is the default.
const (
	NormLinear Norm = "linear" // gain and offset from P25/P90 (spec §2.3 linear_fit)
	NormSky    Norm = "sky"    // offset from P25 (spec §2.3 sky_mean, per channel)
	NormNone   Norm = "none"
)

// Validate reports whether n names a known method.
func (n Norm) Validate() error {
	switch n {
	case NormLinear, NormSky, NormNone:
		return nil
	}
	return fmt.Errorf("%w: unknown norm %q (want linear, sky or none)", ErrInvalidOptions, string(n))
}
