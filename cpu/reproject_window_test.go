package cpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// windowFixture is a source image and an output grid whose coordinates lie far from row 0, as
// in a mosaic band: input rows ~1000…1150 of a 1150-row image (part of the output falls off its
// bottom edge). X is rotated; Y = (2x + y)/3 + 1000, so a third of the output pixels map to a
// mathematically integer row, where the float64 interpolation of the grid lands exactly on the
// integer or one ulp beside it depending on the samples' magnitude. Shifting the samples by a
// window's first row moves some of those pixels across the integer, changing which taps have
// weight 0 (a NaN there poisons the pixel or not): the test below shows it, so the window test
// would catch a reprojection that shifts samples.
type windowFixture struct {
	src    []float32
	sw, sh int
	w, h   int
	grid   *cpu.CoordGrid
}

func newWindowFixture() windowFixture {
	const sw, sh, w, h = 240, 1150, 170, 170
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]float32, sw*sh)
	for i := range src {
		src[i] = float32(rng.Float64() * 500)
		if rng.Float64() < 0.02 {
			src[i] = float32(math.NaN())
		}
	}
	s, c := math.Sincos(23 * math.Pi / 180)
	k := 1.0 / 3
	grid := affineGrid(w, h, 16, [6]float64{k * c, -k * s, 100.37, 2 * k, k, 1000})
	return windowFixture{src: src, sw: sw, sh: sh, w: w, h: h, grid: grid}
}

// taps returns the number of taps per axis and the offset of the first from floor(coordinate).
func taps(interp cpu.Interp) (n, lo int) {
	switch interp {
	case cpu.InterpBilinear:
		return 2, 0
	case cpu.InterpBicubic:
		return 4, -1
	}
	return 6, -2
}

// neededRows returns the source rows [r0, r1) that output rows [y0, y0+rows) can read: every
// tap row of every pixel inside the footprint, clamped to the image (zero weights included,
// so a superset); r0 >= r1 when no pixel is inside.
func neededRows(f windowFixture, y0, rows int, interp cpu.Interp) (r0, r1 int) {
	n, lo := taps(interp)
	r0, r1 = f.sh, 0
	for y := y0; y < y0+rows; y++ {
		for x := range f.w {
			ix, iy := f.grid.At(float64(x), float64(y))
			if !(ix >= -0.5 && ix <= float64(f.sw)-0.5 && iy >= -0.5 && iy <= float64(f.sh)-0.5) {
				continue
			}
			j := int(math.Floor(iy)) + lo
			r0 = min(r0, max(j, 0))
			r1 = max(r1, min(j+n-1, f.sh-1)+1)
		}
	}
	return r0, r1
}

func TestReprojectWindowEqualsWholeImageBitForBit(t *testing.T) {
	f := newWindowFixture()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			whole := reproject(t, f.src, f.sw, f.sh, f.grid, f.w, f.h, interp)
			finite, nan := 0, 0
			for _, v := range whole {
				if math.IsNaN(float64(v)) {
					nan++
				} else {
					finite++
				}
			}
			require.Greater(t, finite, f.w*f.h/2, "the test must exercise real samples")
			require.Greater(t, nan, f.w*f.h/20, "and pixels off the image's edge")
			for k := range 10 {
				y0 := rng.IntN(f.h - 1)
				rows := 1 + rng.IntN(f.h-y0)
				if k == 0 {
					y0, rows = 0, f.h // the whole band, with the image's bottom edge
				}
				n0, n1 := neededRows(f, y0, rows, interp)
				require.Less(t, n0, n1)
				a, b := n0, n1 // tight first, then random windows around the needed rows
				if k > 1 {
					a, b = n0-rng.IntN(n0+1), n1+rng.IntN(f.sh-n1+1)
				}
				dst := make([]float32, f.w*rows)
				opt := cpu.ReprojectOptions{Interp: interp, Workers: 1 + rng.IntN(3), SrcRow0: a}
				require.NoError(t, cpu.Reproject(dst, f.w, y0, rows, f.src[a*f.sw:b*f.sw], f.sw, f.sh, f.grid, opt),
					"band [%d, %d), window [%d, %d)", y0, y0+rows, a, b)
				for i, v := range dst {
					require.Equal(t, math.Float32bits(whole[y0*f.w+i]), math.Float32bits(v),
						"pixel %d of band [%d, %d), window [%d, %d)", i, y0, y0+rows, a, b)
				}
			}
		})
	}
}

func TestReprojectShiftedGridSamplesDifferFromWholeImage(t *testing.T) {
	// What the mosaic did before SrcRow0: subtract the window's first row from the grid's
	// samples and pass the window as the image. The interpolated coordinates round
	// differently, so some pixels differ from the whole-image result: the window test above
	// would fail for such an implementation.
	f := newWindowFixture()
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			whole := reproject(t, f.src, f.sw, f.sh, f.grid, f.w, f.h, interp)
			n0, _ := neededRows(f, 0, f.h, interp)
			cg := *f.grid
			cg.Y = append([]float64(nil), f.grid.Y...)
			for i := range cg.Y {
				cg.Y[i] -= float64(n0)
			}
			shifted := reproject(t, f.src[n0*f.sw:], f.sw, f.sh-n0, &cg, f.w, f.h, interp)
			differ := 0
			for i := range whole {
				if math.Float32bits(whole[i]) != math.Float32bits(shifted[i]) {
					differ++
				}
			}
			assert.Greater(t, differ, 0, "shifting the samples by %d rows changed no pixel", n0)
		})
	}
}

func TestReprojectWindowMissingARowIsAnError(t *testing.T) {
	f := newWindowFixture()
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			const y0, rows = 40, 50
			n0, n1 := neededRows(f, y0, rows, interp)
			for _, tc := range []struct {
				name    string
				a, b    int
				missing int
			}{
				{"first row missing", n0 + 1, n1, n0},
				{"last row missing", n0, n1 - 1, n1 - 1},
				{"window above the rows needed", 0, n0, n0},
			} {
				t.Run(tc.name, func(t *testing.T) {
					// The same error for any number of workers: the lowest missing row.
					for _, workers := range []int{1, 3} {
						dst := make([]float32, f.w*rows)
						opt := cpu.ReprojectOptions{Interp: interp, Workers: workers, SrcRow0: tc.a}
						err := cpu.Reproject(dst, f.w, y0, rows, f.src[tc.a*f.sw:tc.b*f.sw], f.sw, f.sh, f.grid, opt)
						require.ErrorIs(t, err, cpu.ErrShape)
						assert.Contains(t, err.Error(), fmt.Sprintf("source row %d,", tc.missing))
					}
				})
			}
		})
	}
}

func TestReprojectWindowNeedsOnlyRowsWithNonZeroWeight(t *testing.T) {
	// At integer positions every kernel reads only the pixel itself: a window of exactly the
	// band's rows is enough for an integer shift, one row short of a half-pixel shift is not.
	const w, h = 30, 40
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			const y0, rows = 12, 9 // output rows 12…20 read input rows 15…23
			dst := make([]float32, w*rows)
			opt := cpu.ReprojectOptions{Interp: interp, SrcRow0: 15}
			require.NoError(t, cpu.Reproject(dst, w, y0, rows, src[15*w:24*w], w, h, shiftGrid(w, h, 0, 3), opt))
			for i, v := range dst {
				require.Equal(t, math.Float32bits(src[15*w+i]), math.Float32bits(v), "pixel %d", i)
			}
			err := cpu.Reproject(dst, w, y0, rows, src[15*w:24*w], w, h, shiftGrid(w, h, 0, 3.5), opt)
			assert.ErrorIs(t, err, cpu.ErrShape)
		})
	}
}

func TestReprojectWindowAtTheImageEdgeServesClampedTaps(t *testing.T) {
	// Taps beyond the image's last row are clamped to it before the window is looked up, so
	// a window ending at the image's edge serves them.
	const w, h = 20, 30
	rng := rand.New(rand.NewPCG(9, 10))
	src := make([]float32, w*h)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	grid := shiftGrid(w, h, 0.25, 0.3)
	for _, interp := range allInterps {
		t.Run(string(interp), func(t *testing.T) {
			whole := reproject(t, src, w, h, grid, w, h, interp)
			const y0 = 25
			dst := make([]float32, w*(h-y0))
			opt := cpu.ReprojectOptions{Interp: interp, SrcRow0: 20}
			require.NoError(t, cpu.Reproject(dst, w, y0, h-y0, src[20*w:], w, h, grid, opt))
			for i, v := range dst {
				require.Equal(t, math.Float32bits(whole[y0*w+i]), math.Float32bits(v), "pixel %d", i)
			}
		})
	}
}
