package synth

import (
	"errors"
	"fmt"
	"math"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// skyStar is one catalogue entry on the sky: position in degrees, integrated mono flux in ADU
// and RGB colour weights as in star.
type skyStar struct {
	ra, dec float64
	flux    float64
	colour  [3]float64
}

// skyScene is what every frame of a sky-mode set shares: the layout, its master plane and the
// catalogue.
type skyScene struct {
	o      Options
	layout skyLayout
	master *wcs.WCS
	stars  []skyStar
}

// newSkyScene draws the catalogue from the seed: the single-frame star model (makeStars) over
// the whole region in master pixels, then moved onto the sky. Without sky mode the region is
// the frame itself, so the catalogue is exactly the stars of Truth. o must be valid.
func newSkyScene(o Options) (*skyScene, error) {
	l := newSkyLayout(o)
	m, err := l.master(o)
	if err != nil {
		return nil, err
	}
	region := o
	region.Width, region.Height, region.Stars = l.rw, l.rh, l.starCount(o)
	px := makeStars(region)
	stars := make([]skyStar, 0, len(px))
	for _, s := range px {
		ra, dec, err := m.PixelToWorld(s.x, s.y)
		if err != nil {
			continue // beyond the projection's domain: only for absurd scales
		}
		stars = append(stars, skyStar{ra: ra, dec: dec, flux: s.flux, colour: s.colour})
	}
	return &skyScene{o: o, layout: l, master: m, stars: stars}, nil
}

// skyLattice is the pitch, in output pixels, at which the sky gradient is evaluated exactly;
// between lattice points it is interpolated bilinearly. The gradient is linear in master pixels
// and TAN planes of a few degrees are affine to each other to far below 1e-6 of it, so this is
// exact in practice and saves two WCS transformations per pixel.
const skyLattice = 16

// background fills acc (width×height) with the sky level. The gradient (gradientX, gradientY
// across the catalogue region) is fixed on the sky, so overlapping frames agree with each other
// and with any truth grid. Pixels whose master position cannot be computed get NaN (no data).
func (sc *skyScene) background(acc []float64, w *wcs.WCS, width, height int) {
	o, l := sc.o, sc.layout
	level := func(x, y float64) float64 {
		ra, dec, err := w.PixelToWorld(x, y)
		if err != nil {
			return math.NaN()
		}
		mx, my, err := sc.master.WorldToPixel(ra, dec)
		if err != nil {
			return math.NaN()
		}
		return o.Sky * (1 + gradientX*(mx/float64(l.rw)-0.5) + gradientY*(my/float64(l.rh)-0.5))
	}
	// Lattice nodes at multiples of skyLattice plus the last row and column.
	nodes := func(n int) []int {
		var out []int
		for v := 0; v < n-1; v += skyLattice {
			out = append(out, v)
		}
		return append(out, n-1)
	}
	xs, ys := nodes(width), nodes(height)
	grid := make([]float64, len(xs)*len(ys))
	for j, y := range ys {
		for i, x := range xs {
			grid[j*len(xs)+i] = level(float64(x), float64(y))
		}
	}
	// cell finds the lattice interval holding v and the weight of its upper node.
	cell := func(nodes []int, v int) (int, float64) {
		if len(nodes) == 1 {
			return 0, 0
		}
		k := min(v/skyLattice, len(nodes)-2)
		return k, float64(v-nodes[k]) / float64(nodes[k+1]-nodes[k])
	}
	for y := range height {
		j, ty := cell(ys, y)
		j1 := min(j+1, len(ys)-1)
		for x := range width {
			i, tx := cell(xs, x)
			i1 := min(i+1, len(xs)-1)
			a := grid[j*len(xs)+i]*(1-tx) + grid[j*len(xs)+i1]*tx
			b := grid[j1*len(xs)+i]*(1-tx) + grid[j1*len(xs)+i1]*tx
			acc[y*width+x] = a*(1-ty) + b*ty
		}
	}
}

// render returns the noise-free image of the scene on w: one plane, or an RGB CHW cube when
// rgb is set. Stars are added in catalogue order, as renderTruth does.
func (sc *skyScene) render(w *wcs.WCS, width, height int, rgb bool) []float32 {
	o := sc.o
	nch := 1
	if rgb {
		nch = 3
	}
	n := width * height
	acc := make([]float64, nch*n)
	sc.background(acc[:n], w, width, height)
	for c := 1; c < nch; c++ {
		copy(acc[c*n:(c+1)*n], acc[:n])
	}
	psf := newMoffat(o.FWHM)
	cut := 1e-3 * noiseSigma(o)
	for _, s := range sc.stars {
		sx, sy, err := w.WorldToPixel(s.ra, s.dec)
		if err != nil {
			continue
		}
		r := psf.radius(s.flux, cut)
		x0, x1 := max(0, int(math.Floor(sx-r))), min(width-1, int(math.Ceil(sx+r)))
		y0, y1 := max(0, int(math.Floor(sy-r))), min(height-1, int(math.Ceil(sy+r)))
		for y := y0; y <= y1; y++ {
			dy := float64(y) - sy
			for x := x0; x <= x1; x++ {
				dx := float64(x) - sx
				f := s.flux * psf.at(dx*dx+dy*dy)
				if !rgb {
					acc[y*width+x] += f
					continue
				}
				for c := range 3 {
					acc[c*n+y*width+x] += f * s.colour[c]
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for i, v := range acc {
		out[i] = float32(v)
	}
	return out
}

// TruthOn renders the set's noise-free, artefact-free sky (the star catalogue and the sky
// background) on any output grid: width×height pixels with WCS w, mono or a 3×height×width RGB
// CHW cube when o.Bayer is set, like Truth. On a frame's own WCS (FrameWCS) it equals that
// frame's noise-free truth; mosaic tests use it on their output grid. Without a mosaic or
// dithers it shows the single-pointing stars of Truth on a background matching Truth's to
// within the lattice interpolation.
func TruthOn(o Options, w *wcs.WCS, width, height int) ([]float32, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, errors.New("synth: TruthOn needs a WCS")
	}
	if width < 1 || height < 1 || width > maxSide || height > maxSide || width*height > maxPixels {
		return nil, fmt.Errorf("synth: truth grid %dx%d, want each side in 1..%d and at most %d pixels", width, height, maxSide, maxPixels)
	}
	sc, err := newSkyScene(o)
	if err != nil {
		return nil, err
	}
	return sc.render(w, width, height, o.isBayer()), nil
}

// NaturalGrid returns the grid truth.fits is written on: without a mosaic or dithers the frame
// grid itself; otherwise a north-up TAN plane centred on (RA, Dec) at the frames' pixel scale,
// just large enough to hold every (undithered) panel.
func NaturalGrid(o Options) (w *wcs.WCS, width, height int, err error) {
	if err := o.Validate(); err != nil {
		return nil, 0, 0, err
	}
	l := newSkyLayout(o)
	m, err := l.master(o)
	if err != nil || !o.skyMode() {
		return m, o.Width, o.Height, err
	}
	nat, err := wcs.New("TAN", [2]float64{o.RA, o.Dec}, [2]float64{1, 1}, skyCD(o.ScaleArcsec, 0))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("synth: %w", err)
	}
	xmin, ymin := math.Inf(1), math.Inf(1)
	xmax, ymax := math.Inf(-1), math.Inf(-1)
	for p := range l.nx * l.ny {
		pw, err := l.panelWCS(o, m, p)
		if err != nil {
			return nil, 0, 0, err
		}
		for _, c := range pw.Footprint(o.Width, o.Height, 8) {
			x, y, err := nat.WorldToPixel(c[0], c[1])
			if err != nil {
				return nil, 0, 0, fmt.Errorf("synth: %w", err)
			}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
	}
	// Footprints are pixel edges: the edge xmin becomes -0.5, the left edge of pixel 0.
	width = int(math.Ceil(xmax - xmin - 1e-9))
	height = int(math.Ceil(ymax - ymin - 1e-9))
	if width > maxSide || height > maxSide || width*height > maxPixels {
		return nil, 0, 0, fmt.Errorf("synth: natural grid %dx%d too large", width, height)
	}
	nat.CRPix = [2]float64{0.5 - xmin, 0.5 - ymin}
	nat.Equinox = 2000
	if err := nat.Init(); err != nil {
		return nil, 0, 0, fmt.Errorf("synth: %w", err)
	}
	return nat, width, height, nil
}

// frameTruth returns frame i's WCS and noise-free truth.
func (sc *skyScene) frameTruth(i int) (*wcs.WCS, []float32, error) {
	w, err := sc.layout.frameWCS(sc.o, sc.master, i)
	if err != nil {
		return nil, nil, err
	}
	return w, sc.render(w, sc.o.Width, sc.o.Height, sc.o.isBayer()), nil
}

// wcsToCards converts WCS cards to header cards.
func wcsToCards(w *wcs.WCS) []Card {
	wc := w.Cards()
	cards := make([]Card, len(wc))
	for i, c := range wc {
		cards[i] = Card{Key: c.Key, Value: c.Value, Comment: c.Comment}
	}
	return cards
}
