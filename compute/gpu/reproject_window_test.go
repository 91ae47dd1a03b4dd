package gpu

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

// gpuWindowFixture is cpu's window fixture: coordinates around input rows 1000…1150 of a
// 1150-row image with NaN holes; X rotated, Y = (2x + y)/3 + 1000 so that a third of the pixels
// sit on integer rows, where a coordinate that moved with the window would change the taps.
type gpuWindowFixture struct {
	src    []float32
	sw, sh int
	w, h   int
	grid   *cpu.CoordGrid
}

func newGPUWindowFixture() gpuWindowFixture {
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
	return gpuWindowFixture{src: src, sw: sw, sh: sh, w: w, h: h,
		grid: affineCoordGrid(w, h, 16, [6]float64{k * c, -k * s, 100.37, 2 * k, k, 1000})}
}

// rowsNeeded returns the source rows [r0, r1) that output rows [y0, y0+rows) can read with a
// 6-tap kernel at the CPU's coordinates, widened by one row on each side for the GPU's float32
// coordinates (within CoordTolerance, so at most one row further) and cut to the image.
func (f gpuWindowFixture) rowsNeeded(y0, rows int) (r0, r1 int) {
	r0, r1 = f.sh, 0
	for y := y0; y < y0+rows; y++ {
		for x := range f.w {
			ix, iy := f.grid.At(float64(x), float64(y))
			if !(ix >= -0.6 && ix <= float64(f.sw)-0.4 && iy >= -0.6 && iy <= float64(f.sh)-0.4) {
				continue
			}
			j := int(math.Floor(iy))
			r0, r1 = min(r0, max(j-3, 0)), max(r1, min(j+4, f.sh-1)+1)
		}
	}
	return r0, r1
}

func TestReprojectWindowEqualsWholeImageOnTheGPUBitForBit(t *testing.T) {
	d := sharedDevice(t)
	f := newGPUWindowFixture()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, interp := range reprojectInterps {
		t.Run(string(interp), func(t *testing.T) {
			whole := make([]float32, f.w*f.h)
			require.NoError(t, d.Reproject(ctx, whole, f.w, 0, f.h, f.src, f.sw, f.sh, f.grid, cpu.ReprojectOptions{Interp: interp}))
			finite := 0
			for _, v := range whole {
				if !math.IsNaN(float64(v)) {
					finite++
				}
			}
			require.Greater(t, finite, f.w*f.h/2, "the test must exercise real samples")
			for k := range 6 {
				y0 := rng.IntN(f.h - 1)
				rows := 1 + rng.IntN(f.h-y0)
				if k == 0 {
					y0, rows = 0, f.h
				}
				n0, n1 := f.rowsNeeded(y0, rows)
				require.Less(t, n0, n1)
				a, b := n0, n1
				if k > 1 {
					a, b = n0-rng.IntN(n0+1), n1+rng.IntN(f.sh-n1+1)
				}
				dst := make([]float32, f.w*rows)
				opt := cpu.ReprojectOptions{Interp: interp, SrcRow0: a}
				require.NoError(t, d.Reproject(ctx, dst, f.w, y0, rows, f.src[a*f.sw:b*f.sw], f.sw, f.sh, f.grid, opt),
					"band [%d, %d), window [%d, %d)", y0, y0+rows, a, b)
				for i, v := range dst {
					require.Equal(t, math.Float32bits(whole[y0*f.w+i]), math.Float32bits(v),
						"pixel %d of band [%d, %d), window [%d, %d)", i, y0, y0+rows, a, b)
				}
			}
		})
	}
}

func TestReprojectWindowMissingRowsIsAnErrorOnTheGPU(t *testing.T) {
	d := sharedDevice(t)
	f := newGPUWindowFixture()
	const y0, rows = 40, 50
	n0, n1 := f.rowsNeeded(y0, rows)
	for _, interp := range reprojectInterps {
		t.Run(string(interp), func(t *testing.T) {
			dst := make([]float32, f.w*rows)
			a := n0 + 8 // well inside the rows the band reads
			opt := cpu.ReprojectOptions{Interp: interp, SrcRow0: a}
			err := d.Reproject(context.Background(), dst, f.w, y0, rows, f.src[a*f.sw:n1*f.sw], f.sw, f.sh, f.grid, opt)
			require.ErrorIs(t, err, cpu.ErrShape)
			assert.Contains(t, err.Error(), "source row")
		})
	}
}

func TestReprojectShaderRecordsTheLowestRowNotUploaded(t *testing.T) {
	// The engine call the device makes, with fewer rows uploaded than the band reads: the
	// pixels that need a missing row are NaN, the others are computed, and the lowest missing
	// row is returned (Device.Reproject then retries with every row the caller gave).
	d := sharedDevice(t)
	const sw, sh, w, h = 30, 40, 30, 20
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]float32, sw*sh)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	g := affineCoordGrid(w, h, 16, [6]float64{1, 0, 0, 0, 1, 10}) // output row y reads input row y+10
	var dst []float32
	var fault int
	err := d.do(context.Background(), func(ctx context.Context, e *engine) error {
		bs := bufSet{e: e}
		dst = make([]float32, w*h)
		var err error
		fault, err = e.reproject(ctx, &bs, dst, w, 0, h, src[15*sw:25*sw], sw, sh, 15, g, extendGrid(g), cpu.InterpBilinear)
		bs.done(err)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, 10, fault, "rows 10…14 and 25…29 are missing")
	for y := range h {
		for x := range w {
			v := dst[y*w+x]
			if r := y + 10; r < 15 || r >= 25 {
				assert.True(t, math.IsNaN(float64(v)), "(%d, %d) reads missing row %d", x, y, r)
				continue
			}
			assert.Equal(t, math.Float32bits(src[(y+10)*sw+x]), math.Float32bits(v), "(%d, %d)", x, y)
		}
	}
}

func TestReprojectRejectsBadWindows(t *testing.T) {
	d := sharedDevice(t)
	src := make([]float32, 16)
	g := affineCoordGrid(4, 4, 2, [6]float64{1, 0, 0, 0, 1, 0})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		src  []float32
		opt  cpu.ReprojectOptions
		want error
	}{
		{"negative row offset", src, cpu.ReprojectOptions{Interp: cpu.InterpBilinear, SrcRow0: -1}, cpu.ErrInvalidOptions},
		{"window past the bottom", src[:8], cpu.ReprojectOptions{Interp: cpu.InterpBilinear, SrcRow0: 3}, cpu.ErrShape},
		{"not whole rows", src[:6], cpu.ReprojectOptions{Interp: cpu.InterpBilinear}, cpu.ErrShape},
		{"empty", nil, cpu.ReprojectOptions{Interp: cpu.InterpBilinear}, cpu.ErrShape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, d.Reproject(ctx, make([]float32, 4), 4, 0, 1, tc.src, 4, 4, g, tc.opt), tc.want)
		})
	}
}

func TestReprojectRetriesWithEveryRowGivenWhenTheEstimateIsShort(t *testing.T) {
	// run stands for the kernel: it misses row 7 unless the upload holds it.
	type call struct{ r0, r1 int }
	for _, tc := range []struct {
		name          string
		r0, r1        int // the estimate
		w0, w1        int // the caller's rows
		calls         []call
		wantErr       bool
		wantErrorText string
	}{
		{"the estimate holds every row read", 5, 9, 0, 20, []call{{5, 9}}, false, ""},
		{"a short estimate is retried with the caller's rows", 8, 12, 0, 20, []call{{8, 12}, {0, 20}}, false, ""},
		{"a window without the row is an error", 8, 12, 8, 20, []call{{8, 12}, {8, 20}}, true, "source row 7,"},
		{"the whole window uploaded: no retry", 8, 20, 8, 20, []call{{8, 20}}, true, "source row 7,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []call
			run := func(r0, r1 int) (int, error) {
				calls = append(calls, call{r0, r1})
				if 7 < r0 || 7 >= r1 {
					return 7, nil
				}
				return -1, nil
			}
			err := uploadRetry(run, tc.r0, tc.r1, tc.w0, tc.w1, 30)
			assert.Equal(t, tc.calls, calls)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, cpu.ErrShape)
			assert.Contains(t, err.Error(), tc.wantErrorText)
		})
	}
}
