package compute

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// tallRPCase is a band of a tall source: output row y reads input rows around 1.2·y + 203, so
// output rows 0…59 read input rows ~200…275 of 500.
func tallRPCase() rpCase {
	c := rpCase{sw: 40, sh: 500, w: 40, h: 60}
	c.src = make([]float32, c.sw*c.sh)
	for j := range c.sh {
		for i := range c.sw {
			c.src[j*c.sw+i] = float32(math.Sin(0.3*float64(i)) + math.Cos(0.17*float64(j))*float64(j))
		}
	}
	c.src[240*c.sw+7] = float32(math.NaN())
	s, co := math.Sincos(0.2)
	c.grid = cpu.NewCoordGrid(c.w, c.h, 16, func(x, y float64) (float64, float64, bool) {
		return 1.2*(co*x-s*y) + 12.3, 1.2*(s*x+co*y) + 203.1, true
	})
	return c
}

func TestReprojectPassesTheSourceWindowToEveryChunk(t *testing.T) {
	c := tallRPCase()
	fake := newReprojectFake()
	r := NewRunnerWith(t.Context(), Options{Backend: BackendGPU}, nil, fake.opener())
	defer r.Close()
	const w0, w1 = 190, 290 // the rows the band reads, with margin
	win := c.src[w0*c.sw : w1*c.sw]
	opt := cpu.ReprojectOptions{Interp: cpu.InterpLanczos3, SrcRow0: w0}
	whole := c.cpu(t, 0, c.h, cpu.InterpLanczos3)

	// The budget of ~12 rows' source window, counted within the caller's window: several chunks.
	a := reprojectArgs{outWidth: c.w, rows: c.h, src: win, srcWidth: c.sw, srcHeight: c.sh, grid: c.grid, opt: opt}
	r.budget = reprojectBytes(a, 20, 12)
	got := make([]float32, c.w*c.h)
	require.NoError(t, r.Reproject(t.Context(), got, c.w, 0, c.h, win, c.sw, c.sh, c.grid, opt))
	assert.Equal(t, bits(whole), bits(got), "a window gives the whole image's bits")
	require.Greater(t, len(fake.rpRows), 2, "rows %v", fake.rpRows)
	for k, wr := range fake.rpWin {
		assert.Equal(t, [2]int{w0, w1}, wr, "chunk %d gets the caller's window and its first row", k+1)
	}
	assert.Equal(t, 0, r.Report()[0].ChunksCPU, "every chunk ran on the device")
}

func TestReprojectChunkBytesCountOnlyTheWindowsRows(t *testing.T) {
	c := tallRPCase()
	whole := reprojectArgs{outWidth: c.w, rows: c.h, src: c.src, srcWidth: c.sw, srcHeight: c.sh, grid: c.grid}
	// A window shorter than the rows the estimate would upload: the source bytes are its rows.
	win := whole
	win.src = c.src[230*c.sw : 250*c.sw]
	win.opt.SrcRow0 = 230
	srcWhole, _, _ := reprojectBuffers(whole, 0, c.h)
	srcWin, gridB, outB := reprojectBuffers(win, 0, c.h)
	assert.Equal(t, int64(4*c.sw*20), srcWin)
	assert.Greater(t, srcWhole, srcWin)
	assert.Equal(t, srcWin+gridB+2*outB, reprojectBytes(win, 0, c.h))
}

func TestReprojectWindowOnTheCPUPath(t *testing.T) {
	c := tallRPCase()
	r := NewRunnerWith(t.Context(), Options{Backend: BackendCPU}, nil, nil)
	defer r.Close()
	whole := c.cpu(t, 10, 40, cpu.InterpBicubic)
	got := make([]float32, c.w*40)
	opt := cpu.ReprojectOptions{Interp: cpu.InterpBicubic, SrcRow0: 180}
	require.NoError(t, r.Reproject(t.Context(), got, c.w, 10, 40, c.src[180*c.sw:300*c.sw], c.sw, c.sh, c.grid, opt))
	assert.Equal(t, bits(whole), bits(got))

	// A window that misses rows the band reads is the caller's error.
	opt.SrcRow0 = 240
	err := r.Reproject(t.Context(), got, c.w, 10, 40, c.src[240*c.sw:300*c.sw], c.sw, c.sh, c.grid, opt)
	assert.ErrorIs(t, err, cpu.ErrShape)
	// So is a window that does not fit in the image.
	err = r.Reproject(t.Context(), got, c.w, 10, 40, c.src[240*c.sw:300*c.sw], c.sw, 250, c.grid, opt)
	assert.ErrorIs(t, err, cpu.ErrShape)
}
