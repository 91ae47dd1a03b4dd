package shaders

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamesListsEmbeddedKernels(t *testing.T) {
	assert.Contains(t, Names(), "stack_none")
	assert.Contains(t, Names(), "stack_reject")
}

func TestStackRejectDeclaresItsConstants(t *testing.T) {
	c, err := Consts("stack_reject")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32", "MAXN": "u32", "REJECT": "u32", "COMBINE": "u32", "BOUNDS": "bool"}, c)
	src, err := Source("stack_reject", map[string]any{"WG": 64, "MAXN": 256, "REJECT": 1, "COMBINE": 3, "BOUNDS": true})
	require.NoError(t, err)
	assert.Contains(t, src, "\nconst MAXN: u32 = 256u;\n")
	assert.Contains(t, src, "\nconst BOUNDS: bool = true;\n")
	assert.NotContains(t, src, "override", "kernels must not use override constants")
}

func TestConstsReadsDirectives(t *testing.T) {
	c, err := Consts("stack_none")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32", "COMBINE": "u32"}, c)
}

func TestSourceReplacesDirectivesInPlace(t *testing.T) {
	raw, err := Expanded("stack_none")
	require.NoError(t, err)
	src, err := Source("stack_none", map[string]any{"WG": 256, "COMBINE": uint32(0)})
	require.NoError(t, err)
	assert.Contains(t, src, "\nconst WG: u32 = 256u;\n")
	assert.Contains(t, src, "\nconst COMBINE: u32 = 0u;\n")
	assert.NotContains(t, src, "@const")
	assert.NotContains(t, src, "override", "kernels must not use override constants")
	assert.Equal(t, strings.Count(raw, "\n"), strings.Count(src, "\n"), "line numbers of the expanded text must be kept for compiler messages")
	for l := range strings.SplitSeq(src, "\n") {
		assert.False(t, includeLine.MatchString(l), "include directive left: %q", l)
	}
	assert.Contains(t, src, "fn opaque(", "the exact_f32 fragment is included")
}

func TestIncludeErrors(t *testing.T) {
	assert.NotContains(t, Names(), "include", "fragments are not kernels")
	_, err := Expanded("no_such_kernel")
	require.ErrorIs(t, err, ErrUnknown)
}

func TestLiteralFormatsEachType(t *testing.T) {
	tests := []struct {
		name, typ string
		v         any
		want      string
	}{
		{"u32 from int", "u32", 64, "64u"},
		{"u32 from uint64", "u32", uint64(65535), "65535u"},
		{"i32 negative", "i32", -3, "-3i"},
		{"f32 from float64 keeps float32 value", "f32", 0.1, "1e-01f"},
		{"f32 from int", "f32", 3, "3e+00f"},
		{"bool", "bool", true, "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := literal(tt.typ, tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSourceRejectsBadConstants(t *testing.T) {
	tests := []struct {
		name   string
		consts map[string]any
	}{
		{"missing constant", map[string]any{"WG": 64}},
		{"undeclared constant", map[string]any{"WG": 64, "COMBINE": 0, "TYPO": 1}},
		{"negative u32", map[string]any{"WG": -1, "COMBINE": 0}},
		{"u32 overflow", map[string]any{"WG": int64(1) << 33, "COMBINE": 0}},
		{"float for u32", map[string]any{"WG": 64.0, "COMBINE": 0}},
		{"string for u32", map[string]any{"WG": "64", "COMBINE": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Source("stack_none", tt.consts)
			require.ErrorIs(t, err, ErrConst)
		})
	}
}

func TestLiteralRejectsNonFiniteF32(t *testing.T) {
	for _, v := range []any{1e39, float32(0) / float32(zero())} {
		_, err := literal("f32", v)
		assert.Error(t, err, "%v", v)
	}
}

func zero() float32 { return 0 }

func TestSourceRejectsUnknownShader(t *testing.T) {
	_, err := Source("no_such_kernel", nil)
	require.ErrorIs(t, err, ErrUnknown)
}
