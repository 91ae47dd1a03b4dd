//go:build linux

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// TestMain lets a test re-run this binary as the zmosaic command (ZMOSAIC_AS_CLI=1), so the
// memory test measures a real process without building another binary.
func TestMain(m *testing.M) {
	if os.Getenv("ZMOSAIC_AS_CLI") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestStackStreamsWithinTheMemoryBudget is the foundation issue's memory gate: 64 float32
// frames of 2048×2048 (1 GiB of pixels) stacked with --mem-budget 256MiB must peak below
// 400 MiB resident (getrusage of the child process).
func TestStackStreamsWithinTheMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB of frames")
	}
	dir := t.TempDir()
	const n, side = 64, 2048
	img := &fits.Image{Width: side, Height: side, Channels: 1, Pix: make([]float32, side*side), Header: fits.NewHeader()}
	rng := rand.New(rand.NewPCG(5, 6))
	for f := range n {
		for i := range img.Pix {
			img.Pix[i] = float32(1000 + 30*rng.NormFloat64())
		}
		require.NoError(t, fits.Write(filepath.Join(dir, fmt.Sprintf("f%03d.fits", f)), img, fits.WriteOptions{}))
	}
	img = nil

	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), exe, "stack", dir, "-o", filepath.Join(t.TempDir(), "s.fits"),
		"--mem-budget", "256MiB", "--no-preview", "--quiet")
	cmd.Env = append(os.Environ(), "ZMOSAIC_AS_CLI=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
	t.Logf("64 × 2048² float32 with --mem-budget 256MiB: peak RSS %.0f MiB", float64(peak)/(1<<20))
	require.Less(t, peak, int64(400<<20))
}
