package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/synth"
)

// smallRunOptions is a quick Seestar-like set: 3×3 panels of 3 GRBG frames of 160×200 px with
// field rotation, one truncated file and one frame without WCS.
func smallRunOptions() synth.Options {
	o := seestarRunOptions(3)
	o.Width, o.Height, o.Stars = 160, 200, 60
	o.Corrupt, o.NoWCS = 1, 1
	return o
}

// quickRunOptions are the run settings of the quick tests: CPU, a small budget.
func quickRunOptions() RunOptions {
	opt := DefaultRunOptions()
	opt.Backend = compute.BackendCPU
	opt.MemBudget = 128 << 20
	return opt
}

// mosaicPixels reads OUT/mosaic.fits, OUT/mosaic_coverage.fits and the ALPHA extension as bits.
func mosaicPixels(t *testing.T, out string) (pix, cov []uint32, alpha []uint8) {
	t.Helper()
	bits := func(name string) []uint32 {
		img, err := fits.ReadImage(filepath.Join(out, name), "")
		require.NoError(t, err)
		b := make([]uint32, len(img.Pix))
		for i, v := range img.Pix {
			b[i] = math.Float32bits(v)
		}
		return b
	}
	f, err := fits.Open(filepath.Join(out, RunMosaicName))
	require.NoError(t, err)
	defer f.Close()
	alpha, ok, err := fits.ReadAlpha(f)
	require.NoError(t, err)
	require.True(t, ok, "the mosaic has an ALPHA extension")
	return bits(RunMosaicName), bits(RunCoverageName), alpha
}

// fileHashes returns the SHA-256 of every file under dir, by relative path.
func fileHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = [32]byte(h.Sum(nil))
		return nil
	}))
	return out
}

func TestRunOptionsDefaultsValidateAndConfigKeysAreChecked(t *testing.T) {
	require.NoError(t, DefaultRunOptions().Validate())

	opt := DefaultRunOptions()
	require.NoError(t, DecodeRunOptions([]byte(`{"cluster_deg": 0.1, "mem_budget": "512MiB", "gpu_budget": "auto", "reject": "kappa", "mosaic_combine": "median"}`), &opt))
	assert.Equal(t, 0.1, opt.ClusterDeg)
	assert.Equal(t, Size(512<<20), opt.MemBudget)
	assert.Equal(t, Size(0), opt.GPUBudget)
	assert.Equal(t, "median", opt.MosaicCombine)
	assert.Equal(t, DefaultRunOptions().Feather, opt.Feather, "absent keys keep their value")

	err := DecodeRunOptions([]byte(`{"cluster_degs": 0.1}`), &opt)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"cluster_degs"`, "an unknown key is named")

	bad := []struct {
		name string
		set  func(o *RunOptions)
		want string
	}{
		{"unknown bayer pattern", func(o *RunOptions) { o.Bayer = "RGBG" }, "Bayer"},
		{"background removal is not there yet", func(o *RunOptions) { o.Background = "gradient" }, "background"},
		{"negative cluster threshold", func(o *RunOptions) { o.ClusterDeg = -1 }, "cluster_deg"},
		{"unknown reject", func(o *RunOptions) { o.Reject = "sigma" }, "reject"},
		{"unknown mosaic combine", func(o *RunOptions) { o.MosaicCombine = "sum" }, "combine"},
		{"tiny memory budget", func(o *RunOptions) { o.MemBudget = 1 << 20 }, "mem budget"},
		{"unknown backend", func(o *RunOptions) { o.Backend = "tpu" }, "backend"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultRunOptions()
			tc.set(&o)
			err := o.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRunReportsSkippedFramesAndLeavesInputsUntouched(t *testing.T) {
	o := smallRunOptions()
	root := t.TempDir()
	in := writeSeestarSet(t, root, o)
	out := filepath.Join(in, "out") // inside the input folder: must be left out of the scan
	before := fileHashes(t, in)

	rep, err := Run(t.Context(), in, out, quickRunOptions(), Hooks{})
	require.NoError(t, err)
	after := fileHashes(t, in)
	for k, v := range before {
		assert.Equal(t, v, after[k], "input %s is unchanged", k)
	}
	for k := range after {
		if !strings.HasPrefix(k, "out"+string(filepath.Separator)) {
			assert.Contains(t, before, k, "nothing new appears among the inputs")
		}
	}
	assert.Len(t, rep.Inputs, o.TotalFrames(), "the output folder's FITS files are not inputs")
	kinds := map[string]int{}
	for _, s := range rep.Skipped {
		kinds[s.Kind]++
		assert.NotEmpty(t, s.Reason)
	}
	assert.Equal(t, map[string]int{SkipUnreadable: 1, SkipNoWCS: 1}, kinds)
	require.Len(t, rep.Tiles, 9)
	for _, f := range []string{RunMosaicName, RunCoverageName, RunPreviewName, RunReportName, "tiles/master_tile_001.fits", "tiles/master_tile_009.json"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	names := map[string]bool{}
	for _, p := range rep.Phases {
		names[p.Name] = true
		assert.Equal(t, "cpu", p.Backend)
	}
	for _, p := range []string{PhaseScan, PhasePreprocess, PhaseCluster, PhaseTiles, PhaseMosaic} {
		assert.True(t, names[p], "phase %s is timed", p)
	}

	tile, err := fits.ReadImage(filepath.Join(out, TilesDirName, tileName(1)), "")
	require.NoError(t, err)
	assert.Equal(t, 3, tile.Channels, "Bayer frames give colour tiles")
	n, _ := tile.Header.Int("MT_NFRAMES")
	nc, _ := tile.Header.Int("NCOMBINE")
	assert.Equal(t, int64(rep.Tiles[0].Frames), n)
	assert.Equal(t, n, nc)
	_, hasBayer := tile.Header.String("BAYERPAT")
	assert.False(t, hasBayer, "debayered data carries no BAYERPAT")

	// The preview is RGBA and transparent where the mosaic has no data.
	var raw struct {
		Skipped []SkippedFrame `json:"skipped"`
		Phases  []RunPhase     `json:"phases"`
		Events  []compute.Event
	}
	data, err := os.ReadFile(filepath.Join(out, RunReportName))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &raw))
	assert.Len(t, raw.Skipped, 2)
	assert.NotEmpty(t, raw.Events)
}

func TestRunResumesAfterAnInterruptionToTheSameMosaic(t *testing.T) {
	o := smallRunOptions()
	in := writeSeestarSet(t, t.TempDir(), o)
	ref := filepath.Join(t.TempDir(), "ref")
	_, err := Run(t.Context(), in, ref, quickRunOptions(), Hooks{})
	require.NoError(t, err)
	wantPix, wantCov, wantAlpha := mosaicPixels(t, ref)

	// Ctrl-C right after the first master tile.
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop := Hooks{Events: func(e compute.Event) {
		if e.Key == "run_tile_done" {
			cancel()
		}
	}}
	rep, err := Run(ctx, in, out, quickRunOptions(), stop)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, rep.Stopped)
	assert.FileExists(t, filepath.Join(out, TilesDirName, "master_tile_001.json"))
	assert.NoFileExists(t, filepath.Join(out, TilesDirName, "master_tile_002.fits"))
	assert.NoFileExists(t, filepath.Join(out, RunMosaicName))
	leftovers, _ := filepath.Glob(filepath.Join(out, "*", ".*"))
	assert.Empty(t, leftovers, "no temporary file is left behind")

	var calls atomic.Int32
	rep, err = Run(t.Context(), in, out, quickRunOptions(), Hooks{Events: func(e compute.Event) {
		if e.Key == "stack_start" {
			calls.Add(1)
		}
	}})
	require.NoError(t, err)
	require.Len(t, rep.Tiles, 9)
	assert.True(t, rep.Tiles[0].Reused, "the finished tile is reused")
	for _, tl := range rep.Tiles[1:] {
		assert.False(t, tl.Reused)
	}
	assert.EqualValues(t, 8, calls.Load(), "only the missing tiles are stacked")
	for _, in := range rep.Inputs {
		if in.Status == "used" {
			assert.True(t, in.Cached, "%s comes from the cache", in.File)
		}
	}
	pix, cov, alpha := mosaicPixels(t, out)
	assert.Equal(t, wantPix, pix, "the resumed mosaic is bit-identical")
	assert.Equal(t, wantCov, cov)
	assert.Equal(t, wantAlpha, alpha)

	t.Run("a changed option makes the tiles again", func(t *testing.T) {
		opt := quickRunOptions()
		opt.Reject = "kappa"
		rep, err := Run(t.Context(), in, out, opt, Hooks{})
		require.NoError(t, err)
		for _, tl := range rep.Tiles {
			assert.False(t, tl.Reused)
		}
	})

	t.Run("worker counts and file order do not change a bit", func(t *testing.T) {
		// The same frames copied in reverse order into another folder (other inodes, times
		// and cache keys), run with other worker counts.
		copyDir := filepath.Join(t.TempDir(), "lights")
		require.NoError(t, os.MkdirAll(copyDir, 0o755))
		ents, err := os.ReadDir(in)
		require.NoError(t, err)
		for i := len(ents) - 1; i >= 0; i-- {
			data, err := os.ReadFile(filepath.Join(in, ents[i].Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(copyDir, ents[i].Name()), data, 0o644))
		}
		opt := quickRunOptions()
		opt.Workers, opt.PreprocessWorkers, opt.ScanWorkers = 1, 1, 1
		out2 := filepath.Join(t.TempDir(), "out")
		_, err = Run(t.Context(), copyDir, out2, opt, Hooks{})
		require.NoError(t, err)
		pix, cov, alpha := mosaicPixels(t, out2)
		assert.Equal(t, wantPix, pix)
		assert.Equal(t, wantCov, cov)
		assert.Equal(t, wantAlpha, alpha)
	})
}

// fakeSolver returns the synthetic frame's true WCS, as a plate solver would.
type fakeSolver struct {
	o     synth.Options
	calls atomic.Int32
}

func (s *fakeSolver) Name() string { return "fake" }

func (s *fakeSolver) Solve(_ context.Context, path string, _ *fits.Header) (*fits.Header, error) {
	s.calls.Add(1)
	var i int
	if _, err := fmtSscanFrame(filepath.Base(path), &i); err != nil {
		return nil, err
	}
	w, err := synth.FrameWCS(s.o, i-1) // names count from 1
	if err != nil {
		return nil, err
	}
	h := fits.NewHeader()
	for _, c := range w.Cards() {
		h.Set(c.Key, c.Value, c.Comment)
	}
	return h, nil
}

func TestRunSolvesFramesWithoutWCSIntoTheCacheOnly(t *testing.T) {
	o := smallRunOptions()
	o.Corrupt = 0
	in := writeSeestarSet(t, t.TempDir(), o)
	before := fileHashes(t, in)
	out := filepath.Join(t.TempDir(), "out")
	opt := quickRunOptions()
	s := &fakeSolver{o: o}
	opt.Solver = s
	rep, err := Run(t.Context(), in, out, opt, Hooks{})
	require.NoError(t, err)
	assert.Empty(t, rep.Skipped, "the frame without WCS was solved")
	assert.EqualValues(t, 1, s.calls.Load())
	solved := 0
	for _, f := range rep.Inputs {
		if f.Solved == "fake" {
			solved++
			assert.Equal(t, "used", f.Status)
		}
	}
	assert.Equal(t, 1, solved)
	assert.Equal(t, before, fileHashes(t, in), "the solution never goes into the user's file")
	sols, _ := filepath.Glob(filepath.Join(out, CacheDirName, "solutions", "*.fits"))
	assert.Len(t, sols, 1)

	_, err = Run(t.Context(), in, out, opt, Hooks{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, s.calls.Load(), "a rerun reuses the stored solution")
}

// fmtSscanFrame reads the frame number from a synth file name (frame_NNNN.fits, from 1).
func fmtSscanFrame(name string, i *int) (int, error) { return fmt.Sscanf(name, "frame_%d.fits", i) }
