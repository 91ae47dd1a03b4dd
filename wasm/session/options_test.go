package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

func TestDefaultsRoundTripToTheLibraryDefaults(t *testing.T) {
	d := Defaults()
	assert.Len(t, d, 12)
	opt, st, err := ParseOptions(d)
	require.NoError(t, err)
	want := pipeline.DefaultStackOptions()
	want.MemBudget, want.SkipBad, want.Compute.SoftwareInAuto = memBudget, true, true
	assert.Equal(t, want, opt)
	assert.Equal(t, cpu.DefaultStretchOptions(), st)
	assert.Equal(t, "auto", d["gpu_budget"])
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]any
		check   func(t *testing.T, o pipeline.StackOptions, s cpu.StretchOptions)
		wantErr string
	}{
		{"numbers may be strings from inputs", map[string]any{"kappa_low": "2.5", "iterations": "4", "p_high": 99.5},
			func(t *testing.T, o pipeline.StackOptions, s cpu.StretchOptions) {
				assert.Equal(t, float32(2.5), o.KappaLow)
				assert.Equal(t, 4, o.Iterations)
				assert.Equal(t, 99.5, s.PHigh)
			}, ""},
		{"enums are trimmed and lower-cased", map[string]any{"reject": " Kappa ", "combine": "MEDIAN", "backend": "GPU"},
			func(t *testing.T, o pipeline.StackOptions, _ cpu.StretchOptions) {
				assert.Equal(t, cpu.RejectKappa, o.Reject)
				assert.Equal(t, cpu.CombineMedian, o.Combine)
				assert.Equal(t, compute.BackendGPU, o.Compute.Backend)
			}, ""},
		{"gpu_budget as a size", map[string]any{"gpu_budget": "64MiB"},
			func(t *testing.T, o pipeline.StackOptions, _ cpu.StretchOptions) {
				assert.Equal(t, int64(64<<20), o.Compute.GPUBudget)
			}, ""},
		{"gpu_budget as bytes", map[string]any{"gpu_budget": float64(8 << 20)},
			func(t *testing.T, o pipeline.StackOptions, _ cpu.StretchOptions) {
				assert.Equal(t, int64(8<<20), o.Compute.GPUBudget)
			}, ""},
		{"null keeps the default", map[string]any{"kappa_high": nil},
			func(t *testing.T, o pipeline.StackOptions, _ cpu.StretchOptions) {
				assert.Equal(t, float32(3), o.KappaHigh)
			}, ""},
		{"unknown key", map[string]any{"kapa": 1.0}, nil, "option kapa: unknown option"},
		{"number expected", map[string]any{"kappa_low": "lots"}, nil, `option kappa_low: want a number, got "lots"`},
		{"string expected", map[string]any{"norm": 3.0}, nil, "option norm: want a string"},
		{"fractional iterations", map[string]any{"iterations": 2.5}, nil, "option iterations: want a whole number"},
		{"negative budget", map[string]any{"gpu_budget": -1.0}, nil, "option gpu_budget"},
		{"validation of the library", map[string]any{"backend": "quantum"}, nil, `unknown backend "quantum"`},
		{"stretch validation", map[string]any{"p_low": 50.0}, nil, "p_low must be in [0, 20]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, s, err := ParseOptions(tc.in)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, o, s)
		})
	}
}

func TestJSSafeKeepsOnlyValuesJavaScriptTakes(t *testing.T) {
	type custom struct{ A int }
	got := jsSafe(map[string]any{"n": 3, "f": 1.5, "s": "x", "nested": []any{custom{2}}, "e": compute.Warn})
	assert.Equal(t, map[string]any{"n": 3, "f": 1.5, "s": "x", "nested": []any{"{2}"}, "e": "warn"}, got)
}
