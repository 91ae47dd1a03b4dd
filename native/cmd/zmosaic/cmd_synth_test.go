package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/synth"
)

func TestSynthSeestarPresetWithOverridesAndInjections(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--seestar", "--mosaic", "2x1", "--frames-per-panel", "3",
		"--width", "64", "--height", "96", "--field-rotation", "6", "--corrupt", "1", "--no-wcs", "1", "--stars", "10")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "6 synthetic frames")

	ents, err := os.ReadDir(filepath.Join(dir, synth.LightsDir))
	require.NoError(t, err)
	assert.Len(t, ents, 6, "--frames-per-panel is frames per panel")
	csv, err := os.ReadFile(filepath.Join(dir, synth.FramesCSV))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(csv), ",true,false"), "one corrupt file")
	assert.Equal(t, 1, strings.Count(string(csv), ",false,true"), "one frame without WCS")

	readable := 0
	for _, e := range ents {
		f, err := fits.Open(filepath.Join(dir, synth.LightsDir, e.Name()))
		if err != nil {
			continue
		}
		readable++
		hdu, err := f.Image("")
		require.NoError(t, err)
		assert.Equal(t, [2]int{64, 96}, [2]int{hdu.Width, hdu.Height}, "flags override the preset's size")
		pat, _ := hdu.Header.String("BAYERPAT")
		assert.Equal(t, "GRBG", pat, "the preset's pattern")
		_, ok := hdu.Header.Float("RA")
		assert.True(t, ok, "Seestar pointing hint")
		require.NoError(t, f.Close())
	}
	assert.Equal(t, 5, readable)
}

func TestSynthWithoutSeestarKeepsTheDefaults(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "2", "--width", "64", "--height", "48", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	_, err := os.Stat(filepath.Join(dir, synth.FramesCSV))
	assert.ErrorIs(t, err, os.ErrNotExist, "frames.csv belongs to Seestar sets")
	img, err := fits.ReadImage(filepath.Join(dir, synth.LightsDir, "frame_0001.fits"), "")
	require.NoError(t, err)
	_, ok := img.Header.Float("RA")
	assert.False(t, ok)
}

func TestSynthRejectsTooManyInjections(t *testing.T) {
	code, _, stderr := zm(t, "synth", t.TempDir(), "--frames", "2", "--width", "64", "--height", "48", "--corrupt", "3")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "corrupt")
}
