package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/synth"
)

// Accuracy of --align wcs on a synthetic group: 10 frames of one pointing with dithers of up
// to 6 px and a field rotation of ±3° (an alt-az mount), rendered from the synth catalogue
// through each frame's own WCS (synth.TruthOn), with and without Gaussian noise. The stack is
// compared with the catalogue's truth rendered on the reference frame's grid.

const (
	alignFrames   = 10
	alignRotation = 6.0 // degrees of field rotation over the set
)

func alignSynthOptions() synth.Options {
	o := synth.DefaultOptions()
	o.Width, o.Height, o.Frames = 240, 180, alignFrames
	o.DitherPx = 6
	o.Artefacts, o.HotPixels, o.CosmicRays, o.Satellites = false, 0, 0, 0
	o.Stars, o.Sky, o.ReadNoise, o.Seed = 80, 200, 2, 5
	return o
}

// alignFrameWCS is synth's dithered frame i turned about its centre by its share of the
// field rotation.
func alignFrameWCS(t *testing.T, o synth.Options, i int) *wcs.WCS {
	t.Helper()
	fw, err := synth.FrameWCS(o, i)
	require.NoError(t, err)
	rot := alignRotation * (float64(i)/float64(o.Frames-1) - 0.5) * math.Pi / 180
	s, c := math.Sincos(rot)
	cd := fw.CD
	r := [2][2]float64{{c, -s}, {s, c}}
	var out [2][2]float64
	for a := range 2 {
		for b := range 2 {
			out[a][b] = cd[a][0]*r[0][b] + cd[a][1]*r[1][b]
		}
	}
	w, err := wcs.New("TAN", fw.CRVal, fw.CRPix, out)
	require.NoError(t, err)
	return w
}

// writeAlignSet writes the set to dir; sigma > 0 adds seeded Gaussian noise of that RMS.
func writeAlignSet(t *testing.T, o synth.Options, dir string, sigma float64) []FrameSource {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 99))
	srcs := make([]FrameSource, o.Frames)
	for i := range srcs {
		w := alignFrameWCS(t, o, i)
		pix, err := synth.TruthOn(o, w, o.Width, o.Height)
		require.NoError(t, err)
		for j := range pix {
			pix[j] += float32(sigma * rng.NormFloat64())
		}
		srcs[i] = writeWCSFrame(t, filepath.Join(dir, fmt.Sprintf("g%02d.fits", i)), o.Width, o.Height, 1, w, pix)
	}
	return srcs
}

// stackAndTruth stacks srcs and renders the truth on the output's grid (its header's WCS).
func stackAndTruth(t *testing.T, o synth.Options, srcs []FrameSource, opt StackOptions) (*StackResult, []float32, time.Duration) {
	t.Helper()
	t0 := time.Now()
	res, err := Stack(t.Context(), srcs, opt, Hooks{})
	d := time.Since(t0)
	require.NoError(t, err)
	gw, err := wcs.FromHeader(res.Image.Header)
	require.NoError(t, err)
	truth, err := synth.TruthOn(o, gw, res.Image.Width, res.Image.Height)
	require.NoError(t, err)
	return res, truth, d
}

// Star geometry (FWHM 2.5 px): centroid box ±4 px, background annulus 8–12 px.
const (
	alBox = 4
	alIn  = 8.0
	alOut = 12.0
)

// alignStarOffsets returns the centroid offset (stack − truth) of every isolated truth star
// brighter than minAmp whose surroundings the stack covers with all n frames.
func alignStarOffsets(truth, img []float32, kept []uint32, w, h int, n uint32, minAmp float64) []float64 {
	at := func(x, y int) float64 { return float64(truth[y*w+x]) }
	m := int(alOut) + 1
	var peaks [][2]int
	for y := m; y < h-m; y++ {
		for x := m; x < w-m; x++ {
			v := at(x, y)
			if v > at(x-1, y) && v >= at(x+1, y) && v > at(x, y-1) && v >= at(x, y+1) &&
				v >= at(x-1, y-1) && v >= at(x+1, y+1) && v >= at(x-1, y+1) && v >= at(x+1, y-1) {
				peaks = append(peaks, [2]int{x, y})
			}
		}
	}
	var out []float64
next:
	for _, p := range peaks {
		bg := alAnnulus(truth, w, p[0], p[1])
		amp := at(p[0], p[1]) - bg
		if amp < minAmp {
			continue
		}
		for _, q := range peaks {
			d2 := (q[0]-p[0])*(q[0]-p[0]) + (q[1]-p[1])*(q[1]-p[1])
			if q != p && d2 < 16*16 && at(q[0], q[1])-bg > 0.002*amp {
				continue next
			}
		}
		for y := p[1] - m; y <= p[1]+m; y++ {
			for x := p[0] - m; x <= p[0]+m; x++ {
				if kept[y*w+x] != n {
					continue next
				}
			}
		}
		tx, ty := alCentroid(truth, w, p[0], p[1])
		sx, sy := alCentroid(img, w, p[0], p[1])
		out = append(out, math.Hypot(sx-tx, sy-ty))
	}
	return out
}

func alAnnulus(img []float32, w, cx, cy int) float64 {
	var v []float64
	r := int(alOut)
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			if d := math.Hypot(float64(x-cx), float64(y-cy)); d >= alIn && d <= alOut {
				v = append(v, float64(img[y*w+x]))
			}
		}
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func alCentroid(img []float32, w, cx, cy int) (float64, float64) {
	bg := alAnnulus(img, w, cx, cy)
	var sw, sx, sy float64
	for y := cy - alBox; y <= cy+alBox; y++ {
		for x := cx - alBox; x <= cx+alBox; x++ {
			v := float64(img[y*w+x]) - bg
			sw += v
			sx += v * float64(x)
			sy += v * float64(y)
		}
	}
	return sx / sw, sy / sw
}

func maxRMS(v []float64) (mx, rms float64) {
	for _, d := range v {
		mx = max(mx, d)
		rms += d * d
	}
	return mx, math.Sqrt(rms / float64(len(v)))
}

func TestAlignWCSAccuracyOnARotatedDitheredGroup(t *testing.T) {
	o := alignSynthOptions()
	require.NoError(t, o.Validate())
	n := uint32(o.Frames)
	sigma := math.Sqrt(o.Sky*o.Gain+o.ReadNoise*o.ReadNoise) / o.Gain

	t.Run("noise-free frames: stars land where the truth has them, unaligned they do not", func(t *testing.T) {
		srcs := writeAlignSet(t, o, t.TempDir(), 0)
		opt := alignOptions()
		opt.Reject, opt.Norm, opt.Weight = "none", "none", "none"
		res, truth, _ := stackAndTruth(t, o, srcs, opt)
		w, h := res.Image.Width, res.Image.Height
		off := alignStarOffsets(truth, res.Image.Pix, res.Kept, w, h, n, 50)
		require.GreaterOrEqual(t, len(off), 8, "enough isolated bright stars covered by every frame")
		mx, rms := maxRMS(off)
		t.Logf("align wcs onto %s: %d stars, centroid offset max %.4f px, RMS %.4f px",
			res.Frames[res.AlignReference].File, len(off), mx, rms)
		assert.LessOrEqual(t, mx, 0.05)
		assert.LessOrEqual(t, rms, 0.02)

		opt.Align = AlignNone
		res, truth, _ = stackAndTruth(t, o, srcs, opt)
		off = alignStarOffsets(truth, res.Image.Pix, res.Kept, w, h, n, 50)
		require.NotEmpty(t, off)
		mx, rms = maxRMS(off)
		t.Logf("align none: %d stars, centroid offset max %.4f px, RMS %.4f px", len(off), mx, rms)
		assert.Greater(t, rms, 0.5, "without alignment the dithers and rotation smear the stars")
	})

	t.Run("noisy frames: the background noise falls as 1/√N", func(t *testing.T) {
		srcs := writeAlignSet(t, o, t.TempDir(), sigma)
		res, truth, aligned := stackAndTruth(t, o, srcs, alignOptions())
		var diff []float64
		for i, v := range res.Image.Pix {
			if res.Kept[i] == n {
				diff = append(diff, float64(v)-float64(truth[i]))
			}
		}
		require.Greater(t, len(diff), len(res.Image.Pix)/2, "most of the grid is covered by every frame")
		got, want := alRobustSigma(diff), sigma/math.Sqrt(float64(n))
		t.Logf("background σ %.3f ADU over %d px, σ/√N %.3f (ratio %.3f; resampling smooths the 9 non-reference frames a little)",
			got, len(diff), want, got/want)
		assert.InDelta(t, 1, got/want, 0.25)

		// The level: normalisation measures the aligned frames, whose resampled noise is ~10 %
		// lower than the (untouched) reference's, so their P25 sits 0.67·Δσ higher and the sky
		// offset moves the stack by about that (measured −0.9 ADU = 0.06 σ of one frame; 0.02
		// with --norm none). A constant sky offset of a few % of σ, documented in align.go.
		slices.Sort(diff)
		assert.InDelta(t, 0, diff[len(diff)/2], 0.1*sigma)

		t0 := time.Now()
		_, err := Stack(t.Context(), srcs, DefaultStackOptions(), Hooks{})
		require.NoError(t, err)
		t.Logf("time: align wcs %v, align none %v (ratio %.2f)", aligned, time.Since(t0), float64(aligned)/float64(time.Since(t0)))
	})
}

func alRobustSigma(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	m := v[len(v)/2]
	for i := range v {
		v[i] = math.Abs(v[i] - m)
	}
	slices.Sort(v)
	return 1.4826 * v[len(v)/2]
}
