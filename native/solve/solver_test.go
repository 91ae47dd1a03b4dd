package solve

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
)

func TestNewReportsAMissingSolver(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		name, want string
		opt        Options
	}{
		{"astap", "solve: astap not found on PATH; install it or drop --solve", Options{}},
		{"astrometry", "solve: solve-field not found on PATH; install it or drop --solve", Options{}},
		{"ASTAP", `solve: astap executable "/nowhere/astap" not found`, Options{Executable: "/nowhere/astap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.name, tc.opt)
			require.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := New("pixinsight", Options{})
	assert.ErrorContains(t, err, `unknown solver "pixinsight" (use astap or astrometry)`)
}

func TestNewFindsASTAPCLIOnPath(t *testing.T) {
	dir := t.TempDir()
	script(t, dir, "astap_cli", "exit 0\n")
	t.Setenv("PATH", dir)
	s, err := New("astap", Options{})
	require.NoError(t, err)
	assert.Equal(t, "astap", s.Name())
	assert.Equal(t, filepath.Join(dir, "astap_cli"), s.(*ASTAP).Executable())
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		bad  string
	}{
		{"zero is valid", Options{}, ""},
		{"defaults are valid", DefaultOptions(), ""},
		{"negative timeout", Options{Timeout: -time.Second}, "timeout"},
		{"downsample too large", Options{Downsample: 17}, "downsample"},
		{"radius above 180", Options{RadiusDeg: 181}, "radius"},
		{"NaN radius", Options{RadiusDeg: math.NaN()}, "radius"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opt.Validate()
			if tc.bad == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.bad)
			_, err = NewASTAP(tc.opt)
			assert.ErrorContains(t, err, tc.bad, "constructors validate first")
		})
	}
	d := Options{}.withDefaults()
	assert.Equal(t, 60*time.Second, d.Timeout)
	assert.Equal(t, 2, d.Downsample)
	assert.Equal(t, 3.0, d.RadiusDeg)
}

func TestReadHints(t *testing.T) {
	hdr := func(kv ...any) *fits.Header {
		h := fits.NewHeader()
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i].(string), kv[i+1], "")
		}
		return h
	}
	tests := []struct {
		name        string
		h           *fits.Header
		ra, dec     float64
		hasPointing bool
		scale       float64
	}{
		{"nil header", nil, 0, 0, false, 0},
		{"RA/DEC degrees (Seestar)", hdr("RA", 83.82, "DEC", -5.39), 83.82, -5.39, true, 0},
		{"OBJCTRA/OBJCTDEC sexagesimal", hdr("OBJCTRA", "05 35 17.3", "OBJCTDEC", "-05 23 28"), 83.822083, -5.391111, true, 0},
		{"RA/DEC strings with colons", hdr("RA", "05:35:17.3", "DEC", "-05:23:28"), 83.822083, -5.391111, true, 0},
		{"RA out of range falls back to OBJCT keys", hdr("RA", 400.0, "DEC", 0.0, "OBJCTRA", "1 0 0", "OBJCTDEC", "+10 30"), 15, 10.5, true, 0},
		{"garbage pointing", hdr("OBJCTRA", "n/a", "OBJCTDEC", "+10"), 0, 0, false, 0},
		{"scale from FOCALLEN and XPIXSZ", hdr("FOCALLEN", 250.0, "XPIXSZ", 2.9), 0, 0, false, 2.392672},
		{"zero focal length gives no scale", hdr("FOCALLEN", 0.0, "XPIXSZ", 2.9), 0, 0, false, 0},
		{"absurd scale is ignored", hdr("FOCALLEN", 1.0, "XPIXSZ", 1e6), 0, 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hi := readHints(tc.h)
			assert.Equal(t, tc.hasPointing, hi.hasPointing)
			assert.InDelta(t, tc.ra, hi.ra, 1e-6)
			assert.InDelta(t, tc.dec, hi.dec, 1e-6)
			assert.InDelta(t, tc.scale, hi.scale, 1e-6)
		})
	}
}

func TestUnreadableFrameIsReported(t *testing.T) {
	dir := t.TempDir()
	exe := script(t, dir, "astap", "exit 0\n")
	s, err := NewASTAP(Options{Executable: exe, TempDir: t.TempDir()})
	require.NoError(t, err)
	missing := filepath.Join(dir, "gone.fits")
	_, err = s.Solve(t.Context(), missing, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "solve: ")
	assert.Contains(t, err.Error(), missing)
}
