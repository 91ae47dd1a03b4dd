package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/pipeline"
)

func TestMosaicOfTheIsaacCutoutsOnTheFullGridWritesEveryOutput(t *testing.T) {
	full := sharedData(t, "isaac_full.fits")
	cut := sharedData(t, "isaac_cutouts")
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fits")
	rep := filepath.Join(dir, "m.json")
	code, _, stderr := zm(t, "mosaic", cut, "-o", out, "--grid-from", full, "--interp", "bilinear", "--report", rep, "--lang", "fr")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "grille de sortie")

	truth, err := fits.ReadImage(full, "")
	require.NoError(t, err)
	got, err := fits.ReadImage(out, "")
	require.NoError(t, err)
	require.Equal(t, truth.Width, got.Width)
	require.Equal(t, truth.Height, got.Height)
	worst, covered := 0.0, 0
	for i, v := range got.Pix {
		if v == v {
			covered++
			worst = max(worst, math.Abs(float64(v-truth.Pix[i]))/max(1, math.Abs(float64(truth.Pix[i]))))
		}
	}
	assert.Equal(t, 1012856, covered, "the union of the four 600×600 cutouts")
	assert.Less(t, worst, 1e-5)
	g, err := wcs.FromHeader(got.Header)
	require.NoError(t, err)
	w0, err := wcs.FromHeader(truth.Header)
	require.NoError(t, err)
	assert.InDeltaSlice(t, w0.CRPix[:], g.CRPix[:], 1e-9)

	f, err := fits.Open(out)
	require.NoError(t, err)
	alpha, ok, err := fits.ReadAlpha(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	require.True(t, ok, "the mosaic has an ALPHA extension")
	n := 0
	for _, a := range alpha {
		if a == 255 {
			n++
		}
	}
	assert.Equal(t, covered, n)

	cov, err := fits.ReadImage(pipeline.CoveragePath(out), "")
	require.NoError(t, err)
	for i, c := range cov.Pix {
		require.Equal(t, got.Pix[i] == got.Pix[i], c > 0, "coverage > 0 exactly where the mosaic has data (pixel %d)", i)
	}
	_, err = os.Stat(pipeline.PreviewPath(out))
	require.NoError(t, err)

	var r pipeline.Report
	require.NoError(t, json.Unmarshal(readFile(t, rep), &r))
	assert.Equal(t, "mosaic", r.Command)
	assert.Len(t, r.Inputs, 4)
	assert.Len(t, r.Outputs, 3)
	assert.Empty(t, r.Error)
}

func TestMosaicUsageErrorsExitWithTwo(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"mosaic", dir},
		{"mosaic", dir, "-o", filepath.Join(dir, "m.fits"), "--interp", "nearest"},
		{"mosaic", dir, "-o", filepath.Join(dir, "m.fits"), "--feather", "-3"},
		{"mosaic", dir, "-o", filepath.Join(dir, "m.fits"), "--combine", "sum"},
		{"mosaic", dir, "-o", filepath.Join(dir, "m.fits"), "--backend", "tpu"},
	} {
		code, _, stderr := zm(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
	}
}

func TestMosaicWithKappaOnTheCPUBackendReportsTheBackendAndCombine(t *testing.T) {
	cut := sharedData(t, "isaac_cutouts")
	dir := t.TempDir()
	out := filepath.Join(dir, "m.fits")
	rep := filepath.Join(dir, "m.json")
	code, _, stderr := zm(t, "mosaic", cut, "-o", out, "--interp", "bilinear", "--combine", "kappa", "--kappa-low", "2",
		"--backend", "cpu", "--mem-budget", "64MiB", "--no-preview", "--report", rep)
	require.Equal(t, exitOK, code, stderr)
	got, err := fits.ReadImage(out, "")
	require.NoError(t, err)
	c, _ := got.Header.String("ZMCOMBIN")
	assert.Equal(t, "kappa", c)
	var r pipeline.Report
	require.NoError(t, json.Unmarshal(readFile(t, rep), &r))
	require.NotNil(t, r.Compute)
	var assemble *pipeline.PhaseTiming
	for i := range r.Phases {
		if r.Phases[i].Name == "assemble" {
			assemble = &r.Phases[i]
		}
	}
	require.NotNil(t, assemble)
	assert.Equal(t, "cpu", assemble.Backend)
	assert.Len(t, r.Outputs, 2, "image and coverage, no preview")
	_, err = os.Stat(pipeline.PreviewPath(out))
	assert.True(t, os.IsNotExist(err))
}
