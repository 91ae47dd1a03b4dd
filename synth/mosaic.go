package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// Sky mode: with a mosaic (Options.Mosaic) or dithers (Options.DitherPx) the stars are a
// catalogue in RA/Dec over the whole area the set covers, and each frame renders the stars
// that fall in its own TAN WCS. Without either, the single-pointing model of scene.go is used
// unchanged, so existing sets stay bit-identical.
//
// Layout: a "master" tangent plane centred on (RA, Dec) with the frames' CD matrix (pixel
// scale, sky parity, RotateDeg) carries the panel grid, so panels step along the rotated camera
// axes by (1-Overlap) of a frame side, as a mosaic planner with a rotated camera would point
// them. Panel p = row·N + column, row 0 at the lowest master y. A panel's CRVAL is the master
// position of its centre; a frame's CRVAL is its panel's, moved by the frame's dither.

// streamDither draws the per-frame pointing offsets; separate from the other streams so that
// enabling dithers leaves noise and artefacts unchanged.
const streamDither = 5

// maxPanelSide bounds N and M of an "NxM" mosaic.
const maxPanelSide = 32

// maxSkyStars bounds the catalogue so a sparse huge mosaic cannot allocate without limit.
const maxSkyStars = 1 << 22

// parseMosaic returns the number of columns and rows of a mosaic string; "" is 1×1.
func parseMosaic(s string) (nx, ny int, err error) {
	if s == "" {
		return 1, 1, nil
	}
	a, b, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		nx, err = strconv.Atoi(a)
		if err == nil {
			ny, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || nx < 1 || ny < 1 || nx > maxPanelSide || ny > maxPanelSide {
		return 0, 0, fmt.Errorf("mosaic = %q, want \"\" or NxM with N, M in 1..%d", s, maxPanelSide)
	}
	return nx, ny, nil
}

// Panels returns the mosaic's columns and rows (1, 1 without a mosaic); o must be valid.
func (o Options) Panels() (nx, ny int) {
	nx, ny, _ = parseMosaic(o.Mosaic)
	return nx, ny
}

// TotalFrames is the number of frames a set holds: Frames per panel times the panels.
// Frame i belongs to panel i / Frames. o must be valid.
func (o Options) TotalFrames() int {
	nx, ny := o.Panels()
	return nx * ny * o.Frames
}

// skyMode reports whether stars live on the sky (mosaic or dithers) rather than on the
// single frame grid.
func (o Options) skyMode() bool { return o.Mosaic != "" || o.DitherPx != 0 || o.FieldRotationDeg != 0 }

// validateSky checks the mosaic and dither options; bad wraps ErrInvalidOptions.
func (o Options) validateSky(bad func(format string, args ...any) error) error {
	nx, ny, err := parseMosaic(o.Mosaic)
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case nx*ny*o.Frames > maxFrames:
		return bad("%d panels × %d frames exceeds %d frames", nx*ny, o.Frames, maxFrames)
	case !(o.Overlap >= 0 && o.Overlap <= 0.9):
		return bad("overlap = %g, want 0..0.9", o.Overlap)
	case !(o.RotateDeg >= -360 && o.RotateDeg <= 360):
		return bad("rotate_deg = %g, want -360..360", o.RotateDeg)
	case !(o.DitherPx >= 0 && o.DitherPx <= float64(min(o.Width, o.Height))/4):
		return bad("dither_px = %g, want 0..%d (a quarter of the shorter side)", o.DitherPx, min(o.Width, o.Height)/4)
	case !(o.FieldRotationDeg >= -maxFieldRotationDeg && o.FieldRotationDeg <= maxFieldRotationDeg):
		return bad("field_rotation_deg = %g, want -%d..%d", o.FieldRotationDeg, maxFieldRotationDeg, maxFieldRotationDeg)
	case o.Corrupt < 0 || o.NoWCS < 0 || o.Corrupt+o.NoWCS > nx*ny*o.Frames:
		return bad("corrupt = %d and no_wcs = %d, want >= 0 and together at most the %d frames", o.Corrupt, o.NoWCS, nx*ny*o.Frames)
	}
	if !o.skyMode() {
		return nil
	}
	// The natural grid (truth.fits) bounds the rotated panel block.
	bw := float64(o.Width) * (1 + float64(nx-1)*(1-o.Overlap))
	bh := float64(o.Height) * (1 + float64(ny-1)*(1-o.Overlap))
	s, c := math.Sincos(o.RotateDeg * math.Pi / 180)
	s, c = math.Abs(s), math.Abs(c)
	if (bw*c+bh*s+2)*(bw*s+bh*c+2) > maxPixels {
		return bad("mosaic %s of %dx%d frames covers more than %d truth pixels", o.Mosaic, o.Width, o.Height, maxPixels)
	}
	if l := newSkyLayout(o); l.starCount(o) > maxSkyStars {
		return bad("%d catalogue stars over the mosaic exceed %d", l.starCount(o), maxSkyStars)
	}
	return nil
}

// skyCD is the CD matrix of a frame with position angle rotDeg (of +y, east of north) and the
// usual sky parity (east left when north is up), as wcsCards writes it.
func skyCD(scaleArcsec, rotDeg float64) [2][2]float64 {
	s := scaleArcsec / 3600
	sin, cos := math.Sincos(rotDeg * math.Pi / 180)
	return [2][2]float64{{-s * cos, s * sin}, {s * sin, s * cos}}
}

// skyLayout places panels and the star catalogue on the master tangent plane.
type skyLayout struct {
	nx, ny       int
	cd           [2][2]float64
	rw, rh       int     // catalogue region in master pixels, panels + dither + PSF margin
	stepX, stepY float64 // panel pitch in master pixels
}

func newSkyLayout(o Options) skyLayout {
	nx, ny := o.Panels()
	l := skyLayout{nx: nx, ny: ny, cd: skyCD(o.ScaleArcsec, tinyRotationDeg), rw: o.Width, rh: o.Height}
	if !o.skyMode() {
		return l // the master plane is the single frame's own WCS
	}
	l.cd = skyCD(o.ScaleArcsec, o.RotateDeg)
	l.stepX = float64(o.Width) * (1 - o.Overlap)
	l.stepY = float64(o.Height) * (1 - o.Overlap)
	// The margin keeps the star density uniform up to every frame edge, dithered or not, and
	// lets stars just outside a frame spill their wings into it.
	margin := int(math.Ceil(1.5*o.DitherPx + 4*o.FWHM + rotationMargin(o)))
	l.rw = int(math.Ceil(float64(o.Width)+float64(nx-1)*l.stepX)) + 2*margin
	l.rh = int(math.Ceil(float64(o.Height)+float64(ny-1)*l.stepY)) + 2*margin
	return l
}

// starCount keeps the single-frame star density over the whole catalogue region.
func (l skyLayout) starCount(o Options) int {
	if !o.skyMode() {
		return o.Stars
	}
	return int(math.Round(float64(o.Stars) * float64(l.rw) * float64(l.rh) / float64(o.Width*o.Height)))
}

// master is the tangent plane of the set: CRVAL (RA, Dec) at the centre of the region.
func (l skyLayout) master(o Options) (*wcs.WCS, error) {
	w, err := wcs.New("TAN", [2]float64{o.RA, o.Dec}, [2]float64{float64(l.rw+1) / 2, float64(l.rh+1) / 2}, l.cd)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	w.Equinox = 2000
	return w, nil
}

// panelCentre is the 0-based master pixel at the centre of panel p.
func (l skyLayout) panelCentre(p int) (x, y float64) {
	c, r := p%l.nx, p/l.nx
	x = float64(l.rw-1)/2 + (float64(c)-float64(l.nx-1)/2)*l.stepX
	y = float64(l.rh-1)/2 + (float64(r)-float64(l.ny-1)/2)*l.stepY
	return x, y
}

// pointing returns a frame-sized TAN WCS whose centre looks at the master pixel (mx, my).
func (l skyLayout) pointing(o Options, master *wcs.WCS, mx, my float64) (*wcs.WCS, error) {
	ra, dec, err := master.PixelToWorld(mx, my)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	w, err := wcs.New("TAN", [2]float64{ra, dec}, [2]float64{float64(o.Width+1) / 2, float64(o.Height+1) / 2}, l.cd)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	w.Equinox = 2000
	return w, nil
}

// panelWCS is the undithered pointing of panel p.
func (l skyLayout) panelWCS(o Options, master *wcs.WCS, p int) (*wcs.WCS, error) {
	mx, my := l.panelCentre(p)
	return l.pointing(o, master, mx, my)
}

// frameWCS is panel i/Frames moved by frame i's dither along the panel's own axes.
func (l skyLayout) frameWCS(o Options, master *wcs.WCS, i int) (*wcs.WCS, error) {
	pw, err := l.panelWCS(o, master, i/o.Frames)
	if err != nil {
		return nil, err
	}
	dx, dy := dither(o, i)
	rot := fieldRotation(o, i)
	if dx == 0 && dy == 0 && rot == 0 {
		return pw, nil
	}
	ra, dec := pw.CRVal[0], pw.CRVal[1] // CRPIX is the frame centre
	if dx != 0 || dy != 0 {
		ra, dec, err = pw.PixelToWorld(float64(o.Width-1)/2+dx, float64(o.Height-1)/2+dy)
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	cd := l.cd
	if rot != 0 {
		cd = skyCD(o.ScaleArcsec, o.RotateDeg+rot) // turned about the frame centre
	}
	w, err := wcs.New("TAN", [2]float64{ra, dec}, pw.CRPix, cd)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	w.Equinox = 2000
	return w, nil
}

// dither returns frame i's pointing offset in pixels along the frame axes, uniform in
// ±DitherPx per axis, from (Seed, i) alone.
func dither(o Options, i int) (dx, dy float64) {
	if o.DitherPx == 0 {
		return 0, 0
	}
	rng := newRand(o.Seed, streamDither, uint64(i), 0)
	dx = (2*rng.Float64() - 1) * o.DitherPx
	dy = (2*rng.Float64() - 1) * o.DitherPx
	return dx, dy
}

// PanelWCS returns the undithered WCS of panel p (0-based, row-major from the lowest row).
func PanelWCS(o Options, p int) (*wcs.WCS, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	nx, ny := o.Panels()
	if p < 0 || p >= nx*ny {
		return nil, fmt.Errorf("synth: panel index %d out of range 0..%d", p, nx*ny-1)
	}
	l := newSkyLayout(o)
	m, err := l.master(o)
	if err != nil {
		return nil, err
	}
	if !o.skyMode() {
		return m, nil
	}
	return l.panelWCS(o, m, p)
}

// FrameWCS returns the WCS written into frame i's header.
func FrameWCS(o Options, i int) (*wcs.WCS, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if i < 0 || i >= o.TotalFrames() {
		return nil, fmt.Errorf("synth: frame index %d out of range 0..%d", i, o.TotalFrames()-1)
	}
	l := newSkyLayout(o)
	m, err := l.master(o)
	if err != nil || !o.skyMode() {
		return m, err
	}
	return l.frameWCS(o, m, i)
}
