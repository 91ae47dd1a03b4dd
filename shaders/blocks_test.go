package shaders

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fnDecl finds the start of a top-level WGSL function.
var fnDecl = regexp.MustCompile(`(?m)^fn ([a-z_0-9]+)\(`)

// functions returns the top-level functions of a kernel (doc comment
// excluded) by name, each up to its closing brace at column 0.
func functions(t *testing.T, src string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range fnDecl.FindAllStringSubmatchIndex(src, -1) {
		end := strings.Index(src[m[0]:], "\n}\n")
		require.GreaterOrEqual(t, end, 0, "function %s is not closed at column 0", src[m[2]:m[3]])
		out[src[m[2]:m[3]]] = src[m[0] : m[0]+end+3]
	}
	return out
}

// The stacking kernels share one copy of the error-free arithmetic (include/exact_f32.wgsl):
// StackBandBlocks promises results bit-identical to StackBand's, and the streamed rejection
// to the CPU's, which holds only while every kernel runs the same helpers.
func TestStackingKernelsShareTheExactHelpers(t *testing.T) {
	frag, err := files.ReadFile("include/exact_f32.wgsl")
	require.NoError(t, err)
	helpers := functions(t, string(frag))
	require.Len(t, helpers, 9)
	for _, k := range []string{"stack_none", "stack_none_blocks", "stack_bounded_blocks", "stack_reject"} {
		raw, err := Raw(k)
		require.NoError(t, err)
		assert.Contains(t, raw, "// @include exact_f32", k)
		own := functions(t, raw)
		for name := range helpers {
			assert.NotContains(t, own, name, "%s defines its own %s: use the fragment", k, name)
		}
	}
}

// The per-frame loop body and the ending must also be stack_none's,
// statement for statement (comments and the frame index aside).
func TestStackNoneBlocksRunsStackNoneLoop(t *testing.T) {
	none, err := Raw("stack_none")
	require.NoError(t, err)
	blocks, err := Raw("stack_none_blocks")
	require.NoError(t, err)
	body := func(src, from, to string) []string {
		main := functions(t, src)["main"]
		i, k := strings.Index(main, from), strings.LastIndex(main, to)
		require.True(t, i >= 0 && k > i, "markers %q..%q", from, to)
		var lines []string
		for l := range strings.SplitSeq(main[i:k], "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "//") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	loopN := body(none, "let x = src[i * p + j];", "kept[j] = cnt;")
	loopB := body(blocks, "let x = src[k * p + j];", "if ((params.flags & LAST_BLOCK)")
	require.Equal(t, len(loopN), len(loopB))
	for i := range loopN {
		want := strings.NewReplacer("src[i * p + j]", "src[k * p + j]", "frames[i]", "frames[params.first + k]").Replace(loopN[i])
		assert.Equal(t, want, loopB[i])
	}
	assert.Equal(t, body(none, "kept[j] = cnt;", "\n}"), body(blocks, "kept[j] = cnt;", "\n}"))
}

func TestStackNoneBlocksDeclaresItsConstants(t *testing.T) {
	c, err := Consts("stack_none_blocks")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32", "COMBINE": "u32"}, c)
}

// stack_bounded_blocks is stack_none_blocks plus the bound test: same
// helpers (and two of its own), same loop body once the bound test's lines
// are taken out, same ending. Its mean then keeps stack_none's precision
// contract on the kept samples.
func TestStackBoundedBlocksRunsStackNoneBlocksLoop(t *testing.T) {
	blocks, err := Raw("stack_none_blocks")
	require.NoError(t, err)
	bounded, err := Raw("stack_bounded_blocks")
	require.NoError(t, err)
	fb, fd := functions(t, blocks), functions(t, bounded)
	for name, body := range fb {
		if name != "main" {
			assert.Equal(t, body, fd[name], "helper %s differs between stack_none_blocks and stack_bounded_blocks", name)
		}
	}
	require.Contains(t, fd, "below")
	require.Contains(t, fd, "above")
	assert.Len(t, fd, len(fb)+2, "only below and above are new")

	lines := func(main, from, to string) []string {
		i, k := strings.Index(main, from), strings.LastIndex(main, to)
		require.True(t, i >= 0 && k > i, "markers %q..%q", from, to)
		var out []string
		for l := range strings.SplitSeq(main[i:k], "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "//") {
				out = append(out, l)
			}
		}
		return out
	}
	test := []string{
		"if (below(v, bd.x)) {", "rej.x = rej.x + 1u;", "continue;", "}",
		"if (above(v, bd.y)) {", "rej.y = rej.y + 1u;", "continue;", "}",
	}
	loopB := lines(fb["main"], "for (var k = 0u;", "\n}")
	loopD := lines(fd["main"], "for (var k = 0u;", "\n}")
	at := slices.Index(loopD, "let v = normalise(f.gain, x, f.offset);") + 1
	require.Positive(t, at)
	require.GreaterOrEqual(t, len(loopD), at+len(test))
	assert.Equal(t, test, loopD[at:at+len(test)], "the bound test follows the normalisation")
	stripped := append(append([]string{}, loopD[:at]...), loopD[at+len(test):]...)
	// The running counts are stored after the loop.
	k := slices.Index(stripped, "rejected[j] = rej;")
	require.Positive(t, k)
	stripped = append(stripped[:k], stripped[k+1:]...)
	assert.Equal(t, loopB, stripped)
}

func TestStackBoundedBlocksDeclaresItsConstants(t *testing.T) {
	c, err := Consts("stack_bounded_blocks")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"WG": "u32", "COMBINE": "u32"}, c)
}
