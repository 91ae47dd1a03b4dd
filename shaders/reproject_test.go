package shaders

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReprojectDeclaresItsConstants(t *testing.T) {
	c, err := Consts("reproject")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32", "INTERP": "u32"}, c)
	src, err := Source("reproject", map[string]any{"WG": 64, "INTERP": 2})
	require.NoError(t, err)
	assert.Contains(t, src, "\nconst INTERP: u32 = 2u;\n")
	assert.NotContains(t, src, "override", "kernels must not use override constants")
}
