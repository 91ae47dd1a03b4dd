package sky

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// frameW×frameH frames of the synthetic mosaics.
const frameW, frameH = 1000, 800

// mosaic builds an nx×ny grid of frames that tile one tangent plane centred on crval, all
// rotated by angle degrees, overlapping by about 10 %. Scales vary slightly per frame so the
// median is meaningful.
func mosaic(t *testing.T, proj string, crval [2]float64, angle, scaleArcsec float64, nx, ny int) (frames []*wcs.WCS, scales []float64) {
	t.Helper()
	stepX, stepY := 0.9*frameW, 0.9*frameH
	bigW, bigH := float64(nx-1)*stepX+frameW, float64(ny-1)*stepY+frameH
	for j := range ny {
		for i := range nx {
			s := scaleArcsec * (1 + 1e-5*float64(i+nx*j)) / 3600
			sn, cs := math.Sincos(angle * deg2rad)
			cd := [2][2]float64{{-s * cs, s * sn}, {s * sn, s * cs}}
			crpix := [2]float64{bigW/2 - float64(i)*stepX, bigH/2 - float64(j)*stepY}
			w, err := wcs.New(proj, crval, crpix, cd)
			require.NoError(t, err)
			frames = append(frames, w)
			scales = append(scales, s*3600)
		}
	}
	return frames, scales
}

func footprints(frames []*wcs.WCS, samples int) [][][2]float64 {
	out := make([][][2]float64, len(frames))
	for i, f := range frames {
		out[i] = f.Footprint(frameW, frameH, samples)
	}
	return out
}

// requireInside asserts that every footprint point maps into [0, w) × [0, h) of g.
func requireInside(t *testing.T, g *wcs.WCS, w, h int, fps [][][2]float64) {
	t.Helper()
	for _, fp := range fps {
		for _, p := range fp {
			x, y, err := g.WorldToPixel(p[0], p[1])
			require.NoError(t, err)
			require.True(t, x >= 0 && x < float64(w) && y >= 0 && y < float64(h),
				"sky point %v maps to (%g, %g), outside %d×%d", p, x, y, w, h)
		}
	}
}

// gridScale is the output scale in arcsec/px from the CD determinant.
func gridScale(g *wcs.WCS) float64 {
	return math.Sqrt(math.Abs(g.CD[0][0]*g.CD[1][1]-g.CD[0][1]*g.CD[1][0])) * 3600
}

// axisAngle is the direction, in output pixels and degrees, of the +x axis of frame f at its
// pixel (x, y): 0 mod 90 when the output grid is aligned with the frame.
func axisAngle(t *testing.T, g, f *wcs.WCS, x, y float64) float64 {
	t.Helper()
	ra0, d0, err := f.PixelToWorld(x, y)
	require.NoError(t, err)
	ra1, d1, err := f.PixelToWorld(x+200, y)
	require.NoError(t, err)
	x0, y0, err := g.WorldToPixel(ra0, d0)
	require.NoError(t, err)
	x1, y1, err := g.WorldToPixel(ra1, d1)
	require.NoError(t, err)
	return math.Atan2(y1-y0, x1-x0) * rad2deg
}

func TestOptimalGridOnSyntheticMosaics(t *testing.T) {
	tests := []struct {
		name  string
		proj  string
		crval [2]float64
		angle float64
		scale float64
	}{
		{"mid latitude rotated 30°", "TAN", [2]float64{150, 30}, 30, 1.0},
		{"southern rotated -40°", "TAN", [2]float64{10, -60}, -40, 2.5},
		{"unrotated", "TAN", [2]float64{200, 5}, 0, 1.2},
		{"crossing RA 0", "TAN", [2]float64{0.05, 10}, 15, 1.5},
		{"near the north pole", "TAN", [2]float64{40, 89.8}, 25, 1.0},
		{"on the south pole", "TAN", [2]float64{0, -90}, 10, 1.0},
		{"ZEA projection", "ZEA", [2]float64{300, -20}, -12, 3.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frames, scales := mosaic(t, tc.proj, tc.crval, tc.angle, tc.scale, 3, 3)
			fps := footprints(frames, 4)
			opt := DefaultGridOptions()
			opt.Projection = tc.proj
			g, w, h, err := OptimalGrid(fps, scales, opt)
			require.NoError(t, err)

			requireInside(t, g, w, h, footprints(frames, 16))
			med := scales[len(scales)/2] // scales increase with the index: the fifth is the median
			assert.InDelta(t, med, gridScale(g), 1e-12*med)
			assert.Less(t, g.CD[0][0], 0.0, "RA increases to the left")

			// Aligned with the frames: their pixel axes run along the output's, and the
			// grid is as tight as the mosaic plus margins.
			assert.InDelta(t, 0, reduceQuarter(axisAngle(t, g, frames[4], frameW/2, frameH/2)), 0.01)
			if tc.crval[1] < 89 && tc.crval[1] > -89 {
				assert.InDelta(t, 0, reduceQuarter(g.Rotation()-frames[4].Rotation()), 0.01)
			}
			spanX, spanY := 2*0.9*frameW+frameW, 2*0.9*frameH+frameH
			assert.InDelta(t, spanX*tc.scale/med+5, float64(w), 3, "width")
			assert.InDelta(t, spanY*tc.scale/med+5, float64(h), 3, "height")

			// Any order of frames, of points and of scales gives the same grid, bit for bit.
			rng := rand.New(rand.NewPCG(1, 2))
			for range 3 {
				shuffled := slices.Clone(fps)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				for k := range shuffled {
					fp := slices.Clone(shuffled[k])
					r := rng.IntN(len(fp))
					shuffled[k] = append(fp[r:], fp[:r]...)
				}
				sc := slices.Clone(scales)
				slices.Reverse(sc)
				g2, w2, h2, err := OptimalGrid(shuffled, sc, opt)
				require.NoError(t, err)
				assert.Equal(t, [2]int{w, h}, [2]int{w2, h2})
				assert.Equal(t, g.CD, g2.CD)
				assert.Equal(t, g.CRPix, g2.CRPix)
				assert.Equal(t, g.CRVal, g2.CRVal)
			}
		})
	}
}

func TestOptimalGridNorthUpAndExplicitScale(t *testing.T) {
	frames, scales := mosaic(t, "TAN", [2]float64{80, 20}, 30, 1.0, 3, 2)
	fps := footprints(frames, 4)
	opt := GridOptions{Projection: "", PixelScaleArcsec: 2, NorthUp: true, Margin: 0}
	g, w, h, err := OptimalGrid(fps, scales, opt)
	require.NoError(t, err)
	assert.Equal(t, "TAN", g.Projection, "empty projection means TAN")
	assert.Equal(t, 0.0, g.CD[0][1])
	assert.Equal(t, 0.0, g.CD[1][0])
	assert.InDelta(t, -2.0/3600, g.CD[0][0], 1e-18)
	assert.InDelta(t, 2.0/3600, g.CD[1][1], 1e-18)
	assert.InDelta(t, 0, g.Rotation(), 1e-9)
	requireInside(t, g, w, h, footprints(frames, 16))

	// Without margin the extreme points touch the first row and column.
	minX, minY := math.Inf(1), math.Inf(1)
	for _, fp := range fps {
		for _, p := range fp {
			x, y, err := g.WorldToPixel(p[0], p[1])
			require.NoError(t, err)
			minX, minY = min(minX, x), min(minY, y)
		}
	}
	assert.InDelta(t, 0, minX, 1e-5)
	assert.InDelta(t, 0, minY, 1e-5)

	// A rotated grid of the same field is smaller than the north-up one.
	opt.NorthUp = false
	_, wr, hr, err := OptimalGrid(fps, scales, opt)
	require.NoError(t, err)
	assert.Less(t, wr*hr, w*h)
}

func TestOptimalGridErrors(t *testing.T) {
	one := [][][2]float64{{{10, 10}, {10.1, 10}, {10.1, 10.1}}}
	tests := []struct {
		name   string
		fps    [][][2]float64
		scales []float64
		opt    func(*GridOptions)
		want   error
	}{
		{"no footprints", nil, []float64{1}, nil, ErrDegenerate},
		{"empty footprints", [][][2]float64{{}, {}}, []float64{1, 1}, nil, ErrDegenerate},
		{"antipodal footprints", [][][2]float64{{{10, 20}}, {{190, -20}}}, []float64{1, 1}, nil, ErrDegenerate},
		{"NaN point", [][][2]float64{{{10, math.NaN()}}}, []float64{1}, nil, ErrNonFinite},
		{"NaN scale", one, []float64{math.NaN()}, nil, ErrNonFinite},
		{"zero scale", one, []float64{0}, nil, ErrNonFinite},
		{"field beyond the TAN hemisphere", [][][2]float64{{{0, 0}}, {{100, 0}}, {{200, 0}}}, []float64{1, 1, 1}, nil, wcs.ErrOutOfDomain},
		{"grid too large", one, []float64{1e-4}, nil, ErrGridTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := DefaultGridOptions()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			_, _, _, err := OptimalGrid(tc.fps, tc.scales, opt)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "sky: ")
		})
	}
	_, _, _, err := OptimalGrid(one, nil, DefaultGridOptions())
	require.ErrorContains(t, err, "no input pixel scales")
	_, _, _, err = OptimalGrid(one, nil, GridOptions{Projection: "XYZ", PixelScaleArcsec: 1})
	require.ErrorIs(t, err, wcs.ErrUnsupportedProjection)
}

func TestGridOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultGridOptions().Validate())
	assert.Equal(t, GridOptions{Projection: "TAN", Margin: 2}, DefaultGridOptions())
	tests := []struct {
		name string
		opt  GridOptions
	}{
		{"empty projection", GridOptions{}},
		{"unknown projection", GridOptions{Projection: "FOO"}},
		{"negative scale", GridOptions{Projection: "TAN", PixelScaleArcsec: -1}},
		{"NaN scale", GridOptions{Projection: "TAN", PixelScaleArcsec: math.NaN()}},
		{"infinite scale", GridOptions{Projection: "TAN", PixelScaleArcsec: math.Inf(1)}},
		{"negative margin", GridOptions{Projection: "TAN", Margin: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opt.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sky: ")
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"odd count", []float64{3, 1, 2}, 2},
		{"even count averages the middle two", []float64{10, 1, 3, 2}, 2.5},
		{"single", []float64{0.1484}, 0.1484},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got, err := median(in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, in, "input not modified")
		})
	}
}
