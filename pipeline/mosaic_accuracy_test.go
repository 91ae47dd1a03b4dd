package pipeline

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/synth"
)

// Accuracy test (2) of the mosaic issue: a synthetic 3×3 mosaic with rotated, dithered frames
// is mosaicked with the defaults and compared with the catalogue's noise-free truth rendered
// on the output grid. Two sets are used: the frames' own noise-free truth (what resampling alone
// does to positions and fluxes: the 0.02 px / 0.5 % claims) and the real noisy frames (seams,
// and positions/fluxes within what the noise allows).

// accuracyOptions is a small 3×3 layout: 256×192 frames, 2 per panel, 30 % overlap, 3°
// rotation, a few pixels of dither, no artefacts.
func accuracyOptions() synth.Options {
	o := synth.DefaultOptions()
	o.Width, o.Height, o.Frames = 256, 192, 2
	o.Mosaic, o.Overlap, o.RotateDeg, o.DitherPx = "3x3", 0.3, 3, 3
	o.Artefacts, o.HotPixels, o.CosmicRays, o.Satellites = false, 0, 0, 0
	o.Stars, o.Sky, o.ReadNoise, o.Seed = 60, 200, 2, 11
	return o
}

// writeAccuracyFrames writes every frame of o to dir as float32 FITS with its WCS cards; with
// noiseFree the pixels are the frame's own truth (synth.TruthOn on its WCS).
func writeAccuracyFrames(t *testing.T, o synth.Options, dir string, noiseFree bool) []FrameSource {
	t.Helper()
	srcs := make([]FrameSource, o.TotalFrames())
	for i := range srcs {
		f, err := synth.GenerateFrame(o, i)
		require.NoError(t, err)
		if noiseFree {
			fw, err := synth.FrameWCS(o, i)
			require.NoError(t, err)
			f.Pix, err = synth.TruthOn(o, fw, o.Width, o.Height)
			require.NoError(t, err)
		}
		h := fits.NewHeader()
		for _, c := range f.Header {
			h.Set(c.Key, c.Value, c.Comment)
		}
		name := filepath.Join(dir, fmt.Sprintf("frame_%02d.fits", i))
		img := &fits.Image{Width: f.Width, Height: f.Height, Channels: 1, Pix: f.Pix, Header: h}
		require.NoError(t, fits.Write(name, img, fits.WriteOptions{}))
		srcs[i] = DiskFrame(name)
	}
	return srcs
}

// starMeasure is one star measured the same way on the mosaic and on the truth.
type starMeasure struct {
	x, y   int     // truth peak pixel
	dx, dy float64 // centroid mosaic − truth, px
	flux   float64 // truth aperture flux, ADU
	dflux  float64 // (mosaic − truth) / truth
	snr    float64 // truth flux / aperture noise of the noisy mosaic
}

// photGeom is where a star is measured: the aperture radius, the background annulus and the
// half-width of the centroid box, in pixels.
type photGeom struct {
	apRadius, annInner, annOuter float64
	boxHalf                      int
}

// synthGeom fits the synthetic PSF (FWHM 2.5 px): the aperture is 3·FWHM, the centroid box
// ±4 px; isolationR is the radius within which a neighbour disqualifies a star.
var synthGeom = photGeom{apRadius: 7.5, annInner: 10, annOuter: 14, boxHalf: 4}

const isolationR = 16

// isolatedPeaks returns the local maxima of the truth that stand > minPeak above their annulus
// and have no other maximum above 0.2 % of their own peak within isolationR, far enough from
// no-data pixels of the mosaic for the annulus to be complete.
func isolatedPeaks(truth, mosaic []float32, w, h int, minPeak float64) [][2]int {
	at := func(x, y int) float64 { return float64(truth[y*w+x]) }
	var peaks [][2]int
	m := int(synthGeom.annOuter) + 1
	for y := m; y < h-m; y++ {
		for x := m; x < w-m; x++ {
			v := at(x, y)
			if v <= at(x-1, y) || v < at(x+1, y) || v <= at(x, y-1) || v < at(x, y+1) ||
				v < at(x-1, y-1) || v < at(x+1, y+1) || v < at(x-1, y+1) || v < at(x+1, y-1) {
				continue
			}
			peaks = append(peaks, [2]int{x, y})
		}
	}
	var out [][2]int
next:
	for _, p := range peaks {
		bg := synthGeom.annulusMedian(truth, w, p[0], p[1])
		amp := at(p[0], p[1]) - bg
		if amp < minPeak {
			continue
		}
		for _, q := range peaks {
			d2 := (q[0]-p[0])*(q[0]-p[0]) + (q[1]-p[1])*(q[1]-p[1])
			if q != p && d2 < isolationR*isolationR && at(q[0], q[1])-bg > 0.002*amp {
				continue next
			}
		}
		for y := p[1] - m; y <= p[1]+m; y++ {
			for x := p[0] - m; x <= p[0]+m; x++ {
				if math.IsNaN(float64(mosaic[y*w+x])) {
					continue next
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// annulusMedian is the median of img in the annulus annInner..annOuter around (cx, cy).
func (g photGeom) annulusMedian(img []float32, w, cx, cy int) float64 {
	var v []float64
	r := int(g.annOuter)
	for y := cy - r; y <= cy+r; y++ {
		for x := cx - r; x <= cx+r; x++ {
			d := math.Hypot(float64(x-cx), float64(y-cy))
			if d >= g.annInner && d <= g.annOuter {
				v = append(v, float64(img[y*w+x]))
			}
		}
	}
	slices.Sort(v)
	return sortedQuantile(v, 0.5)
}

// measure returns the background-subtracted intensity-weighted centroid in the ±boxHalf box
// and the aperture flux (radius apRadius, pixel centres inside) of img around (cx, cy), and the
// aperture's pixel count.
func (g photGeom) measure(img []float32, w, cx, cy int) (x, y, flux float64, n int) {
	bg := g.annulusMedian(img, w, cx, cy)
	var sw, sx, sy float64
	for j := cy - g.boxHalf; j <= cy+g.boxHalf; j++ {
		for i := cx - g.boxHalf; i <= cx+g.boxHalf; i++ {
			v := float64(img[j*w+i]) - bg
			sw += v
			sx += v * float64(i)
			sy += v * float64(j)
		}
	}
	r := int(math.Ceil(g.apRadius))
	for j := cy - r; j <= cy+r; j++ {
		for i := cx - r; i <= cx+r; i++ {
			if math.Hypot(float64(i-cx), float64(j-cy)) <= g.apRadius {
				flux += float64(img[j*w+i]) - bg
				n++
			}
		}
	}
	return sx / sw, sy / sw, flux, n
}

// measureStars compares every isolated star of truth on the mosaic; sigma is the per-pixel
// noise used for the SNR.
func measureStars(truth, mosaic []float32, w, h int, sigma, minPeak float64) []starMeasure {
	var out []starMeasure
	for _, p := range isolatedPeaks(truth, mosaic, w, h, minPeak) {
		tx, ty, tf, n := synthGeom.measure(truth, w, p[0], p[1])
		mx, my, mf, _ := synthGeom.measure(mosaic, w, p[0], p[1])
		out = append(out, starMeasure{
			x: p[0], y: p[1], dx: mx - tx, dy: my - ty, flux: tf, dflux: (mf - tf) / tf,
			snr: tf / (sigma * math.Sqrt(float64(n))),
		})
	}
	return out
}

// centroidStats returns the max and RMS of the centroid offsets.
func centroidStats(stars []starMeasure) (maxOff, rms float64) {
	for _, s := range stars {
		d := math.Hypot(s.dx, s.dy)
		maxOff = max(maxOff, d)
		rms += d * d
	}
	return maxOff, math.Sqrt(rms / float64(len(stars)))
}

// mosaicAndTruth runs the default mosaic over srcs and renders the truth on its grid.
func mosaicAndTruth(t *testing.T, o synth.Options, srcs []FrameSource) (*MosaicResult, []float32) {
	return mosaicAndTruthOn(t, o, srcs, compute.BackendAuto)
}

// mosaicAndTruthOn is mosaicAndTruth with the reprojection on backend.
func mosaicAndTruthOn(t *testing.T, o synth.Options, srcs []FrameSource, backend compute.Backend) (*MosaicResult, []float32) {
	t.Helper()
	opt := DefaultMosaicOptions()
	opt.Compute.Backend = backend
	res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	if backend != compute.BackendAuto {
		requireReprojectedOn(t, res, backend)
	}
	require.Equal(t, len(srcs), res.Used)
	truth, err := synth.TruthOn(o, res.WCS, res.Image.Width, res.Image.Height)
	require.NoError(t, err)
	return res, truth
}

// sortedQuantile is the q-quantile of sorted s (non-empty), linear between ranks. The tests
// keep their own copy so that what they measure does not move with the pipeline's helpers.
func sortedQuantile(s []float64, q float64) float64 {
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}

// robustSigma is 1.4826·MAD of the finite values.
func robustSigma(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	m := sortedQuantile(v, 0.5)
	for i := range v {
		v[i] = math.Abs(v[i] - m)
	}
	slices.Sort(v)
	return 1.4826 * sortedQuantile(v, 0.5)
}

// panelCoverage maps every output pixel to the panels whose undithered interior (DitherPx +
// 4 px in from each edge, so dithers cannot blur which panels cover it) holds it; -1 entries
// mean "not inside every frame of that panel for sure".
func panelCoverage(t *testing.T, o synth.Options, grid *wcs.WCS, w, h int) [][]int {
	t.Helper()
	nx, ny := o.Panels()
	pws := make([]*wcs.WCS, nx*ny)
	for p := range pws {
		var err error
		pws[p], err = synth.PanelWCS(o, p)
		require.NoError(t, err)
	}
	m := o.DitherPx + 4
	cov := make([][]int, w*h)
	for y := range h {
		for x := range w {
			ra, dec, err := grid.PixelToWorld(float64(x), float64(y))
			require.NoError(t, err)
			for p, pw := range pws {
				px, py, err := pw.WorldToPixel(ra, dec)
				require.NoError(t, err)
				switch {
				case px >= m && py >= m && px <= float64(o.Width)-1-m && py <= float64(o.Height)-1-m:
					cov[y*w+x] = append(cov[y*w+x], p)
				case px >= -m-1 && py >= -m-1 && px <= float64(o.Width)+m && py <= float64(o.Height)+m:
					cov[y*w+x] = append(cov[y*w+x], -1) // near an edge: ambiguous
				}
			}
		}
	}
	return cov
}

func TestMosaicAccuracyOnASyntheticRotatedDitheredMosaic(t *testing.T) {
	o := accuracyOptions()
	require.NoError(t, o.Validate())
	// Per-pixel noise of one frame; two frames per panel average it down by about √2.
	frameSigma := math.Sqrt(o.Sky*o.Gain+o.ReadNoise*o.ReadNoise) / o.Gain

	for _, backend := range []compute.Backend{compute.BackendCPU, compute.BackendGPU} {
		t.Run("noise-free frames keep star positions and fluxes on "+string(backend), func(t *testing.T) {
			if backend == compute.BackendGPU {
				requireGPU(t)
			}
			noiseFreeAccuracy(t, o, frameSigma, backend)
		})
	}
	t.Run("noisy frames show no seams and keep stars within the noise", func(t *testing.T) {
		noisyAccuracy(t, o, frameSigma)
	})
}

// noiseFreeAccuracy: star centroids and aperture fluxes of the noise-free mosaic on backend
// against the catalogue-rendered truth.
func noiseFreeAccuracy(t *testing.T, o synth.Options, frameSigma float64, backend compute.Backend) {
	res, truth := mosaicAndTruthOn(t, o, writeAccuracyFrames(t, o, t.TempDir(), true), backend)
	w, h := res.Image.Width, res.Image.Height
	stars := measureStars(truth, res.Image.Pix, w, h, frameSigma/math.Sqrt2, 20*frameSigma)
	require.GreaterOrEqual(t, len(stars), 10, "enough isolated bright stars to measure")
	maxOff, rms := centroidStats(stars)
	var maxFlux float64
	bright := 0
	for _, s := range stars {
		if s.snr > 100 {
			bright++
			maxFlux = max(maxFlux, math.Abs(s.dflux))
		}
	}
	t.Logf("grid %dx%d, %d isolated stars: centroid offset max %.4f px, RMS %.4f px", w, h, len(stars), maxOff, rms)
	t.Logf("%d stars with SNR > 100: max |Δflux| %.3f %%", bright, 100*maxFlux)
	// Lanczos-3 has a first-moment bias of about 0.018 px at a sub-pixel phase of 0.3: the
	// RMS over random phases stays below 0.02 px, single stars may reach twice that.
	assert.LessOrEqual(t, maxOff, 0.05)
	assert.LessOrEqual(t, rms, 0.02)
	require.GreaterOrEqual(t, bright, 5)
	assert.LessOrEqual(t, maxFlux, 0.005)
}

// noisyAccuracy: seams and star errors of the noisy mosaic against the truth.
func noisyAccuracy(t *testing.T, o synth.Options, frameSigma float64) {
	res, truth := mosaicAndTruth(t, o, writeAccuracyFrames(t, o, t.TempDir(), false))
	w, h := res.Image.Width, res.Image.Height
	diff := make([]float64, 0, w*h)
	for i, v := range res.Image.Pix {
		if !math.IsNaN(float64(v)) {
			diff = append(diff, float64(v)-float64(truth[i]))
		}
	}
	sigma := robustSigma(diff)
	t.Logf("grid %dx%d: mosaic noise σ %.3f ADU (one frame %.3f)", w, h, sigma, frameSigma)

	// Seams: per panel, the median of mosaic − truth where only that panel covers the sky
	// against where it overlaps another panel. Offset matching and feathering must leave
	// no step between them.
	cov := panelCoverage(t, o, res.WCS, w, h)
	nx, ny := o.Panels()
	only := make([][]float64, nx*ny)
	shared := make([][]float64, nx*ny)
	for i, ps := range cov {
		v := float64(res.Image.Pix[i])
		if math.IsNaN(v) || len(ps) == 0 || slices.Contains(ps, -1) {
			continue
		}
		d := v - float64(truth[i])
		if len(ps) == 1 {
			only[ps[0]] = append(only[ps[0]], d)
			continue
		}
		for _, p := range ps {
			shared[p] = append(shared[p], d)
		}
	}
	var worst float64
	for p := range only {
		require.Greater(t, len(only[p]), 1000, "panel %d has sky of its own", p)
		require.Greater(t, len(shared[p]), 1000, "panel %d overlaps a neighbour", p)
		slices.Sort(only[p])
		slices.Sort(shared[p])
		step := sortedQuantile(shared[p], 0.5) - sortedQuantile(only[p], 0.5)
		t.Logf("panel %d: median(mosaic − truth) own %.3f, overlap %.3f, step %.3f ADU = %.3f σ",
			p, sortedQuantile(only[p], 0.5), sortedQuantile(shared[p], 0.5), step, step/sigma)
		worst = max(worst, math.Abs(step))
	}
	t.Logf("worst seam step %.3f ADU = %.3f σ", worst, worst/sigma)
	// The issue asks for < 0.5 σ. Overlap pixels average a panel's level with its
	// neighbours', so the metric sees about half of a panel's offset: an unmatched +4 ADU
	// panel (0.5 σ) read as 0.33 σ here. 0.25 σ catches that; matched runs measure 0.11 σ.
	assert.Less(t, worst, 0.25*sigma, "no seam: overlap level within 0.25 σ of the panel's own level")

	// Stars on the noisy mosaic: offsets and flux errors must stay within what the noise
	// allows (centroid error of a bright star ~ FWHM/SNR; flux error ~ 1/SNR).
	stars := measureStars(truth, res.Image.Pix, w, h, sigma, 20*frameSigma)
	require.GreaterOrEqual(t, len(stars), 10)
	maxOff, rms := centroidStats(stars)
	var worstFlux, worstPos float64
	for _, s := range stars {
		worstPos = max(worstPos, (math.Hypot(s.dx, s.dy)-0.02)*s.snr/o.FWHM)
		if s.snr > 100 {
			worstFlux = max(worstFlux, math.Abs(s.dflux)*s.snr)
		}
	}
	t.Logf("%d stars: centroid offset max %.4f px, RMS %.4f px; worst (|Δpos| − 0.02 px)·SNR/FWHM %.2f; worst |Δflux|·SNR %.2f",
		len(stars), maxOff, rms, worstPos, worstFlux)
	assert.LessOrEqual(t, worstPos, 5.0, "centroid errors within 0.02 px + 5·FWHM/SNR")
	assert.LessOrEqual(t, worstFlux, 5.0, "flux errors of SNR > 100 stars within 5/SNR")
}
