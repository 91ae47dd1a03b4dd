package shaders

import (
	"fmt"
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var selfCompare = regexp.MustCompile(`([\w.\[\]]+)\s*!=\s*([\w.\[\]]+)`)

func TestPreprocessKernelsDeclareOnlyTheWorkgroupSize(t *testing.T) {
	for _, name := range []string{"debayer", "hotpixel"} {
		t.Run(name, func(t *testing.T) {
			c, err := Consts(name)
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"WG": "u32"}, c)
			src, err := Source(name, map[string]any{"WG": 64})
			require.NoError(t, err)
			assert.Contains(t, src, "\nconst WG: u32 = 64u;\n")
			assert.NotContains(t, src, "override", "kernels must not use override constants")
			// NaN tests go through the bit pattern: naga compiles x != x to an ordered compare.
			for _, m := range selfCompare.FindAllStringSubmatch(src, -1) {
				assert.NotEqual(t, m[1], m[2], "NaN test by self-comparison: %s", m[0])
			}
		})
	}
}

// TestDebayerConstantsAreTheCPUs: the kernel's bit patterns are those cpu.Debayer computes with
// (float32(1/3) and the NaN that float32(math.NaN()) gives), and the NaN never becomes an f32
// constant expression (Chrome's Tint rejects those).
func TestDebayerConstantsAreTheCPUs(t *testing.T) {
	src, err := Raw("debayer")
	require.NoError(t, err)
	assert.Contains(t, src, fmt.Sprintf("const THIRD_BITS: u32 = %#08xu;", math.Float32bits(float32(1.0/3.0))))
	assert.Contains(t, src, fmt.Sprintf("const NAN_BITS: u32 = %#08xu;", math.Float32bits(float32(math.NaN()))))
	assert.NotContains(t, src, "bitcast<f32>(NAN_BITS)")
}
