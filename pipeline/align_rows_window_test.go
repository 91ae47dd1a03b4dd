package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// TestAlignedRowsEqualAWholeFrameReprojection reads a frame turned by 180° (and one by 3°)
// onto the reference grid and compares every output pixel with cpu.Reproject of the whole
// frame from a coordinate grid on the same lattice of sample rows: the chunk windows are
// passed as rows of the whole frame, so the coordinates and the taps are the whole frame's, to
// the last bit. The 180° frame has NaN holes and maps output pixels to within ulps of integer
// input rows, where the last bit of a coordinate decides whether a NaN neighbour gets weight
// 0: samples shifted by each chunk's first window row (as align_rows did before
// cpu.ReprojectOptions.SrcRow0) fail this test.
func TestAlignedRowsEqualAWholeFrameReprojection(t *testing.T) {
	const w, h = 120, 100
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	var srcs []FrameSource
	for k, rot := range []float64{0, 180, 3} { // "a.fits", the reference: equal centres, first name
		ws := rotatedWCS(t, 83.8, -5.4, rot, 2, w, h)
		pix := make([]float32, w*h)
		for i := range pix {
			pix[i] = float32(100 + 20*math.Sin(float64(i%w)/9)*math.Cos(float64(i/w)/7) + 5*rng.NormFloat64())
			if k > 0 && rng.Float64() < 0.01 {
				pix[i] = float32(math.NaN())
			}
		}
		srcs = append(srcs, writeWCSFrame(t, filepath.Join(dir, fmt.Sprintf("%c.fits", 'a'+k)), w, h, 1, ws, pix))
	}
	for _, interp := range []cpu.Interp{cpu.InterpLanczos3, cpu.InterpBicubic, cpu.InterpBilinear} {
		t.Run(string(interp), func(t *testing.T) {
			opt := alignOptions()
			opt.Interp = interp
			res := &StackResult{}
			frames, err := scanFrames(srcs, opt, Hooks{}, res)
			require.NoError(t, err)
			ref, _, err := setupAlignment(frames, opt, Hooks{}, res)
			require.NoError(t, err)
			require.Equal(t, 0, ref)
			for _, f := range frames[1:] {
				a := f.align
				got := make([]float32, a.outW*a.outH)
				for y0 := 0; y0 < a.outH; y0 += 23 { // bands cutting the chunks
					y1 := min(y0+23, a.outH)
					require.NoError(t, f.readBand(0, y0, y1, got[y0*a.outW:y1*a.outW]))
				}
				pix := make([]float32, w*h)
				require.NoError(t, f.readRows(0, 0, h, pix))
				// Sample rows on the chunks' lattice, from output row −16: grid row y is output
				// row y−16.
				g := cpu.NewCoordGrid(a.outW, a.outH+48, alignGridStep, func(x, y float64) (float64, float64, bool) {
					return a.mapPixel(x, y-alignGridStep)
				})
				want := make([]float32, a.outW*a.outH)
				require.NoError(t, cpu.Reproject(want, a.outW, alignGridStep, a.outH, pix, w, h, g, cpu.ReprojectOptions{Interp: interp}))
				finite := 0
				for i := range want {
					if a.flux != 1 {
						want[i] *= a.flux
					}
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "%s pixel (%d, %d)", f.src.Name(), i%a.outW, i/a.outW)
					if want[i] == want[i] {
						finite++
					}
				}
				assert.Greater(t, finite, len(want)/2, "%s covers the grid", f.src.Name())
			}
		})
	}
}
