package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runSet writes a small Seestar-like set (2×1 panels of 3 GRBG frames, one without WCS) and
// returns the folder of its frames.
func runSet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--seestar", "--mosaic", "2x1", "--frames-per-panel", "3",
		"--width", "120", "--height", "160", "--stars", "30", "--no-wcs", "1", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	return filepath.Join(dir, "lights")
}

func TestRunHelpShowsEveryOptionWithDefaultsInBothLanguages(t *testing.T) {
	_, help, _ := zm(t, "run", "--help")
	for _, f := range []string{"--cluster-deg", "--max-frames-per-tile", "--bayer", "--hot-pixels", "--hot-pixel-threshold",
		"--reject", "--combine", "--kappa-low", "--weight", "--norm", "--interp", "--mosaic-interp", "--feather", "--match",
		"--mosaic-combine", "--projection", "--pixel-scale", "--mem-budget", "--gpu-budget", "--backend", "--config",
		"--report", "--quiet", "--solve", "-o, --output"} {
		assert.Contains(t, help, f)
	}
	assert.Contains(t, help, "(default 0.05)")
	assert.Contains(t, help, "(default 1GiB)")
	assert.Contains(t, help, "zmosaic run lights/ -o out/")
	_, fr, _ := zm(t, "run", "--help", "--lang", "fr")
	assert.Contains(t, fr, "tuile maîtresse")
}

func TestRunConfigFileAndFlagsCombineAndOutputsAreComplete(t *testing.T) {
	in := runSet(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "run.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"cluster_deg": 0.03, "reject": "kappa", "mem_budget": "128MiB", "backend": "cpu"}`), 0o644))
	out, rep := filepath.Join(dir, "out"), filepath.Join(dir, "copy.json")
	code, _, stderr := zm(t, "run", in, "-o", out, "--config", cfg, "--cluster-deg", "0.04", "--report", rep, "--lang", "fr")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "prétraitement des images", "one line per phase when stderr is not a terminal")
	assert.Contains(t, stderr, "écartée(s)", "the skipped frame is announced")

	var r struct {
		Options      map[string]any `json:"options"`
		Skipped      []any          `json:"skipped"`
		Tiles        []any          `json:"tiles"`
		PeakRSSBytes int64          `json:"peak_rss_bytes"`
		Args         []string       `json:"args"`
	}
	for _, p := range []string{rep, filepath.Join(out, "report.json")} {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &r))
		assert.Equal(t, 0.04, r.Options["cluster_deg"], "the flag overrides the config file")
		assert.Equal(t, "kappa", r.Options["reject"], "the config file overrides the default")
		assert.EqualValues(t, 128<<20, r.Options["mem_budget"])
		assert.Len(t, r.Skipped, 1)
		assert.Len(t, r.Tiles, 2)
		assert.Positive(t, r.PeakRSSBytes)
	}
	for _, f := range []string{"mosaic.fits", "mosaic_coverage.fits", "mosaic_preview.png", "zmosaic.log", "tiles/master_tile_002.fits"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	log, err := os.ReadFile(filepath.Join(out, "zmosaic.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "tuile maîtresse 1/2", "the log is in the user's language")
	assert.Contains(t, string(log), "pas de WCS utilisable")

	// The same command again resumes: both tiles come back from the first run.
	code, _, stderr = zm(t, "run", in, "-o", out, "--config", cfg, "--cluster-deg", "0.04")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "(2 reused)")
}

func TestRunUsageErrorsExitWithTwo(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"cluster_degree": 0.1}`), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no output folder", []string{"run", dir}, "-o"},
		{"two input folders", []string{"run", dir, dir, "-o", "out"}, "-o"},
		{"unknown config key", []string{"run", dir, "-o", "out", "--config", cfg}, "cluster_degree"},
		{"bad budget", []string{"run", dir, "-o", "out", "--mem-budget", "lots"}, "lots"},
		{"bad combine", []string{"run", dir, "-o", "out", "--mosaic-combine", "sum"}, "sum"},
		{"unknown solver", []string{"run", dir, "-o", "out", "--solve", "nosuchsolver"}, "nosuchsolver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := zm(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestRunFailsWithOneWhenNothingIsUsable(t *testing.T) {
	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "junk.fits"), []byte("not FITS"), 0o644))
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := zm(t, "run", in, "-o", out, "--backend", "cpu")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "no usable frame")
	assert.FileExists(t, filepath.Join(out, "report.json"), "the report says why even after a failure")
}
