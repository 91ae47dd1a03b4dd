package pipeline

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// turnedFrame is a w×h frame of the reference sky whose pixel (i, j) sits at reference pixel
// (ox, oy) + rot·(i, j), rot = [[c, −s], [s, c]], with its own TAN WCS (CD = CD_ref·rot) and a
// fraction nanFrac of NaN pixels (no data) placed with the given seed.
func turnedFrame(t *testing.T, name string, ref *wcs.WCS, ox, oy float64, w, h int, c, s, nanFrac float64, seed uint64) FrameSource {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for j := range h {
		for i := range w {
			x, y := ox+c*float64(i)-s*float64(j), oy+s*float64(i)+c*float64(j)
			img.Pix[j*w+i] = smoothSky(x, y)
			if rng.Float64() < nanFrac {
				img.Pix[j*w+i] = float32(math.NaN())
			}
		}
	}
	g := ref.Clone()
	cd := ref.CD
	g.CD = [2][2]float64{{cd[0][0]*c + cd[0][1]*s, -cd[0][0]*s + cd[0][1]*c}, {cd[1][0]*c + cd[1][1]*s, -cd[1][0]*s + cd[1][1]*c}}
	// The reference's reference pixel (0-based) in this frame: rotᵀ·(crpix−1 − (ox, oy)).
	dx, dy := ref.CRPix[0]-1-ox, ref.CRPix[1]-1-oy
	g.CRPix = [2]float64{c*dx + s*dy + 1, -s*dx + c*dy + 1}
	for _, card := range g.Cards() {
		img.Header.Set(card.Key, card.Value, card.Comment)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

// rotatedInputs are three inputs of the reference sky with no-data holes, turned by 90°, 180°
// and 31° on the reference grid. With the 90° and 180° turns most output pixels map to input
// coordinates within a few ulps of an integer row: there the interpolated coordinate is
// exactly the integer or not depending on its last bit, which decides whether the kernel's
// neighbour rows get weight 0 or a tiny weight, and a NaN neighbour then poisons the pixel or
// not. So the last bits of the coordinates show in the pixels.
func rotatedInputs(t *testing.T, ref *wcs.WCS) []FrameSource {
	return []FrameSource{
		turnedFrame(t, "r90.fits", ref, 299, 10, 260, 280, 0, 1, 0.005, 1),
		turnedFrame(t, "r180.fits", ref, 420, 330, 300, 250, -1, 0, 0.005, 2),
		turnedFrame(t, "r31.fits", ref, 150, 60, 220, 200, math.Cos(31*math.Pi/180), math.Sin(31*math.Pi/180), 0.005, 3),
	}
}

// requireBandIndependent mosaics rotatedInputs onto the reference grid in one band and in
// bands of several heights, with a Runner from newRunner, and wants the same bits. Shifting the
// coordinate grid's samples by the band-dependent first row of the input window (what the
// mosaic did before cpu.ReprojectOptions.SrcRow0) changes the coordinates' last bits and fails
// it.
func requireBandIndependent(t *testing.T, newRunner func(t *testing.T) *compute.Runner) {
	ref := testRefWCS(t)
	srcs := rotatedInputs(t, ref)
	for _, interp := range []cpu.Interp{cpu.InterpLanczos3, cpu.InterpBilinear} {
		t.Run(string(interp), func(t *testing.T) {
			run := func(rows int) *MosaicResult {
				opt := DefaultMosaicOptions()
				opt.Interp = interp
				opt.GridFrom, opt.GridWidth, opt.GridHeight = ref, 440, 360
				opt.bandRows = rows
				res, err := MosaicWith(t.Context(), newRunner(t), srcs, opt, Hooks{})
				require.NoError(t, err)
				return res
			}
			one := run(0)
			require.Equal(t, 1, one.Plan.Bands)
			finite := 0
			for _, v := range one.Image.Pix {
				if v == v {
					finite++
				}
			}
			require.Greater(t, finite, len(one.Image.Pix)/2, "the inputs must cover most of the grid")
			for _, rows := range []int{9, 37, 100} {
				many := run(rows)
				require.Greater(t, many.Plan.Bands, 1)
				differ := 0
				for i := range one.Image.Pix {
					a, b := one.Image.Pix[i], many.Image.Pix[i]
					if !(math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)) {
						differ++
					}
				}
				assert.Zero(t, differ, "%d-row bands: pixels differing from one band", rows)
				requireSameBits(t, one.Coverage, many.Coverage, "coverage")
			}
		})
	}
}

func TestMosaicOfRotatedInputsDoesNotDependOnTheBandHeight(t *testing.T) {
	requireBandIndependent(t, cpuRunner)
}

func TestMosaicOfRotatedInputsOnTheGPUDoesNotDependOnTheBandHeight(t *testing.T) {
	requireGPU(t)
	requireBandIndependent(t, func(t *testing.T) *compute.Runner {
		co := compute.DefaultOptions()
		co.Backend = compute.BackendGPU
		r := compute.NewRunner(t.Context(), co, nil)
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}
