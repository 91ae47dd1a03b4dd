package pipeline

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// trailFrame is shiftedFrame with a satellite trail: +amp on the reference-frame pixels within
// 1.5 px of the line x − y = 40 when trail is set.
func trailFrame(t *testing.T, name string, ref *wcs.WCS, ox, oy, w, h int, trail bool) FrameSource {
	t.Helper()
	img := &fits.Image{Width: w, Height: h, Channels: 1, Pix: make([]float32, w*h), Header: fits.NewHeader()}
	for y := range h {
		for x := range w {
			v := smoothSky(float64(x+ox), float64(y+oy))
			if trail && math.Abs(float64(x+ox-y-oy-40)) < 1.5 {
				v += 500
			}
			img.Pix[y*w+x] = v
		}
	}
	g := ref.Clone()
	g.CRPix[0] -= float64(ox)
	g.CRPix[1] -= float64(oy)
	for _, c := range g.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	var buf bytes.Buffer
	require.NoError(t, fits.Encode(&buf, img, fits.WriteOptions{}))
	return MemoryFrame{FileName: name, Data: buf.Bytes()}
}

func TestMosaicMedianAndKappaRemoveATrailThatMeanKeeps(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		trailFrame(t, "a.fits", ref, 0, 0, 140, 110, false),
		trailFrame(t, "b.fits", ref, 12, 9, 140, 110, true),
		trailFrame(t, "c.fits", ref, 24, 4, 140, 110, false),
	}
	// worstOnTrail is the largest |mosaic − sky| within 3 px of the trail, where all three
	// inputs overlap away from their edges.
	worstOnTrail := func(res *MosaicResult) float64 {
		worst := 0.0
		for y := range res.Image.Height {
			for x := range res.Image.Width {
				ra, dec, err := res.WCS.PixelToWorld(float64(x), float64(y))
				require.NoError(t, err)
				rx, ry, err := ref.WorldToPixel(ra, dec)
				require.NoError(t, err)
				if rx < 30 || rx > 135 || ry < 15 || ry > 105 || math.Abs(rx-ry-40) > 3 {
					continue
				}
				worst = max(worst, math.Abs(float64(res.Image.Pix[y*res.Image.Width+x]-smoothSky(rx, ry))))
			}
		}
		return worst
	}
	for _, tc := range []struct {
		combine string
		kappa   float32
		clean   bool
	}{
		{CombineMean, 3, false},
		{CombineMedian, 3, true},
		// One outlier among three samples lies 2.1σ from their median: κ must be below that.
		{CombineKappa, 2, true},
	} {
		t.Run(tc.combine, func(t *testing.T) {
			opt := DefaultMosaicOptions()
			opt.NorthUp, opt.Match, opt.Combine = true, MatchNone, tc.combine
			opt.KappaLow, opt.KappaHigh = tc.kappa, tc.kappa
			res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
			require.NoError(t, err)
			worst := worstOnTrail(res)
			t.Logf("%s: max |mosaic − sky| on the trail = %.3g (trail 500)", tc.combine, worst)
			if tc.clean {
				assert.Less(t, worst, 0.05)
			} else {
				assert.Greater(t, worst, 100.0)
			}
			c, _ := res.Image.Header.String("ZMCOMBIN")
			assert.Equal(t, tc.combine, c)
		})
	}
}

func TestMosaicMedianAndKappaDoNotDependOnTheBandHeight(t *testing.T) {
	ref := testRefWCS(t)
	srcs := []FrameSource{
		trailFrame(t, "a.fits", ref, 0, 0, 150, 100, false),
		trailFrame(t, "b.fits", ref, 60, 40, 150, 100, true),
		trailFrame(t, "c.fits", ref, 30, 70, 150, 100, false),
	}
	for _, combine := range []string{CombineMedian, CombineKappa} {
		t.Run(combine, func(t *testing.T) {
			run := func(rows int) *MosaicResult {
				opt := DefaultMosaicOptions()
				opt.Combine, opt.KappaLow, opt.KappaHigh, opt.bandRows = combine, 2, 2, rows
				res, err := MosaicWith(t.Context(), cpuRunner(t), srcs, opt, Hooks{})
				require.NoError(t, err)
				return res
			}
			one, many := run(0), run(7)
			require.Equal(t, 1, one.Plan.Bands)
			require.Greater(t, many.Plan.Bands, 1)
			requireSameBits(t, one.Image.Pix, many.Image.Pix, "image")
			requireSameBits(t, one.Coverage, many.Coverage, "coverage")
			assert.Equal(t, one.Alpha, many.Alpha)
		})
	}
}

func TestCombineScratchHandCases(t *testing.T) {
	opt := DefaultMosaicOptions()
	for _, tc := range []struct {
		name    string
		combine string
		kappa   float32
		s       []sample
		v, cov  float64
	}{
		{"median of an odd count ignores weights", CombineMedian, 3, []sample{{5, 1}, {1, 0.1}, {100, 1}}, 5, 2.1},
		{"median of an even count is the mid-point", CombineMedian, 3, []sample{{4, 1}, {2, 1}}, 3, 2},
		{"kappa keeps two samples", CombineKappa, 1, []sample{{4, 1}, {1000, 3}}, (4 + 3000) / 4.0, 4},
		{"kappa rejects the outlier, then weights the kept", CombineKappa, 2, []sample{{10, 1}, {10.1, 3}, {500, 1}}, (10 + 30.3) / 4, 4},
		{"no sample", CombineKappa, 2, nil, math.NaN(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opt
			o.Combine, o.KappaLow, o.KappaHigh = tc.combine, tc.kappa, tc.kappa
			sc := combineScratch{s: append([]sample(nil), tc.s...)}
			v, cov := sc.combine(o)
			if math.IsNaN(tc.v) {
				assert.True(t, v != v)
			} else {
				assert.InDelta(t, tc.v, v, 1e-4)
			}
			assert.InDelta(t, tc.cov, cov, 1e-6)
		})
	}
}
