package cpu_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

func TestDefaultOptionsAreValid(t *testing.T) {
	require.NoError(t, cpu.DefaultStackOptions().Validate())
	require.NoError(t, cpu.DefaultStretchOptions().Validate())
	d := cpu.DefaultStackOptions()
	assert.Equal(t, cpu.RejectWinsor, d.Reject)
	assert.Equal(t, cpu.CombineMean, d.Combine)
	assert.Equal(t, float32(3), d.KappaLow)
	assert.Equal(t, float32(3), d.KappaHigh)
	assert.Equal(t, 10, d.Iterations)
	assert.Equal(t, cpu.StretchOptions{PLow: 1, PHigh: 99.9, Asinh: 12}, cpu.DefaultStretchOptions())
}

func TestStackOptionsValidateRejectsInvalid(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*cpu.StackOptions)
	}{
		{"unknown reject", func(o *cpu.StackOptions) { o.Reject = "sigma" }},
		{"empty reject", func(o *cpu.StackOptions) { o.Reject = "" }},
		{"unknown combine", func(o *cpu.StackOptions) { o.Combine = "sum" }},
		{"zero kappa_low", func(o *cpu.StackOptions) { o.KappaLow = 0 }},
		{"negative kappa_high", func(o *cpu.StackOptions) { o.KappaHigh = -1 }},
		{"NaN kappa", func(o *cpu.StackOptions) { o.KappaLow = float32(math.NaN()) }},
		{"infinite kappa", func(o *cpu.StackOptions) { o.KappaHigh = float32(math.Inf(1)) }},
		{"zero iterations", func(o *cpu.StackOptions) { o.Iterations = 0 }},
		{"too many iterations", func(o *cpu.StackOptions) { o.Iterations = cpu.MaxIterations + 1 }},
		{"negative workers", func(o *cpu.StackOptions) { o.Workers = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := cpu.DefaultStackOptions()
			tc.mutate(&o)
			err := o.Validate()
			require.ErrorIs(t, err, cpu.ErrInvalidOptions)
			assert.Regexp(t, "^cpu: ", err.Error())
		})
	}
}

func TestStretchOptionsValidateRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  cpu.StretchOptions
	}{
		{"p_low above 20", cpu.StretchOptions{PLow: 21, PHigh: 99, Asinh: 12}},
		{"negative p_low", cpu.StretchOptions{PLow: -1, PHigh: 99, Asinh: 12}},
		{"p_high too close to p_low", cpu.StretchOptions{PLow: 10, PHigh: 10.05, Asinh: 12}},
		{"p_high above 100", cpu.StretchOptions{PLow: 1, PHigh: 101, Asinh: 12}},
		{"asinh too small", cpu.StretchOptions{PLow: 1, PHigh: 99, Asinh: 0}},
		{"asinh too large", cpu.StretchOptions{PLow: 1, PHigh: 99, Asinh: 500}},
		{"NaN percentile", cpu.StretchOptions{PLow: math.NaN(), PHigh: 99, Asinh: 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.opt.Validate(), cpu.ErrInvalidOptions)
		})
	}
}

func TestMethodNamesValidate(t *testing.T) {
	assert.NoError(t, cpu.WeightNoise.Validate())
	assert.NoError(t, cpu.WeightNone.Validate())
	assert.Error(t, cpu.Weight("fwhm").Validate())
	for _, n := range []cpu.Norm{cpu.NormLinear, cpu.NormSky, cpu.NormNone} {
		assert.NoError(t, n.Validate())
	}
	assert.Error(t, cpu.Norm("sky_mean").Validate())
}
