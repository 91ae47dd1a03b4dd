package shaders

import (
	"embed"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.wgsl include/*.wgsl
var files embed.FS

// ErrUnknown is wrapped when a shader name does not exist.
var ErrUnknown = errors.New("shaders: unknown shader")

// ErrConst is wrapped when the constants given to Source do not match the
// shader's `// @const` declarations.
var ErrConst = errors.New("shaders: bad constant")

// includeLine matches a directive `// @include NAME` alone on its line: the text of
// include/NAME.wgsl replaces it (WGSL has no imports; the stacking kernels share their
// error-free arithmetic this way, so it exists once).
var includeLine = regexp.MustCompile(`^[ \t]*//[ \t]*@include[ \t]+([a-z_0-9]+)[ \t]*$`)

// constLine matches a directive `// @const NAME: TYPE` alone on its line.
var constLine = regexp.MustCompile(`^[ \t]*//[ \t]*@const[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*:[ \t]*(u32|i32|f32|bool)[ \t]*$`)

// Names lists the embedded shaders, without the .wgsl suffix, sorted.
func Names() []string {
	ents, _ := files.ReadDir(".")
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() { // include/: fragments, not kernels
			continue
		}
		names = append(names, strings.TrimSuffix(e.Name(), ".wgsl"))
	}
	sort.Strings(names)
	return names
}

// Raw returns the embedded text of shader name, directives unreplaced.
func Raw(name string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("%w %q", ErrUnknown, name)
	}
	return string(b), nil
}

// Expanded returns shader name with its `// @include` lines replaced by the fragments'
// text; `// @const` lines are left as they are. Fragments cannot include others.
func Expanded(name string) (string, error) {
	src, err := Raw(name)
	if err != nil {
		return "", err
	}
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		m := includeLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b, err := files.ReadFile("include/" + m[1] + ".wgsl")
		if err != nil {
			return "", fmt.Errorf("%w: %s includes unknown fragment %q", ErrUnknown, name, m[1])
		}
		frag := strings.TrimRight(string(b), "\n")
		for fl := range strings.SplitSeq(frag, "\n") {
			if includeLine.MatchString(fl) {
				return "", fmt.Errorf("%w: fragment %q includes another fragment", ErrUnknown, m[1])
			}
		}
		lines[i] = frag
	}
	return strings.Join(lines, "\n"), nil
}

// Consts lists the constants shader name declares, as NAME → WGSL type.
func Consts(name string) (map[string]string, error) {
	src, err := Expanded(name)
	if err != nil {
		return nil, err
	}
	decl := map[string]string{}
	for line := range strings.SplitSeq(src, "\n") {
		if m := constLine.FindStringSubmatch(line); m != nil {
			decl[m[1]] = m[2]
		}
	}
	return decl, nil
}

// Source returns shader name with its includes expanded (see Expanded) and each
// `// @const NAME: T` line replaced by
// `const NAME: T = V;`, V taken from consts and written as a WGSL literal of
// type T. Values may be any Go integer, float or bool type that converts to T
// without loss (an int 256 for u32, a float64 0.5 for f32); anything else, a
// missing constant, or a constant the shader does not declare is an error
// wrapping ErrConst.
func Source(name string, consts map[string]any) (string, error) {
	src, err := Expanded(name)
	if err != nil {
		return "", err
	}
	lines := strings.Split(src, "\n")
	used := map[string]bool{}
	for i, line := range lines {
		m := constLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cname, typ := m[1], m[2]
		if used[cname] {
			return "", fmt.Errorf("%w: %s declares %s twice", ErrConst, name, cname)
		}
		v, ok := consts[cname]
		if !ok {
			return "", fmt.Errorf("%w: %s needs constant %s (%s)", ErrConst, name, cname, typ)
		}
		lit, err := literal(typ, v)
		if err != nil {
			return "", fmt.Errorf("%w: %s.%s: %v", ErrConst, name, cname, err)
		}
		used[cname] = true
		lines[i] = fmt.Sprintf("const %s: %s = %s;", cname, typ, lit)
	}
	for k := range consts {
		if !used[k] {
			return "", fmt.Errorf("%w: %s declares no constant %s", ErrConst, name, k)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// literal formats v as a WGSL literal of type typ.
func literal(typ string, v any) (string, error) {
	if typ == "bool" {
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want bool, got %T", v)
		}
		return strconv.FormatBool(b), nil
	}
	if typ == "f32" {
		f, ok := asFloat(v)
		if !ok {
			return "", fmt.Errorf("want a number, got %T", v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return "", fmt.Errorf("%v is not a finite f32", f)
		}
		// The shortest 'e' form of the float32 value reproduces it exactly.
		s := strconv.FormatFloat(float64(float32(f)), 'e', -1, 32)
		return s + "f", nil
	}
	n, ok := asInt(v)
	if !ok {
		return "", fmt.Errorf("want an integer, got %T (%v)", v, v)
	}
	switch typ {
	case "u32":
		if n < 0 || n > math.MaxUint32 {
			return "", fmt.Errorf("%d out of u32 range", n)
		}
		return strconv.FormatInt(n, 10) + "u", nil
	default: // i32
		if n < math.MinInt32 || n > math.MaxInt32 {
			return "", fmt.Errorf("%d out of i32 range", n)
		}
		return strconv.FormatInt(n, 10) + "i", nil
	}
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(min(uint64(x), math.MaxInt64)), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(min(x, math.MaxInt64)), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	if n, ok := asInt(v); ok {
		return float64(n), true
	}
	return 0, false
}
