package fits

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCard(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Card
	}{
		{"logical", "SIMPLE  =                    T / comment", Card{"SIMPLE", true, "comment"}},
		{"integer", "NAXIS1  =                  600", Card{"NAXIS1", int64(600), ""}},
		{"negative integer", "BITPIX  =                  -32 / array", Card{"BITPIX", int64(-32), "array"}},
		{"real with exponent", "CD1_1   =          4.12222E-05", Card{"CD1_1", 4.12222e-05, ""}},
		{"real with D exponent", "CRPIX1  = 2.260000000000000D+02", Card{"CRPIX1", 226.0, ""}},
		{"real, comment without space", "DATAMAX =      1.037890381E+03 /MAX PIXEL VALUE", Card{"DATAMAX", 1037.890381, "MAX PIXEL VALUE"}},
		{"string trims trailing spaces", "INSTRUME= 'ISAAC   '", Card{"INSTRUME", "ISAAC", ""}},
		{"string keeps leading spaces", "NOTE    = '  x '", Card{"NOTE", "  x", ""}},
		{"string with doubled quote and slash", "OBJECT  = 'O''Brien / x' / who", Card{"OBJECT", "O'Brien / x", "who"}},
		{"empty string", "EMPTY   = ''", Card{"EMPTY", "", ""}},
		{"undefined value", "UNDEF   =          / nothing", Card{"UNDEF", nil, "nothing"}},
		{"lower-case key is upper-cased", "exptime =                  4.0", Card{"EXPTIME", 4.0, ""}},
		{"COMMENT keeps leading spaces", "COMMENT   FITS format", Card{"COMMENT", nil, "  FITS format"}},
		{"HISTORY with an equal sign", "HISTORY BLOCKED =                    T /TAPE", Card{"HISTORY", nil, "BLOCKED =                    T /TAPE"}},
		{"blank card", "", Card{"", nil, ""}},
		{"HIERARCH", "HIERARCH ESO DET  DIT = 1.5 / integration", Card{"ESO DET DIT", 1.5, "integration"}},
		{"key without value indicator is commentary", "FOO      some text", Card{"FOO", nil, " some text"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, kind, err := parseCard([]byte(card80(tc.line)))
			require.NoError(t, err)
			assert.Equal(t, cardNormal, kind)
			assert.Equal(t, tc.want, c)
		})
	}
	bad := []struct{ name, line, want string }{
		{"two numbers", "SKEW    = 1.08E+00, 9.63E-01", "not a string, logical, integer or real"},
		{"unterminated string", "A       = 'abc", "no closing quote"},
		{"text after string", "A       = 'abc' x", "after the string"},
		{"complex", "Z       = (1.0, 2.0)", "complex"},
		{"integer overflow", "BIG     = 99999999999999999999", "bad integer"},
		{"bad real", "R       = 1.2.3", "bad real"},
		{"bad key", "A$B     = 1", "outside A-Z"},
		{"non-ASCII byte", "A       = 'caf\xe9'", "printable ASCII"},
	}
	for _, tc := range bad {
		t.Run(tc.name+" is rejected", func(t *testing.T) {
			_, _, err := parseCard([]byte(card80(tc.line)))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLongStringContinue(t *testing.T) {
	cards := append(imageCards("", 8, 1, 1),
		"LONG    = 'first part &' / c1",
		"CONTINUE  'second ''part&'",
		"CONTINUE  ' end' / c2",
		"AMP     = 'ends with &'",
		kv("NEXT", 1))
	f, err := NewReader(bytes.NewReader(hduBytes(cards, []byte{0})), int64(2*blockSize), "long.fits")
	require.NoError(t, err)
	h := f.hdus[0].header
	c, ok := h.Get("LONG")
	require.True(t, ok)
	assert.Equal(t, Card{"LONG", "first part second 'part end", "c1 c2"}, c)
	s, _ := h.String("AMP")
	assert.Equal(t, "ends with &", s, "a lone '&' without CONTINUE is kept")
	assert.Empty(t, f.Warnings)
}

func TestFormatCardRoundTrip(t *testing.T) {
	long := strings.Repeat("x'y", 60)
	tests := []Card{
		{"CRVAL1", 265.1234567890123, "deg"},
		{"TINY", 5e-324, ""},
		{"HUGE", -1.7976931348623157e308, ""},
		{"WHOLE", 3.0, "written with a decimal point"},
		{"MAXINT", int64(math.MaxInt64), ""},
		{"FLAG", false, ""},
		{"S", "a", ""},
		{"S70", strings.Repeat("q", 68), ""},
		{"S69Q", strings.Repeat("q", 67) + "'", "quote at the end"},
		{"LONG", long, strings.Repeat("comment ", 20)},
		{"ESO DET DIT", 1.5, ""},
		{"UNDEF", nil, "x"},
	}
	for _, c := range tests {
		t.Run(c.Key, func(t *testing.T) {
			b, err := formatCard(c)
			require.NoError(t, err)
			require.Zero(t, len(b)%cardSize)
			h, warns := parseLines(t, b)
			assert.Empty(t, warns)
			got := h.Cards()
			require.Len(t, got, 1)
			assert.Equal(t, c.Key, got[0].Key)
			assert.Equal(t, c.Value, got[0].Value)
			if len(c.Comment) < 40 {
				assert.Equal(t, c.Comment, got[0].Comment)
			}
		})
	}
	t.Run("unwritable cards are errors", func(t *testing.T) {
		for _, c := range []Card{{"NAN", math.NaN(), ""}, {"S", "caf\u00e9", ""}, {"END", int64(1), ""}, {"A$", int64(1), ""}, {"COMMENT", int64(1), ""}, {"X", []int{1}, ""}, {strings.Repeat("K", 80), int64(1), ""}} {
			_, err := formatCard(c)
			assert.Error(t, err, "%v", c)
		}
	})
}

// parseLines runs the header scanner over formatted card bytes.
func parseLines(t *testing.T, cards []byte) (*Header, []string) {
	t.Helper()
	b := append([]byte{}, cards...)
	b = append(b, card80("END")...)
	for len(b)%blockSize != 0 {
		b = append(b, ' ')
	}
	var warns []string
	h, _, err := readHeader(bytes.NewReader(b), int64(len(b)), 0, "t", func(s string) { warns = append(warns, s) })
	require.NoError(t, err)
	return h, warns
}

func TestHeaderAPI(t *testing.T) {
	h := NewHeader()
	h.Set("naxis1", 10, "width")
	h.Set("CRVAL1", float32(0.1), "")
	h.Set("OBJECT", "M31   ", "")
	h.Set("FLAG", true, "")
	h.Set("U8", uint8(7), "")
	h.Set("ODD", struct{ A int }{1}, "")
	h.Set("HISTORY", nil, "one")
	h.Set("HISTORY", nil, "two")

	i, ok := h.Int("NAXIS1")
	assert.True(t, ok)
	assert.Equal(t, int64(10), i)
	f, ok := h.Float("naxis1")
	assert.True(t, ok, "Float accepts an integer card")
	assert.Equal(t, 10.0, f)
	f, _ = h.Float("CRVAL1")
	assert.Equal(t, 0.1, f, "float32 widened through its shortest decimal")
	s, _ := h.String("OBJECT")
	assert.Equal(t, "M31", s)
	b, ok := h.Bool("FLAG")
	assert.True(t, ok && b)
	u, _ := h.Int("U8")
	assert.Equal(t, int64(7), u)
	odd, _ := h.String("ODD")
	assert.Equal(t, "{1}", odd)
	_, ok = h.Int("OBJECT")
	assert.False(t, ok, "type mismatch")
	_, ok = h.Float("MISSING")
	assert.False(t, ok)

	h.Set("NAXIS1", 20, "replaced in place")
	assert.Equal(t, Card{"NAXIS1", int64(20), "replaced in place"}, h.Cards()[0])
	assert.Equal(t, 8, h.Len(), "HISTORY cards append")

	c := h.Clone()
	c.Set("NAXIS1", 30, "")
	c.Delete("HISTORY")
	i, _ = h.Int("NAXIS1")
	assert.Equal(t, int64(20), i, "clone is independent")
	assert.Equal(t, 8, h.Len())
	assert.Equal(t, 6, c.Len())

	var nilHdr *Header
	_, ok = nilHdr.Get("X")
	assert.False(t, ok)
	assert.Nil(t, nilHdr.Cards())
}
