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
	"github.com/zmosaic/zmosaic/cpu"
)

// Accuracy test (1) of the mosaic issue: the four real ISAAC cutouts, mosaicked with the
// default options (optimal grid, Lanczos-3, feathering, offset matching), against the whole
// frame isaac_full.fits reprojected onto the same output grid by cpu.Reproject over an exact
// per-pixel WCS mapping: a reference that shares the resampling kernel but none of the
// mosaic's band, coordinate-grid, weighting or matching code.

// isaacGeom fits the ISAAC PSF (FWHM ≈ 3 px at 0.148″/px): aperture 2·FWHM, annulus 9–13 px,
// centroid box ±4 px.
var isaacGeom = photGeom{apRadius: 6, annInner: 9, annOuter: 13, boxHalf: 4}

// Limits of the ISAAC comparison (the figures; the seam limit is argued at seamLimit).
const (
	isaacMaxCentroid = 0.02  // px
	isaacMaxFlux     = 0.005 // relative
	// seamLimit, in units of the sky noise σ: a visible seam is a step of a good fraction of σ;
	// the negative control (one input 5σ brighter, flat weights, no matching) measures ≥ 1.6σ.
	seamLimit = 0.1
)

// isaacInput is one cutout as the test sees it: file, WCS and size.
type isaacInput struct {
	name string
	w    *wcs.WCS
	iw   int
	ih   int
	img  *fits.Image
}

func readISAAC(t *testing.T, path string) isaacInput {
	t.Helper()
	img, err := fits.ReadImage(path, "")
	require.NoError(t, err)
	w, err := wcs.FromHeader(img.Header)
	require.NoError(t, err)
	return isaacInput{name: path, w: w, iw: img.Width, ih: img.Height, img: img}
}

// reprojectReference resamples src (with WCS sw) onto grid (w×h) with the mapping evaluated
// exactly at every output pixel (a CoordGrid of step 1: At returns the samples themselves).
func reprojectReference(t *testing.T, src isaacInput, grid *wcs.WCS, w, h int, interp cpu.Interp) []float32 {
	t.Helper()
	cg := cpu.NewCoordGrid(w, h, 1, func(x, y float64) (float64, float64, bool) {
		ra, dec, err := grid.PixelToWorld(x, y)
		if err != nil {
			return 0, 0, false
		}
		ix, iy, err := src.w.WorldToPixel(ra, dec)
		return ix, iy, err == nil
	})
	ref := make([]float32, w*h)
	require.NoError(t, cpu.Reproject(ref, w, 0, h, src.img.Pix, src.iw, src.ih, cg, cpu.ReprojectOptions{Interp: interp}))
	return ref
}

// frameNoise is the sky noise of a frame: 1.4826·MAD of horizontal neighbour differences / √2,
// which neither the sky gradient, the stars nor the detector's bias jump disturb.
func frameNoise(img *fits.Image) float64 {
	var d []float64
	for y := range img.Height {
		row := img.Pix[y*img.Width : (y+1)*img.Width]
		for x := 1; x < len(row); x++ {
			if v := float64(row[x] - row[x-1]); !math.IsNaN(v) {
				d = append(d, math.Abs(v))
			}
		}
	}
	slices.Sort(d)
	return 1.4826 * sortedQuantile(d, 0.5) / math.Sqrt2
}

// isaacStars returns the stars of ref worth comparing: local maxima standing > 20σ above their
// annulus, shaped like a star (the 4-neighbour mean between 0.4 and 0.9 of the peak: the raw
// frame's hot pixels have ~0.01, saturated plateaus ~1), below half the frame's brightest
// pixel, without a neighbour peak above 10 % of their own within annOuter + 3 px, and with the
// mosaic finite over the whole annulus plus the kernel's reach (3 px).
func isaacStars(ref, mosaic []float32, w, h int, sigma, satLevel float64) [][2]int {
	g := isaacGeom
	m := int(g.annOuter) + 4
	at := func(x, y int) float64 { return float64(ref[y*w+x]) }
	type peak struct {
		x, y int
		amp  float64
	}
	var peaks []peak
	for y := m; y < h-m; y++ {
		for x := m; x < w-m; x++ {
			v := at(x, y)
			if math.IsNaN(v) || !(v > at(x-1, y) && v >= at(x+1, y) && v > at(x, y-1) && v >= at(x, y+1) &&
				v >= at(x-1, y-1) && v >= at(x+1, y+1) && v >= at(x-1, y+1) && v >= at(x+1, y-1)) {
				continue
			}
			// Most maxima are noise: a median of 8 annulus points rules them out before the
			// full annulus median is taken.
			r, d := int(g.annInner), int(g.annInner/math.Sqrt2+0.5)
			ring := []float64{at(x-r, y), at(x+r, y), at(x, y-r), at(x, y+r), at(x-d, y-d), at(x+d, y-d), at(x-d, y+d), at(x+d, y+d)}
			slices.Sort(ring)
			if v-sortedQuantile(ring, 0.5) <= 3*sigma {
				continue
			}
			bg := g.annulusMedian(ref, w, x, y)
			if amp := v - bg; amp > 3*sigma {
				peaks = append(peaks, peak{x, y, amp})
			}
		}
	}
	var out [][2]int
next:
	for _, p := range peaks {
		v := at(p.x, p.y)
		if p.amp < 20*sigma || v > satLevel {
			continue
		}
		bg := v - p.amp
		nb := (at(p.x-1, p.y)+at(p.x+1, p.y)+at(p.x, p.y-1)+at(p.x, p.y+1))/4 - bg
		if nb < 0.4*p.amp || nb > 0.9*p.amp {
			continue
		}
		for _, q := range peaks {
			dx, dy := q.x-p.x, q.y-p.y
			if q != p && dx*dx+dy*dy <= m*m && q.amp > 0.1*p.amp {
				continue next
			}
		}
		for y := p.y - m; y <= p.y+m; y++ {
			for x := p.x - m; x <= p.x+m; x++ {
				if math.IsNaN(float64(mosaic[y*w+x])) || math.IsNaN(at(x, y)) {
					continue next
				}
			}
		}
		out = append(out, [2]int{p.x, p.y})
	}
	return out
}

// compareStars measures every star on both images: the worst centroid offset (px) and the
// worst relative aperture flux difference.
func compareStars(ref, mosaic []float32, w int, stars [][2]int) (maxOff, rmsOff, maxFlux float64) {
	for _, s := range stars {
		rx, ry, rf, _ := isaacGeom.measure(ref, w, s[0], s[1])
		mx, my, mf, _ := isaacGeom.measure(mosaic, w, s[0], s[1])
		d := math.Hypot(mx-rx, my-ry)
		maxOff = max(maxOff, d)
		rmsOff += d * d
		maxFlux = max(maxFlux, math.Abs(mf-rf)/rf)
	}
	return maxOff, math.Sqrt(rmsOff / float64(len(stars))), maxFlux
}

// edgeMap is one input seen from the output grid: at every output pixel the signed distance,
// in input pixels, inside the input's outer pixel edge (negative outside; NaN where the mapping
// fails) and which edge is nearest (0 left, 1 right, 2 bottom, 3 top).
type edgeMap struct {
	d    []float32
	side []uint8
}

func inputEdges(grid *wcs.WCS, w, h int, in isaacInput) edgeMap {
	cg := cpu.NewCoordGrid(w, h, 8, func(x, y float64) (float64, float64, bool) {
		ra, dec, err := grid.PixelToWorld(x, y)
		if err != nil {
			return 0, 0, false
		}
		ix, iy, err := in.w.WorldToPixel(ra, dec)
		return ix, iy, err == nil
	})
	e := edgeMap{d: make([]float32, w*h), side: make([]uint8, w*h)}
	for y := range h {
		for x := range w {
			ix, iy := cg.At(float64(x), float64(y))
			ds := [4]float64{ix + 0.5, float64(in.iw) - 0.5 - ix, iy + 0.5, float64(in.ih) - 0.5 - iy}
			k := 0
			for s := range ds {
				if ds[s] < ds[k] {
					k = s
				}
			}
			e.d[y*w+x], e.side[y*w+x] = float32(ds[k]), uint8(k)
		}
	}
	return e
}

// seam is the step of (mosaic − reference) across one edge of one input, in σ.
type seam struct {
	input, side  int
	inner, outer int // pixels in each strip
	step         float64
}

// Seam metric: for every edge of every input that runs through the overlap, the median of
// (mosaic − reference) on the 3 px strip just inside the edge minus its median on the 3 px
// strip just outside, both restricted to pixels that another input covers by more than 6 px
// (so the mosaic has data on both sides and that input's own edge is not involved). A seam —
// the level jumping where an input starts — shows as a step; feathering and matching must keep
// it well below the noise. Edges with fewer than 200 pixels on either side are left out.
func seamSteps(mosaic, ref []float32, edges []edgeMap, sigma float64) []seam {
	const strip, clear, minPix = 3, 6, 200
	var out []seam
	for k, ek := range edges {
		var in, outs [4][]float64
		for i, d := range ek.d {
			if !(d >= -strip && d <= strip) || d == 0 {
				continue
			}
			other := false
			for j, ej := range edges {
				if j != k && ej.d[i] > clear {
					other = true
					break
				}
			}
			v := float64(mosaic[i]) - float64(ref[i])
			if !other || math.IsNaN(v) {
				continue
			}
			if d > 0 {
				in[ek.side[i]] = append(in[ek.side[i]], v)
			} else {
				outs[ek.side[i]] = append(outs[ek.side[i]], v)
			}
		}
		for s := range 4 {
			if len(in[s]) < minPix || len(outs[s]) < minPix {
				continue
			}
			slices.Sort(in[s])
			slices.Sort(outs[s])
			out = append(out, seam{
				input: k, side: s, inner: len(in[s]), outer: len(outs[s]),
				step: (sortedQuantile(in[s], 0.5) - sortedQuantile(outs[s], 0.5)) / sigma,
			})
		}
	}
	return out
}

// worstSeam is the largest |step| of seams, in σ.
func worstSeam(seams []seam) float64 {
	var worst float64
	for _, s := range seams {
		worst = max(worst, math.Abs(s.step))
	}
	return worst
}

// requireReprojectedOn checks that the mosaic's reprojection ran on backend alone.
func requireReprojectedOn(t *testing.T, res *MosaicResult, backend compute.Backend) {
	t.Helper()
	ran := map[string]string{}
	for _, op := range res.Compute.Ops {
		ran[op.Op] = op.Backend
	}
	require.Equal(t, string(backend), ran["reproject"], "the reprojection ran on the backend under test (ops %v)", ran)
}

// writeOffsetCutout writes in with offset added to every pixel, keeping its WCS.
func writeOffsetCutout(t *testing.T, in isaacInput, offset float32, dir string) FrameSource {
	t.Helper()
	img := &fits.Image{Width: in.iw, Height: in.ih, Channels: 1, Pix: slices.Clone(in.img.Pix), Header: fits.NewHeader()}
	for i := range img.Pix {
		img.Pix[i] += offset
	}
	for _, c := range in.w.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	name := filepath.Join(dir, "isaac_offset.fits")
	require.NoError(t, fits.Write(name, img, fits.WriteOptions{}))
	return DiskFrame(name)
}

func TestMosaicOfTheISAACCutoutsMatchesTheFullFrame(t *testing.T) {
	data := sharedData(t)
	t.Run("cpu", func(t *testing.T) { checkISAACMosaic(t, data, compute.BackendCPU) })
	t.Run("gpu", func(t *testing.T) {
		requireGPU(t)
		checkISAACMosaic(t, data, compute.BackendGPU)
	})
}

// checkISAACMosaic runs every ISAAC assertion with the mosaic's reprojection on backend.
func checkISAACMosaic(t *testing.T, data string, backend compute.Backend) {
	full := readISAAC(t, filepath.Join(data, "isaac_full.fits"))
	cuts := make([]isaacInput, len(isaacCutouts))
	srcs := make([]FrameSource, len(cuts))
	for i := range cuts {
		name := filepath.Join(data, "isaac_cutouts", fmt.Sprintf("isaac_%d.fits", i+1))
		cuts[i], srcs[i] = readISAAC(t, name), DiskFrame(name)
	}
	sigma := frameNoise(full.img)
	var frameMax float64
	for _, v := range full.img.Pix {
		frameMax = max(frameMax, float64(v))
	}

	opt := DefaultMosaicOptions()
	opt.Compute.Backend = backend
	res, err := Mosaic(t.Context(), srcs, opt, Hooks{})
	require.NoError(t, err)
	require.Equal(t, 4, res.Used)
	requireReprojectedOn(t, res, backend)
	w, h := res.Image.Width, res.Image.Height
	ref := reprojectReference(t, full, res.WCS, w, h, opt.Interp)
	ra, dec, err := res.WCS.PixelToWorld(0, 0)
	require.NoError(t, err)
	fx, fy, err := full.w.WorldToPixel(ra, dec)
	require.NoError(t, err)
	t.Logf("grid %d×%d, rotation %.3f°, scale %.4f″/px, pixel (0, 0) at full-frame (%.3f, %.3f); sky noise σ %.2f ADU; corrections %v",
		w, h, res.WCS.Rotation(), math.Sqrt(math.Abs(res.WCS.CD[0][0]*res.WCS.CD[1][1]-res.WCS.CD[0][1]*res.WCS.CD[1][0]))*3600,
		fx, fy, sigma, res.Corrections)
	edges := make([]edgeMap, len(cuts))
	for i, c := range cuts {
		edges[i] = inputEdges(res.WCS, w, h, c)
	}

	t.Run("star centroids and aperture fluxes match the reprojected full frame", func(t *testing.T) {
		stars := isaacStars(ref, res.Image.Pix, w, h, sigma, frameMax/2)
		require.GreaterOrEqual(t, len(stars), 20, "enough isolated, unsaturated stars")
		// Stars whose aperture region meets an input edge inside the mosaic: where feathered
		// weights and edge replication act.
		nearEdge := 0
		for _, s := range stars {
			i := s[1]*w + s[0]
			for _, e := range edges {
				if d := float64(e.d[i]); d > -isaacGeom.annOuter-3 && d < isaacGeom.annOuter+3 {
					nearEdge++
					break
				}
			}
		}
		maxOff, rmsOff, maxFlux := compareStars(ref, res.Image.Pix, w, stars)
		t.Logf("%d stars (%d within %g px of an input edge): centroid |Δ| max %.2g px, RMS %.2g px; aperture flux |Δ| max %.3g %%",
			len(stars), nearEdge, isaacGeom.annOuter+3, maxOff, rmsOff, 100*maxFlux)
		assert.Positive(t, nearEdge, "some stars must sit where inputs meet")
		assert.LessOrEqual(t, maxOff, isaacMaxCentroid)
		assert.LessOrEqual(t, maxFlux, isaacMaxFlux)
	})

	t.Run("no seam where the inputs meet", func(t *testing.T) {
		seams := seamSteps(res.Image.Pix, ref, edges, sigma)
		require.GreaterOrEqual(t, len(seams), 4, "edges run through the overlaps")
		for _, s := range seams {
			t.Logf("input %d side %d: %d/%d px, step %+.4f σ", s.input+1, s.side, s.inner, s.outer, s.step)
		}
		t.Logf("default options: worst seam step %.4f σ over %d edges (limit %g σ)", worstSeam(seams), len(seams), seamLimit)
		assert.Less(t, worstSeam(seams), seamLimit)
	})

	// The same cutouts with input 2 made 5σ brighter: the metric must see the seam that flat
	// weights without matching leave, and offset matching with feathering must remove it.
	offset := float32(5 * sigma)
	bright := slices.Clone(srcs)
	bright[1] = writeOffsetCutout(t, cuts[1], offset, t.TempDir())
	for _, tc := range []struct {
		name    string
		feather int
		match   string
		seam    bool
	}{
		{"an input 5σ too bright, flat weights, no matching: the seam is seen", 0, MatchNone, true},
		{"an input 5σ too bright, default feathering and matching: no seam", opt.Feather, MatchOffset, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultMosaicOptions()
			o.Compute.Backend = backend
			o.Feather, o.Match = tc.feather, tc.match
			o.GridFrom, o.GridWidth, o.GridHeight = res.WCS, w, h
			r, err := Mosaic(t.Context(), bright, o, Hooks{})
			require.NoError(t, err)
			// Matching anchors one input and moves the others: what is compared is the
			// mosaic up to one global offset, taken as the median difference over the mosaic.
			var d []float64
			for i, v := range r.Image.Pix {
				if x := float64(v) - float64(ref[i]); !math.IsNaN(x) {
					d = append(d, x)
				}
			}
			slices.Sort(d)
			level := sortedQuantile(d, 0.5)
			pix := slices.Clone(r.Image.Pix)
			for i := range pix {
				pix[i] -= float32(level)
			}
			worst := worstSeam(seamSteps(pix, ref, edges, sigma))
			t.Logf("feather %d, match %s: global level %+.3f σ, worst seam step %.3f σ, corrections %v",
				tc.feather, tc.match, level/sigma, worst, r.Corrections)
			if tc.seam {
				assert.Greater(t, worst, 10*seamLimit, "a 5σ offset must show as a seam")
			} else {
				assert.Less(t, worst, seamLimit)
			}
		})
	}
}
