package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

// zm runs the CLI in-process and returns its exit code, stdout and stderr.
func zm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data not found (%s): %v", p, err)
	}
	return p
}

func TestHelpListsEveryCommandAndFlagWithoutRawKeys(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		code, out, _ := zm(t, "--lang", lang, "help")
		require.Equal(t, exitOK, code)
		for _, c := range commands {
			assert.Contains(t, out, c.name)
			code, help, _ := zm(t, c.name, "--help", "--lang", lang)
			require.Equal(t, exitOK, code, c.name)
			assert.NotContains(t, help, "help_", "%s %s: a help key was not translated", lang, c.name)
			assert.NotContains(t, help, "flag_", "%s %s: a flag key was not translated", lang, c.name)
			assert.Contains(t, help, "zmosaic "+c.name, "%s help has an example", c.name)
		}
	}
	_, help, _ := zm(t, "stack", "--help")
	for _, f := range []string{"--reject", "--kappa-low", "--kappa-high", "--iterations", "--combine", "--weight", "--norm", "--align", "--mem-budget", "--report", "--no-preview", "--quiet", "--lang"} {
		assert.Contains(t, help, f)
	}
	assert.Contains(t, help, `(default "winsor")`)
	assert.Contains(t, help, `(default "1GiB")`)
	_, fr, _ := zm(t, "stack", "--help", "--lang", "fr")
	assert.Contains(t, fr, "réjection")
}

func TestUsageErrorsExitWithTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"unknown flag", []string{"stack", "--bogus", "x", "-o", "y.fits"}, "bogus"},
		{"stack without output", []string{"stack", "somewhere"}, "-o"},
		{"bad reject method", []string{"stack", "in", "-o", "o.fits", "--reject", "sometimes"}, "sometimes"},
		{"bad size", []string{"stack", "in", "-o", "o.fits", "--mem-budget", "lots"}, "lots"},
		{"budget too small", []string{"stack", "in", "-o", "o.fits", "--mem-budget", "1MiB"}, "mem budget"},
		{"preview without input", []string{"preview"}, "preview"},
		{"synth bad size", []string{"synth", t.TempDir(), "--width", "2"}, "size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := zm(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestInfoJSONDescribesRealFiles(t *testing.T) {
	isaac := sharedData(t, "isaac_cutouts/isaac_1.fits")
	sip := sharedData(t, "astrometrynet_thumbnail_sip.fits.gz")
	code, out, _ := zm(t, "info", "--json", isaac, sip)
	require.Equal(t, exitOK, code)
	var infos []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &infos))
	require.Len(t, infos, 2)
	assert.Equal(t, 600.0, infos[0]["width"])
	assert.Equal(t, -32.0, infos[0]["bitpix"])
	w := infos[0]["wcs"].(map[string]any)
	assert.Equal(t, []any{"RA---TAN", "DEC--TAN"}, w["ctype"])
	assert.InDelta(t, 0.1484, w["scale_arcsec"], 1e-3)
	assert.Len(t, infos[0]["corners"], 4)
	assert.Len(t, infos[0]["center"], 2)
	assert.Equal(t, 16.0, infos[1]["bitpix"])
	assert.Equal(t, 2.0, infos[1]["wcs"].(map[string]any)["sip_order"])
}

func TestInfoReportsUnreadableFilesAndExitsOne(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "junk.fits")
	require.NoError(t, os.WriteFile(bad, []byte("not a FITS file at all"), 0o644))
	code, out, _ := zm(t, "info", "--json", bad)
	assert.Equal(t, exitFailure, code)
	var infos []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &infos))
	require.Len(t, infos, 1)
	assert.Contains(t, infos[0]["error"], "junk.fits")
	assert.Nil(t, infos[0]["wcs"])

	code, _, stderr := zm(t, "info", bad)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "junk.fits")
}

func TestSynthThenStackWritesEveryOutput(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "6", "--width", "96", "--height", "64", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	out := filepath.Join(dir, "stack.fits")
	report := filepath.Join(dir, "report.json")
	code, _, stderr = zm(t, "stack", filepath.Join(dir, "lights"), "-o", out, "--report", report, "--save-count", "--reject", "kappa")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "done: 6 frames")

	img, err := fits.ReadImage(out, "")
	require.NoError(t, err)
	assert.Equal(t, 96, img.Width)
	n, _ := img.Header.Int("NCOMBINE")
	assert.Equal(t, int64(6), n)
	r, _ := img.Header.String("ZMREJECT")
	assert.Equal(t, "kappa", r)
	for _, p := range []string{pipeline.PreviewPath(out), pipeline.CountPath(out), report} {
		assert.FileExists(t, p)
	}
	var rep pipeline.Report
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rep))
	assert.Len(t, rep.Inputs, 6)
	assert.Greater(t, rep.PeakRSSBytes, int64(0))
	assert.NotEmpty(t, rep.Events)
	assert.Equal(t, "stack", rep.Command)
}

func TestStackRefusesBadInputAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	code, _, _ := zm(t, "synth", dir, "--frames", "3", "--width", "32", "--height", "32", "--quiet")
	require.Equal(t, exitOK, code)
	lights := filepath.Join(dir, "lights")
	trunc := filepath.Join(lights, "frame_0009.fits")
	data, err := os.ReadFile(filepath.Join(lights, "frame_0001.fits"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(trunc, data[:len(data)-3000], 0o644))
	out := filepath.Join(dir, "stack.fits")
	report := filepath.Join(dir, "r.json")

	code, _, stderr := zm(t, "stack", lights, "-o", out, "--report", report)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "frame_0009.fits")
	assert.NoFileExists(t, out)
	assert.NoFileExists(t, pipeline.PreviewPath(out))
	assert.FileExists(t, report, "the report says why the run failed")

	code, _, stderr = zm(t, "stack", lights, "-o", out, "--skip-bad", "--lang", "fr")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "ignoré")
	assert.FileExists(t, out)
}

func TestPreviewWritesAPNG(t *testing.T) {
	quietVulkan(t) // auto opens the adapter to decide
	in := sharedData(t, "ngc1316o.fits")
	out := filepath.Join(t.TempDir(), "n.png")
	code, _, stderr := zm(t, "preview", in, "-o", out, "--p-high", "99.5")
	require.Equal(t, exitOK, code, stderr)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG")))
}

func TestLanguageComesFromTheEnvironment(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "fr_FR.UTF-8")
	_, out, _ := zm(t, "help")
	assert.Contains(t, out, "Commandes")
	_, out, _ = zm(t, "--lang", "en", "help")
	assert.Contains(t, out, "Commands")
	assert.True(t, strings.Contains(out, "stack"))
}
