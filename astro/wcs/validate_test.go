package wcs

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *WCS)
		width  int
		want   []error
		text   string
	}{
		{"a good frame passes", func(w *WCS) {}, 1024, nil, ""},
		{"a singular CD matrix is reported", func(w *WCS) { w.CD = [2][2]float64{{1e-4, 2e-4}, {1e-4, 2e-4}} }, 1024, []error{ErrSingularCD}, "singular"},
		{"a NaN CRVAL is reported", func(w *WCS) { w.CRVal[1] = math.NaN() }, 1024, []error{ErrNonFinite}, "CRVAL2 is NaN"},
		{"a missing CTYPE is reported", func(w *WCS) { w.CType[0] = "" }, 1024, []error{ErrMissingKey}, "CTYPE1 is missing"},
		{"a scale above the range is reported", func(w *WCS) { w.CD = [2][2]float64{{-2, 0}, {0, 2}} }, 2, []error{ErrScaleOutOfRange}, "7200 arcsec/px outside"},
		{"a scale below the range is reported", func(w *WCS) { w.CD = [2][2]float64{{-1e-7, 0}, {0, 1e-7}} }, 1024, []error{ErrScaleOutOfRange}, "0.00036 arcsec/px"},
		{"an unknown projection is reported", func(w *WCS) { w.CType = [2]string{"RA---MER", "DEC--MER"}; w.Projection = "MER" }, 1024, []error{ErrUnsupportedProjection}, `"MER"`},
		{"an image beyond the SIN horizon is reported", func(w *WCS) {
			w.CType = [2]string{"RA---SIN", "DEC--SIN"}
			w.Projection = "SIN"
			w.CD = [2][2]float64{{-0.2, 0}, {0, 0.2}}
		}, 1024, []error{ErrOutOfDomain}, "cannot be transformed"},
		{"several problems are all reported", func(w *WCS) { w.CRVal[0] = math.Inf(1); w.CType[1] = "" }, 1024, []error{ErrNonFinite, ErrMissingKey}, "CRVAL1 is +Inf"},
		{"a NaN SIP coefficient is reported", func(w *WCS) {
			w.SIP = &SIP{Order: 2, A: [][]float64{{0, 0, math.NaN()}}, B: [][]float64{{0}}}
		}, 1024, []error{ErrNonFinite}, "A_0_2 is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tanWCS(t, "TAN", 10, 20)
			tc.change(w)
			err := w.Validate(tc.width, tc.width, DefaultValidateOptions())
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, len(tc.want), "problems: %v", err)
			for _, s := range tc.want {
				assert.ErrorIs(t, err, s)
			}
			assert.Contains(t, err.Error(), tc.text)
			assert.Regexp(t, "^wcs: invalid WCS: ", err.Error())
		})
	}
}

func TestValidateOptions(t *testing.T) {
	w := tanWCS(t, "TAN", 10, 20) // 1"/px
	require.NoError(t, w.Validate(0, 0, ValidateOptions{}), "zero options take the defaults")
	err := w.Validate(0, 0, ValidateOptions{MinScaleArcsec: 2})
	require.ErrorIs(t, err, ErrScaleOutOfRange)
	err = w.Validate(0, 0, ValidateOptions{MinScaleArcsec: 5, MaxScaleArcsec: 1})
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrScaleOutOfRange), "bad options are not a WCS problem")
	assert.NoError(t, DefaultValidateOptions().Validate())
}
