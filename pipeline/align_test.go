package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// rotatedWCS is a TAN WCS of a w×h frame whose centre looks at (ra, dec), +y at position angle
// rotDeg east of north, east left (the usual sky parity), scale arcsec/px.
func rotatedWCS(t testing.TB, ra, dec, rotDeg, scale float64, w, h int) *wcs.WCS {
	t.Helper()
	s := scale / 3600
	sin, cos := math.Sincos(rotDeg * math.Pi / 180)
	cd := [2][2]float64{{-s * cos, s * sin}, {s * sin, s * cos}}
	ws, err := wcs.New("TAN", [2]float64{ra, dec}, [2]float64{float64(w+1) / 2, float64(h+1) / 2}, cd)
	require.NoError(t, err)
	return ws
}

// writeWCSFrame writes a float32 frame with the cards of ws (none when ws is nil).
func writeWCSFrame(t testing.TB, name string, w, h, c int, ws *wcs.WCS, pix []float32) FrameSource {
	t.Helper()
	hd := fits.NewHeader()
	hd.Set("OBJECT", "ALIGN", "")
	if ws != nil {
		for _, cd := range ws.Cards() {
			hd.Set(cd.Key, cd.Value, cd.Comment)
		}
	}
	img := &fits.Image{Width: w, Height: h, Channels: c, Pix: pix, Header: hd}
	require.NoError(t, fits.Write(name, img, fits.WriteOptions{}))
	return DiskFrame(name)
}

// patternFrames writes n frames of w×h×c around (83.8, −5.4) with pointing offsets of a few
// pixels and rotations of a few degrees, filled with seeded noise on a smooth pattern fixed
// on the pixel grid (the content does not matter where only determinism is tested).
func patternFrames(t testing.TB, dir string, n, w, h, c int) []FrameSource {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	srcs := make([]FrameSource, n)
	for f := range n {
		dx, dy := 8*(rng.Float64()-0.5), 8*(rng.Float64()-0.5)
		ws := rotatedWCS(t, 83.8+dx*2/3600, -5.4+dy*2/3600, 4*(rng.Float64()-0.5), 2, w, h)
		pix := make([]float32, w*h*c)
		for i := range pix {
			x, y := i%w, (i/w)%h
			pix[i] = float32(100 + 20*math.Sin(float64(x)/9)*math.Cos(float64(y)/7) + 5*rng.NormFloat64())
		}
		srcs[f] = writeWCSFrame(t, filepath.Join(dir, fmt.Sprintf("p%02d.fits", f)), w, h, c, ws, pix)
	}
	return srcs
}

func alignOptions() StackOptions {
	opt := DefaultStackOptions()
	opt.Align = AlignWCS
	return opt
}

func TestChooseAlignReference(t *testing.T) {
	// A plus sign of 5 frames around (10, 20), the centre one listed third, plus a frame far
	// out that pulls the mean a little towards it but not past the centre frame.
	centres := [][2]float64{{10.2, 20}, {9.8, 20}, {10.01, 20.005}, {10, 20.2}, {10, 19.8}, {10.3, 20.1}}
	names := []string{"a", "b", "c", "d", "e", "f"}
	tests := []struct {
		name    string
		centres [][2]float64
		names   []string
		want    string
	}{
		{"the frame nearest the mean of the centres", centres, names, "c"},
		{"whatever the order of the frames", reorder(centres, []int{5, 2, 4, 0, 3, 1}), reorder(names, []int{5, 2, 4, 0, 3, 1}), "c"},
		{"exact ties go to the smallest name", [][2]float64{{10, 20.1}, {10, 19.9}}, []string{"z.fits", "m.fits"}, "m.fits"},
		{"across RA 0/360", [][2]float64{{359.9, 1}, {0.1, 1}, {0.001, 1}}, []string{"a", "b", "c"}, "c"},
		{"one frame", [][2]float64{{100, -30}}, []string{"only"}, "only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, mean, dist, err := ChooseAlignReference(tc.centres, tc.names)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tc.names[ref])
			require.Len(t, dist, len(tc.centres))
			assert.Equal(t, slices.Min(dist), dist[ref])
			assert.True(t, mean[0] >= 0 && mean[0] < 360)
		})
	}
	_, _, _, err := ChooseAlignReference(nil, nil)
	assert.Error(t, err)
	_, _, _, err = ChooseAlignReference([][2]float64{{0, 0}, {180, 0}}, []string{"a", "b"})
	assert.ErrorContains(t, err, "centre of the frames", "antipodal frames have no centre")
}

func reorder[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

func TestAlignedRowsDoNotDependOnTheBandCut(t *testing.T) {
	// The same frame read whole, in bands of 7 rows, in single rows and with window buffers
	// too small for a whole band (many groups, grown buffers) gives the same bits.
	srcs := patternFrames(t, t.TempDir(), 3, 96, 80, 3)
	res := &StackResult{}
	opt := alignOptions()
	opt.Interp = cpu.InterpLanczos3
	frames, err := scanFrames(srcs, opt, Hooks{}, res)
	require.NoError(t, err)
	ref, pool, err := setupAlignment(frames, opt, Hooks{}, res)
	require.NoError(t, err)
	var f *frameReader
	for i, fr := range frames {
		if i != ref {
			f = fr
			fr.align.threads = 1
			break
		}
	}
	w, h := f.align.outW, f.align.outH
	read := func(band, floats int) []float32 {
		pool.free, pool.floats = nil, floats
		out := make([]float32, 3*w*h)
		for c := range 3 {
			for y0 := 0; y0 < h; y0 += band {
				y1 := min(y0+band, h)
				require.NoError(t, f.readBand(c, y0, y1, out[c*w*h+y0*w:c*w*h+y1*w]))
			}
		}
		return out
	}
	whole := read(h, 96*80)
	nan := 0
	for _, v := range whole {
		if math.IsNaN(float64(v)) {
			nan++
		}
	}
	assert.Greater(t, nan, 0, "a rotated, shifted frame leaves part of the reference grid without data")
	assert.Less(t, nan, len(whole)/4)
	for _, cut := range []struct{ band, floats int }{{7, 96 * 80}, {1, 96 * 80}, {33, 96 * 10}, {h, 1}} {
		got := read(cut.band, cut.floats)
		for i := range whole {
			require.Equal(t, math.Float32bits(whole[i]), math.Float32bits(got[i]), "pixel %d with bands of %d rows, window %d", i, cut.band, cut.floats)
		}
	}
}

func TestAlignedStackIsBitIdenticalWhateverTheBudget(t *testing.T) {
	srcs := patternFrames(t, t.TempDir(), 12, 512, 400, 1)
	run := func(budget int64, workers int) *StackResult {
		opt := alignOptions()
		opt.MemBudget, opt.Workers = budget, workers
		res, err := Stack(t.Context(), srcs, opt, Hooks{})
		require.NoError(t, err)
		return res
	}
	big := run(1<<30, 2)
	small := run(20<<20, 3)
	require.Equal(t, 1, big.Plan.Bands)
	require.Greater(t, small.Plan.Bands, 2, "the small budget cuts the frame into bands")
	assert.Positive(t, small.Plan.AlignBytes)
	for i := range big.Image.Pix {
		if math.Float32bits(big.Image.Pix[i]) != math.Float32bits(small.Image.Pix[i]) {
			t.Fatalf("pixel %d differs: %v vs %v (bands %d vs %d)", i, big.Image.Pix[i], small.Image.Pix[i], big.Plan.Bands, small.Plan.Bands)
		}
	}
	assert.Equal(t, big.Kept, small.Kept)
	assert.Equal(t, big.Frames, small.Frames, "same statistics, weights and normalisation")
}

func TestAlignWCSReportsTheReferenceAndTakesItsGrid(t *testing.T) {
	dir := t.TempDir()
	// Three frames of different shapes; the middle one in RA is nearest the centre.
	const scale = 2.0
	var srcs []FrameSource
	shapes := [][2]int{{64, 48}, {80, 60}, {72, 50}}
	ras := []float64{83.8 - 10*scale/3600, 83.8, 83.8 + 12*scale/3600}
	for i, s := range shapes {
		ws := rotatedWCS(t, ras[i], -5.4, float64(i), scale, s[0], s[1])
		pix := make([]float32, s[0]*s[1])
		for j := range pix {
			pix[j] = 100
		}
		srcs = append(srcs, writeWCSFrame(t, filepath.Join(dir, fmt.Sprintf("s%d.fits", i)), s[0], s[1], 1, ws, pix))
	}
	var events []compute.Event
	sink := compute.Sink(func(e compute.Event) { events = append(events, e) })
	opt := alignOptions()
	opt.Reject, opt.Norm, opt.Weight = "none", "none", "none"
	res, err := Stack(t.Context(), srcs, opt, Hooks{Events: sink})
	require.NoError(t, err)
	assert.Equal(t, 1, res.AlignReference)
	assert.True(t, res.Frames[1].AlignReference)
	assert.False(t, res.Frames[0].AlignReference)
	assert.Greater(t, res.Frames[0].CentreOffsetArcsec, res.Frames[1].CentreOffsetArcsec)
	assert.Equal(t, 80, res.Image.Width)
	assert.Equal(t, 60, res.Image.Height)
	gw, err := wcs.FromHeader(res.Image.Header)
	require.NoError(t, err)
	assert.InDelta(t, 83.8, gw.CRVal[0], 1e-9, "the output carries the reference's WCS")
	s, _ := res.Image.Header.String("ZMALREF")
	assert.Equal(t, "s1.fits", s)
	var found bool
	for _, e := range events {
		if e.Key == "stack_align_reference" {
			found = true
			assert.Equal(t, "s1.fits", e.Params["file"])
			assert.Equal(t, 3, e.Params["frames"])
		}
	}
	assert.True(t, found, "the choice is an event")
	// A flat field stays flat (surface brightness) where frames overlap; the reference's
	// pixels are never resampled.
	for i, v := range res.Image.Pix {
		if !math.IsNaN(float64(v)) {
			require.InDelta(t, 100, v, 1e-3, "pixel %d", i)
		}
	}
}

func TestAlignWCSScalesFluxWhenPixelScalesDiffer(t *testing.T) {
	dir := t.TempDir()
	// The reference (2″/px, in the middle) and two frames binned 2×2 (4″/px): their pixels
	// hold 4 reference pixels' worth of flux, so a flat 400 becomes 100 per reference pixel.
	var srcs []FrameSource
	for i, spec := range []struct {
		ra, scale float64
		w, h      int
		v         float32
	}{{83.8 - 4.0/3600, 4, 32, 24, 400}, {83.8, 2, 64, 48, 100}, {83.8 + 4.0/3600, 4, 32, 24, 400}} {
		pix := make([]float32, spec.w*spec.h)
		for j := range pix {
			pix[j] = spec.v
		}
		ws := rotatedWCS(t, spec.ra, -5.4, 0, spec.scale, spec.w, spec.h)
		srcs = append(srcs, writeWCSFrame(t, filepath.Join(dir, fmt.Sprintf("b%d.fits", i)), spec.w, spec.h, 1, ws, pix))
	}
	opt := alignOptions()
	opt.Reject, opt.Norm, opt.Weight = "none", "none", "none"
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	require.Equal(t, 1, res.AlignReference)
	assert.InDelta(t, 0.25, res.Frames[0].FluxScale, 1e-6)
	assert.Zero(t, res.Frames[1].FluxScale, "the reference is not scaled")
	for i, v := range res.Image.Pix {
		require.InDelta(t, 100, v, 1e-3, "pixel %d", i)
	}
}

func TestAlignWCSNeedsAWCSOnEveryFrame(t *testing.T) {
	dir := t.TempDir()
	srcs := patternFrames(t, dir, 3, 40, 30, 1)
	bad := writeWCSFrame(t, filepath.Join(dir, "nowcs.fits"), 40, 30, 1, nil, make([]float32, 40*30))
	srcs = append(srcs, bad)
	var skipped []string
	sink := compute.Sink(func(e compute.Event) {
		if e.Key == "stack_frame_skipped" {
			skipped = append(skipped, fmt.Sprint(e.Params["file"]))
		}
	})
	opt := alignOptions()
	_, err := Stack(t.Context(), srcs, opt, Hooks{Events: sink})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nowcs.fits")
	assert.Contains(t, err.Error(), "no usable WCS")
	assert.Contains(t, err.Error(), "CTYPE1")

	opt.SkipBad = true
	res, err := Stack(t.Context(), srcs, opt, Hooks{Events: sink})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Used)
	assert.Contains(t, res.Frames[3].Error, "no usable WCS")
	assert.Equal(t, []string{bad.Name(), bad.Name()}, skipped)

	// Without alignment the same frame is fine: the WCS is not needed.
	res, err = Stack(t.Context(), srcs, DefaultStackOptions(), Hooks{})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Used)
	assert.Equal(t, -1, res.AlignReference)
}

func TestAlignWCSAcceptsOtherShapesButNotOtherChannels(t *testing.T) {
	dir := t.TempDir()
	srcs := patternFrames(t, dir, 2, 40, 30, 1)
	ws := rotatedWCS(t, 83.8, -5.4, 0, 2, 50, 30)
	srcs = append(srcs, writeWCSFrame(t, filepath.Join(dir, "wide.fits"), 50, 30, 1, ws, make([]float32, 50*30)))
	_, err := Stack(t.Context(), srcs, DefaultStackOptions(), Hooks{})
	require.ErrorContains(t, err, "need --align wcs")
	_, err = Stack(t.Context(), srcs, alignOptions(), Hooks{})
	require.NoError(t, err)
	srcs = append(srcs, writeWCSFrame(t, filepath.Join(dir, "rgb.fits"), 40, 30, 3, ws, make([]float32, 40*30*3)))
	_, err = Stack(t.Context(), srcs, alignOptions(), Hooks{})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "rgb.fits") && strings.Contains(err.Error(), "channels"), err.Error())
}

// BenchmarkStackAlign compares stacking 12 rotated, dithered 1024×768 frames with and without
// --align wcs (defaults otherwise): the ratio of the two is the cost of the alignment.
func BenchmarkStackAlign(b *testing.B) {
	srcs := patternFrames(b, b.TempDir(), 12, 1024, 768, 1)
	for _, align := range []string{AlignNone, AlignWCS} {
		b.Run(align, func(b *testing.B) {
			opt := DefaultStackOptions()
			opt.Align = align
			for b.Loop() {
				if _, err := Stack(b.Context(), srcs, opt, Hooks{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestPlanStackCountsTheAlignmentWindows(t *testing.T) {
	cost := alignCost{perRow: 4 * 1080, fixed: 4 * 1080 * 300}
	plain, err := PlanStack(2000, 1080, 1920, 1, 2, 4, 1<<30)
	require.NoError(t, err)
	p, err := planStack(2000, 1080, 1920, 1, 2, 4, 1<<30, cost)
	require.NoError(t, err)
	assert.Less(t, p.BandRows, plain.BandRows, "the windows take part of the budget")
	assert.Equal(t, cost.fixed+int64(p.BandRows)*cost.perRow, p.AlignBytes)
	assert.Equal(t, cost.fixed, p.AlignStatsBytes)
	assert.LessOrEqual(t, p.PeakBytes+planSlack, int64(1<<30))
	assert.GreaterOrEqual(t, p.PeakBytes, p.FixedBytes+int64(p.BandRows)*p.RowBytes+4*cost.fixed)
	_, err = planStack(2000, 1080, 1920, 1, 2, 4, 32<<20, cost)
	assert.ErrorContains(t, err, "too small")
}
