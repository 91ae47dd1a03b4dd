package shaders

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floatProduct matches the f32 products of background.wgsl (by u, v or an aux value).
var floatProduct = regexp.MustCompile(`\b(\w+|f32\(\w+\)) \* (u\b|v\b|aux\[\d\])`)

func TestBackgroundKernelIsContractionProof(t *testing.T) {
	c, err := Consts("background")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32"}, c)
	src, err := Source("background", map[string]any{"WG": 64})
	require.NoError(t, err)
	assert.NotContains(t, src, "override", "kernels must not use override constants")
	for _, m := range selfCompare.FindAllStringSubmatch(src, -1) {
		assert.NotEqual(t, m[1], m[2], "NaN test by self-comparison: %s", m[0])
	}
	// Every float product is wrapped in opaque(), so that no FMA contraction can change it.
	n := 0
	for l := range strings.SplitSeq(src, "\n") {
		code, _, _ := strings.Cut(l, "//")
		for _, loc := range floatProduct.FindAllStringIndex(code, -1) {
			n++
			assert.True(t, strings.HasSuffix(code[:loc[0]], "opaque("), "bare product in %q", strings.TrimSpace(code))
		}
	}
	assert.Equal(t, 4, n, "u, v, and the two Horner steps")
	// The Params struct is the stencil's 12 words (48 bytes).
	params := src[strings.Index(src, "struct Params {"):]
	params = params[:strings.Index(params, "}")]
	assert.Equal(t, 12, strings.Count(params, ": u32,"))
}
