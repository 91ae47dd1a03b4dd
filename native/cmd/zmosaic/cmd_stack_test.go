package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// synthGroup writes a dithered, rotated set of 6 small frames with WCS and returns the frame
// files (not truth.fits).
func synthGroup(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--frames", "6", "--width", "96", "--height", "72", "--stars", "20",
		"--dither", "4", "--rotate", "10", "--artefacts=false", "--quiet")
	require.Equal(t, exitOK, code, stderr)
	files, err := filepath.Glob(filepath.Join(dir, "lights", "*.fits"))
	require.NoError(t, err)
	require.Len(t, files, 6)
	return files
}

func TestStackAlignWCSWritesTheReferenceGridAndReportsTheChoice(t *testing.T) {
	files := synthGroup(t)
	dir := t.TempDir()
	out, rep := filepath.Join(dir, "s.fits"), filepath.Join(dir, "s.json")
	args := append([]string{"stack", "--align", "wcs", "--interp", "bicubic", "-o", out, "--report", rep, "--no-preview", "--lang", "fr"}, files...)
	code, _, stderr := zm(t, args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "alignement WCS de 6 images sur la grille de frame_")

	img, err := fits.ReadImage(out, "")
	require.NoError(t, err)
	assert.Equal(t, 96, img.Width)
	assert.Equal(t, 72, img.Height)
	s, _ := img.Header.String("ZMALIGN")
	assert.Equal(t, "wcs", s)
	s, _ = img.Header.String("ZMINTERP")
	assert.Equal(t, "bicubic", s)
	ref, _ := img.Header.String("ZMALREF")
	require.NotEmpty(t, ref)
	_, err = wcs.FromHeader(img.Header)
	assert.NoError(t, err, "the stack keeps the reference's WCS")

	data, err := os.ReadFile(rep)
	require.NoError(t, err)
	var r struct {
		Options map[string]any `json:"options"`
		Inputs  []struct {
			File      string  `json:"file"`
			Reference bool    `json:"align_reference"`
			Offset    float64 `json:"centre_offset_arcsec"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(data, &r))
	assert.Equal(t, "wcs", r.Options["align"])
	assert.Equal(t, "bicubic", r.Options["interp"])
	refs := 0
	for _, in := range r.Inputs {
		if in.Reference {
			refs++
			assert.Equal(t, ref, filepath.Base(in.File))
			for _, o := range r.Inputs {
				assert.LessOrEqual(t, in.Offset, o.Offset, "the reference is the frame nearest the centre")
			}
		}
	}
	assert.Equal(t, 1, refs)
}

func TestStackAlignWCSRefusesOrSkipsAFrameWithoutWCS(t *testing.T) {
	files := synthGroup(t)
	img, err := fits.ReadImage(files[0], "")
	require.NoError(t, err)
	bare := &fits.Image{Width: img.Width, Height: img.Height, Channels: 1, Pix: img.Pix, Header: fits.NewHeader()}
	dir := t.TempDir()
	nowcs := filepath.Join(dir, "nowcs.fits")
	require.NoError(t, fits.Write(nowcs, bare, fits.WriteOptions{}))
	files = append(files, nowcs)
	out := filepath.Join(dir, "s.fits")

	args := append([]string{"stack", "--align", "wcs", "-o", out, "--no-preview"}, files...)
	code, _, stderr := zm(t, args...)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "nowcs.fits")
	assert.Contains(t, stderr, "no usable WCS")
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err), "nothing is written")

	code, _, stderr = zm(t, append(args, "--skip-bad")...)
	require.Equal(t, exitOK, code, stderr)
	got, err := fits.ReadImage(out, "")
	require.NoError(t, err)
	n, _ := got.Header.Int("NCOMBINE")
	assert.Equal(t, int64(6), n, "the frame without WCS is left out")

	code, _, stderr = zm(t, "stack", "--align", "sideways", "-o", out, files[0])
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "sideways")
}
