//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunStacksAGroupOf2000FramesWithinTheMemoryBudget is issue 5's memory gate: one group of
// 2,000 small frames (64×64 GRBG, dithered around one pointing) goes through the whole run
// with --mem-budget 512MiB and must peak below 600 MiB resident (getrusage of the child).
func TestRunStacksAGroupOf2000FramesWithinTheMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and stacks 2,000 frames")
	}
	dir := t.TempDir()
	code, _, stderr := zm(t, "synth", dir, "--seestar", "--frames", "2000", "--width", "64", "--height", "64",
		"--stars", "8", "--dither", "2", "--quiet")
	require.Equal(t, exitOK, code, stderr)

	exe, err := os.Executable()
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "out")
	t0 := time.Now()
	cmd := exec.CommandContext(t.Context(), exe, "run", filepath.Join(dir, "lights"), "-o", out,
		"--mem-budget", "512MiB", "--backend", "cpu", "--quiet")
	cmd.Env = append(os.Environ(), "ZMOSAIC_AS_CLI=1")
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
	t.Logf("2,000 × 64×64 GRBG frames, one master tile, --mem-budget 512MiB: %.1f s, peak RSS %.0f MiB",
		time.Since(t0).Seconds(), float64(peak)/(1<<20))
	require.FileExists(t, filepath.Join(out, "tiles", "master_tile_001.fits"))
	require.NoFileExists(t, filepath.Join(out, "tiles", "master_tile_002.fits"), "one group")
	require.Less(t, peak, int64(600<<20))
}
