package sky

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// ErrGridTooLarge means the output grid would exceed MaxGridSide pixels on a side.
var ErrGridTooLarge = errors.New("sky: output grid too large")

// MaxGridSide bounds each side of an output grid: beyond it a scale or footprint is almost
// surely wrong, and allocating the mosaic would exhaust memory anyway.
const MaxGridSide = 1 << 20

// GridOptions controls OptimalGrid. An empty Projection and a zero PixelScaleArcsec mean
// "default"; a zero Margin means no margin.
type GridOptions struct {
	Projection       string  // projection code for the output WCS; default (and "") "TAN"
	PixelScaleArcsec float64 // output scale in arcsec/px; 0 = median of the inputs' scales
	NorthUp          bool    // true: no rotation; false: rotate to the minimum-area rectangle
	Margin           int     // empty pixels added on every side; default 2
}

// DefaultGridOptions returns TAN, the median input scale, auto-rotation and a 2-pixel margin.
func DefaultGridOptions() GridOptions {
	return GridOptions{Projection: "TAN", Margin: 2}
}

// Validate checks the options as given (an empty Projection is an error here, although
// OptimalGrid reads it as "TAN"): a projection that astro/wcs implements, a finite scale ≥ 0
// and a margin ≥ 0.
func (o GridOptions) Validate() error {
	if strings.TrimSpace(o.Projection) == "" {
		return errors.New("sky: grid projection is empty")
	}
	if _, err := wcs.New(o.Projection, [2]float64{0, 0}, [2]float64{1, 1}, [2][2]float64{{-1, 0}, {0, 1}}); err != nil {
		return fmt.Errorf("sky: grid projection %q: %w", o.Projection, err)
	}
	if !finite(o.PixelScaleArcsec) || o.PixelScaleArcsec < 0 {
		return fmt.Errorf("sky: grid pixel scale must be finite and >= 0, got %g", o.PixelScaleArcsec)
	}
	if o.Margin < 0 {
		return fmt.Errorf("sky: grid margin must be >= 0, got %d", o.Margin)
	}
	return nil
}

// OptimalGrid returns the output WCS and size (width, height) that cover every footprint.
//
// footprints holds, per input, a sky polygon of {ra, dec} points in degrees (e.g. from
// wcs.WCS.Footprint); scales holds the inputs' pixel scales in arcsec/px and may be nil when
// opt.PixelScaleArcsec is set. The reference point (CRVAL) is the spherical mean of all
// footprint points; the points are projected with opt.Projection at that point; unless
// opt.NorthUp, the grid is rotated by the angle (reduced into (-45°, 45°]) of the minimum-area
// rectangle around their convex hull. The CD matrix is scale × rotation with RA increasing to
// the left (CD1_1 < 0 when north is up). Every footprint point lands in [Margin, w-Margin) ×
// [Margin, h-Margin) in 0-based pixel coordinates.
//
// The result does not depend on the order of footprints, of their points or of scales: all
// points are sorted before any reduction, and the median is order-free.
func OptimalGrid(footprints [][][2]float64, scales []float64, opt GridOptions) (g *wcs.WCS, width, height int, err error) {
	if strings.TrimSpace(opt.Projection) == "" {
		opt.Projection = "TAN"
	}
	if err := opt.Validate(); err != nil {
		return nil, 0, 0, err
	}
	scale := opt.PixelScaleArcsec
	if scale == 0 {
		if scale, err = median(scales); err != nil {
			return nil, 0, 0, err
		}
	}
	scaleDeg := scale / 3600

	var pts [][2]float64
	for _, fp := range footprints {
		pts = append(pts, fp...)
	}
	if len(pts) == 0 {
		return nil, 0, 0, fmt.Errorf("sky: optimal grid of no footprint points: %w", ErrDegenerate)
	}
	// Sorting makes the floating-point sums and the hull's starting point independent of
	// the input order, hence a bit-identical grid.
	slices.SortFunc(pts, func(a, b [2]float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	ra0, dec0, err := Mean(pts)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("sky: optimal grid centre: %w", err)
	}
	crval := [2]float64{ra0, dec0}

	// With CD = diag(-1, 1) deg/px and CRPIX (1, 1), 0-based pixels are the intermediate world
	// coordinates in degrees with x mirrored, so x grows to the west as in the output image.
	plane, err := wcs.New(opt.Projection, crval, [2]float64{1, 1}, [2][2]float64{{-1, 0}, {0, 1}})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("sky: optimal grid projection: %w", err)
	}
	proj := make([][2]float64, len(pts))
	for i, p := range pts {
		x, y, err := plane.WorldToPixel(p[0], p[1])
		if err != nil {
			return nil, 0, 0, fmt.Errorf("sky: footprint point (%g, %g) cannot be shown by %s centred on (%g, %g): %w",
				p[0], p[1], opt.Projection, ra0, dec0, err)
		}
		proj[i] = [2]float64{x, y}
	}

	rect := boundsAt(proj, 0)
	if !opt.NorthUp {
		rect = MinAreaRect(ConvexHull(proj))
	}
	// Pixel offsets (u, v) from CRVAL are R(-θ)·p/scale, so p = scale·R(θ)·(u, v) and the
	// intermediate world coordinates (-p_x, p_y) give CD = scale·diag(-1, 1)·R(θ).
	s, c := math.Sincos(rect.Angle * deg2rad)
	cd := [2][2]float64{
		{-scaleDeg * c, scaleDeg * s},
		{scaleDeg * s, scaleDeg * c},
	}
	umin, vmin := rect.Min[0]/scaleDeg, rect.Min[1]/scaleDeg
	spanU, spanV := (rect.Max[0]-rect.Min[0])/scaleDeg, (rect.Max[1]-rect.Min[1])/scaleDeg
	// x = u - umin + Margin + slack lies in [Margin+slack, Margin+slack+spanU]; floor(span +
	// 2·slack)+1 pixels plus the far margin keep it strictly below the width. The slack absorbs
	// the rounding of a world→pixel round trip, which could otherwise put an extreme point at
	// -1e-13 when Margin is 0.
	const slack = 1e-6
	m := float64(opt.Margin)
	fw, fh := math.Floor(spanU+2*slack)+1+2*m, math.Floor(spanV+2*slack)+1+2*m
	if !(fw <= MaxGridSide && fh <= MaxGridSide) {
		return nil, 0, 0, fmt.Errorf("sky: grid of %.0f×%.0f px at %g\"/px exceeds %d px per side: %w",
			fw, fh, scale, MaxGridSide, ErrGridTooLarge)
	}
	crpix := [2]float64{1 - umin + m + slack, 1 - vmin + m + slack}
	g, err = wcs.New(opt.Projection, crval, crpix, cd)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("sky: optimal grid WCS: %w", err)
	}
	return g, int(fw), int(fh), nil
}

// median of positive finite scales; an even count averages the two middle values.
func median(v []float64) (float64, error) {
	if len(v) == 0 {
		return 0, errors.New("sky: no input pixel scales and no PixelScaleArcsec")
	}
	s := slices.Clone(v)
	for _, x := range s {
		if !finite(x) || x <= 0 {
			return 0, fmt.Errorf("sky: input pixel scale %g must be finite and > 0: %w", x, ErrNonFinite)
		}
	}
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], nil
	}
	return s[n/2-1]/2 + s[n/2]/2, nil
}

// GridFromHeader builds the output grid from a user-supplied header (--grid-from): the WCS
// of h for an image of width×height pixels, checked with wcs.Validate and its default
// sanity range.
func GridFromHeader(h wcs.Header, width, height int) (*wcs.WCS, error) {
	if h == nil {
		return nil, errors.New("sky: grid header is nil")
	}
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("sky: grid size must be positive, got %d×%d", width, height)
	}
	if width > MaxGridSide || height > MaxGridSide {
		return nil, fmt.Errorf("sky: grid size %d×%d exceeds %d px per side: %w", width, height, MaxGridSide, ErrGridTooLarge)
	}
	w, err := wcs.FromHeader(h)
	if err != nil {
		return nil, fmt.Errorf("sky: grid header: %w", err)
	}
	if err := w.Validate(width, height, wcs.DefaultValidateOptions()); err != nil {
		return nil, fmt.Errorf("sky: grid header: %w", err)
	}
	return w, nil
}
