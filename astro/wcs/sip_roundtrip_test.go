package wcs_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// Accuracy test (3) of the mosaic issue: a synthetic SIP distortion round trip. Each case is a
// TAN-SIP frame with a realistic third-order A/B (corners displaced by several pixels, as
// astrometry.net solves of wide fields show) and an AP/BP inverse fitted here by least squares,
// as astropy's fit_sip_inverse or astrometry.net do. The package is checked against formulas
// written out again below (gnomonic projection in standard coordinates, CD inverse, SIP by
// fixed-point iteration), not against itself.

// sipCase is one distorted frame: size, pointing, linear part and the forward polynomials.
type sipCase struct {
	name          string
	width, height int
	crval         [2]float64
	scaleArcsec   float64
	rotDeg        float64
	a, b          [][]float64 // A[p][q] multiplies u^p v^q, p+q ≤ 3
	minShift      float64     // the distortion moves some corner by at least this many px
}

var sipCases = []sipCase{
	{
		name: "astrometry.net-like 2k frame, barrel plus coma", width: 2048, height: 1536,
		crval: [2]float64{83.8, -5.4}, scaleArcsec: 1.2, rotDeg: 23,
		a:        [][]float64{{0, 0, 3.1e-6, -2.2e-10}, {0, -4.4e-6, 1.9e-9}, {5.3e-6, -3.0e-10}, {2.4e-9}},
		b:        [][]float64{{0, 0, -2.7e-6, 2.1e-9}, {0, 6.0e-6, 4.0e-10}, {-1.8e-6, 1.7e-9}, {1.5e-10}},
		minShift: 5,
	},
	{
		name: "wide-field camera near the south pole, rotated past 90°", width: 3000, height: 2000,
		crval: [2]float64{301.5, -78.2}, scaleArcsec: 8.5, rotDeg: 117,
		a:        [][]float64{{0, 0, -1.2e-6, 3.5e-10}, {0, 2.0e-6, -1.1e-9}, {4.0e-7, 6.0e-10}, {-1.4e-9}},
		b:        [][]float64{{0, 0, 8.0e-7, -1.6e-9}, {0, -3.0e-7, 5.0e-10}, {2.2e-6, -1.3e-9}, {7.0e-10}},
		minShift: 10,
	},
}

// rtPoly is Σ c[p][q] u^p v^q written out again (the package's evaluator is not used).
func rtPoly(c [][]float64, u, v float64) float64 {
	var s float64
	for p, row := range c {
		for q, a := range row {
			s += a * math.Pow(u, float64(p)) * math.Pow(v, float64(q))
		}
	}
	return s
}

// cd returns the CD matrix of c: scale and rotation with east left (det < 0).
func (c sipCase) cd() [2][2]float64 {
	s := c.scaleArcsec / 3600
	sin, cos := math.Sincos(c.rotDeg * math.Pi / 180)
	return [2][2]float64{{-s * cos, s * sin}, {s * sin, s * cos}}
}

// crpix is the frame centre, 1-based.
func (c sipCase) crpix() [2]float64 {
	return [2]float64{float64(c.width+1) / 2, float64(c.height+1) / 2}
}

// build returns the WCS of c with the fitted inverse, or forward only when ap is nil.
func (c sipCase) build(t *testing.T, ap, bp [][]float64, apOrder int) *wcs.WCS {
	t.Helper()
	w, err := wcs.New("TAN", c.crval, c.crpix(), c.cd())
	require.NoError(t, err)
	w.CType = [2]string{"RA---TAN-SIP", "DEC--TAN-SIP"}
	w.SIP = &wcs.SIP{Order: 3, A: c.a, B: c.b, APOrder: apOrder, AP: ap, BP: bp}
	require.NoError(t, w.Init())
	return w
}

// fitInverse fits AP/BP of the given order by least squares so that
// u ≈ U + AP(U, V), v ≈ V + BP(U, V) on a dense grid over the frame plus a 5 % margin, where
// (U, V) = (u + A(u, v), v + B(u, v)). Monomials are evaluated on coordinates scaled to about
// ±1 so the normal equations stay well conditioned.
func (c sipCase) fitInverse(order int) (ap, bp [][]float64) {
	type term struct{ p, q int }
	var terms []term
	for p := 0; p <= order; p++ {
		for q := 0; q <= order-p; q++ {
			terms = append(terms, term{p, q})
		}
	}
	n := len(terms)
	norm := float64(max(c.width, c.height)) / 2
	ata := make([][]float64, n)
	for i := range ata {
		ata[i] = make([]float64, n)
	}
	atu, atv := make([]float64, n), make([]float64, n)
	cp := c.crpix()
	mx, my := 0.05*float64(c.width), 0.05*float64(c.height)
	const steps = 60
	row := make([]float64, n)
	for j := 0; j <= steps; j++ {
		for i := 0; i <= steps; i++ {
			x := -mx + (float64(c.width)+2*mx)*float64(i)/steps
			y := -my + (float64(c.height)+2*my)*float64(j)/steps
			u, v := x+1-cp[0], y+1-cp[1]
			U, V := u+rtPoly(c.a, u, v), v+rtPoly(c.b, u, v)
			for k, tm := range terms {
				row[k] = math.Pow(U/norm, float64(tm.p)) * math.Pow(V/norm, float64(tm.q))
			}
			for r := range n {
				for s := range n {
					ata[r][s] += row[r] * row[s]
				}
				atu[r] += row[r] * (u - U)
				atv[r] += row[r] * (v - V)
			}
		}
	}
	cu, cv := solveSPD(ata, atu), solveSPD(ata, atv)
	ap, bp = make([][]float64, order+1), make([][]float64, order+1)
	for p := range ap {
		ap[p], bp[p] = make([]float64, order+1-p), make([]float64, order+1-p)
	}
	for k, tm := range terms {
		f := math.Pow(norm, -float64(tm.p+tm.q))
		ap[tm.p][tm.q], bp[tm.p][tm.q] = cu[k]*f, cv[k]*f
	}
	return ap, bp
}

// solveSPD solves the symmetric positive definite system m·x = b by Cholesky decomposition.
func solveSPD(m [][]float64, b []float64) []float64 {
	n := len(b)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, n)
		for j := 0; j <= i; j++ {
			s := m[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	y := make([]float64, n)
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[i][k] * y[k]
		}
		y[i] = s / l[i][i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[k][i] * x[k]
		}
		x[i] = s / l[i][i]
	}
	return x
}

// independentPixelToWorld maps a 0-based pixel through SIP, CD and the gnomonic projection
// written in standard coordinates (ξ east, η north; LONPOLE 180, the TAN default).
func (c sipCase) independentPixelToWorld(x, y float64) (ra, dec float64) {
	cp, cd := c.crpix(), c.cd()
	u, v := x+1-cp[0], y+1-cp[1]
	U, V := u+rtPoly(c.a, u, v), v+rtPoly(c.b, u, v)
	xi := (cd[0][0]*U + cd[0][1]*V) * math.Pi / 180
	eta := (cd[1][0]*U + cd[1][1]*V) * math.Pi / 180
	a0, d0 := c.crval[0]*math.Pi/180, c.crval[1]*math.Pi/180
	den := math.Cos(d0) - eta*math.Sin(d0)
	ra = a0 + math.Atan2(xi, den)
	dec = math.Atan2(math.Sin(d0)+eta*math.Cos(d0), math.Hypot(xi, den))
	return math.Mod(ra*180/math.Pi+360, 360), dec * 180 / math.Pi
}

// independentWorldToPixel inverts independentPixelToWorld: standard coordinates, the inverse
// CD matrix, then the SIP pre-image by plain fixed-point iteration u ← U − A(u, v) (a
// contraction here: the distortion's derivatives are ≪ 1), not by Newton as the package does.
func (c sipCase) independentWorldToPixel(ra, dec float64) (x, y float64) {
	a0, d0 := c.crval[0]*math.Pi/180, c.crval[1]*math.Pi/180
	a, d := ra*math.Pi/180, dec*math.Pi/180
	cosc := math.Sin(d0)*math.Sin(d) + math.Cos(d0)*math.Cos(d)*math.Cos(a-a0)
	xi := math.Cos(d) * math.Sin(a-a0) / cosc * 180 / math.Pi
	eta := (math.Cos(d0)*math.Sin(d) - math.Sin(d0)*math.Cos(d)*math.Cos(a-a0)) / cosc * 180 / math.Pi
	cd := c.cd()
	det := cd[0][0]*cd[1][1] - cd[0][1]*cd[1][0]
	U := (cd[1][1]*xi - cd[0][1]*eta) / det
	V := (cd[0][0]*eta - cd[1][0]*xi) / det
	u, v := U, V
	for range 200 {
		nu, nv := U-rtPoly(c.a, u, v), V-rtPoly(c.b, u, v)
		done := math.Abs(nu-u) < 1e-13 && math.Abs(nv-v) < 1e-13
		u, v = nu, nv
		if done {
			break
		}
	}
	cp := c.crpix()
	return u + cp[0] - 1, v + cp[1] - 1
}

// framePoints are the pixels the round trip visits: a 41×31 lattice over the frame's outer
// pixel edges [−0.5, W−0.5] × [−0.5, H−0.5] (so the four corners are included) plus the
// corner pixel centres.
func (c sipCase) framePoints() [][2]float64 {
	var pts [][2]float64
	for j := 0; j <= 30; j++ {
		for i := 0; i <= 40; i++ {
			pts = append(pts, [2]float64{-0.5 + float64(c.width)*float64(i)/40, -0.5 + float64(c.height)*float64(j)/30})
		}
	}
	w, h := float64(c.width-1), float64(c.height-1)
	return append(pts, [2]float64{0, 0}, [2]float64{w, 0}, [2]float64{0, h}, [2]float64{w, h})
}

func TestSIPRoundTripOverTheWholeFrameWithAFittedInverse(t *testing.T) {
	for _, c := range sipCases {
		t.Run(c.name, func(t *testing.T) {
			ap, bp := c.fitInverse(4)
			pts := c.framePoints()

			// The fitted inverse alone (what a reader without iteration would use) is a good
			// approximation but not exact: that is why the package refines it by Newton steps.
			var apWorst, shift float64
			cp := c.crpix()
			for _, p := range pts {
				u, v := p[0]+1-cp[0], p[1]+1-cp[1]
				U, V := u+rtPoly(c.a, u, v), v+rtPoly(c.b, u, v)
				shift = max(shift, math.Hypot(U-u, V-v))
				apWorst = max(apWorst, math.Hypot(U+rtPoly(ap, U, V)-u, V+rtPoly(bp, U, V)-v))
			}
			t.Logf("distortion up to %.2f px; fitted order-4 AP/BP alone inverts it to %.2g px", shift, apWorst)
			require.Greater(t, shift, c.minShift, "the distortion must be large enough to matter")
			assert.Less(t, apWorst, 0.05, "the least-squares inverse fits")

			for _, inv := range []struct {
				name   string
				ap, bp [][]float64
				order  int
			}{
				{"with the fitted AP/BP", ap, bp, 4},
				{"forward A/B only", nil, nil, 0},
			} {
				w := c.build(t, inv.ap, inv.bp, inv.order)
				var rt, w2p, p2w float64
				for _, p := range pts {
					ra, dec, err := w.PixelToWorld(p[0], p[1])
					require.NoError(t, err)
					x, y, err := w.WorldToPixel(ra, dec)
					require.NoError(t, err, "pixel (%g, %g)", p[0], p[1])
					rt = max(rt, math.Hypot(x-p[0], y-p[1]))

					ira, idec := c.independentPixelToWorld(p[0], p[1])
					dra := math.Remainder(ra-ira, 360) * math.Cos(idec*math.Pi/180)
					p2w = max(p2w, math.Hypot(dra, dec-idec)*3600/c.scaleArcsec)

					ix, iy := c.independentWorldToPixel(ira, idec)
					gx, gy, err := w.WorldToPixel(ira, idec)
					require.NoError(t, err)
					w2p = max(w2p, math.Hypot(gx-ix, gy-iy))
				}
				t.Logf("%s: %d points, round trip max %.2g px; vs independent formulas: pixel→world %.2g px, world→pixel %.2g px",
					inv.name, len(pts), rt, p2w, w2p)
				// The issue asks ≤ 1e-3 px; the Newton inverse is exact to its 1e-6 px contract.
				assert.LessOrEqual(t, rt, 1e-6, "%s: round trip", inv.name)
				assert.LessOrEqual(t, p2w, 1e-6, "%s: pixel → world", inv.name)
				assert.LessOrEqual(t, w2p, 1e-6, "%s: world → pixel", inv.name)
			}
		})
	}
}

func TestSIPWithTheFittedInverseSurvivesTheHeaderCards(t *testing.T) {
	c := sipCases[0]
	ap, bp := c.fitInverse(4)
	w := c.build(t, ap, bp, 4)
	h := rtHeader{}
	for _, card := range w.Cards() {
		h[card.Key] = card.Value
	}
	got, err := wcs.FromHeader(h)
	require.NoError(t, err)
	require.NotNil(t, got.SIP)
	require.NotNil(t, got.SIP.AP, "AP written and read back")
	var worst float64
	for _, p := range c.framePoints() {
		ra, dec, err := w.PixelToWorld(p[0], p[1])
		require.NoError(t, err)
		x, y, err := got.WorldToPixel(ra, dec)
		require.NoError(t, err)
		worst = max(worst, math.Hypot(x-p[0], y-p[1]))
	}
	t.Logf("written, parsed and inverted: max %.2g px", worst)
	assert.LessOrEqual(t, worst, 1e-6)
}

// rtHeader is a Header over the values of Cards().
type rtHeader map[string]any

func (h rtHeader) Float(key string) (float64, bool) {
	switch v := h[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

func (h rtHeader) String(key string) (string, bool) {
	v, ok := h[key].(string)
	return v, ok
}
