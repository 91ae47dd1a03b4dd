package wcs

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrNoCelestialAxes means CTYPE1/CTYPE2 do not form a celestial longitude/latitude pair
	// with a projection: callers skip such frames.
	ErrNoCelestialAxes = errors.New("wcs: no celestial axis pair in CTYPE1/CTYPE2")
	// ErrUnsupportedProjection means the projection code (or a CTYPE suffix) is not implemented.
	ErrUnsupportedProjection = errors.New("wcs: unsupported projection")
	// ErrMissingKey means a header key that the WCS needs is absent.
	ErrMissingKey = errors.New("wcs: missing header key")
	// ErrSingularCD means the CD matrix cannot be inverted.
	ErrSingularCD = errors.New("wcs: singular CD matrix")
	// ErrNonFinite means a parameter is NaN or infinite.
	ErrNonFinite = errors.New("wcs: non-finite parameter")
	// ErrScaleOutOfRange means the pixel scale is outside the sanity range of ValidateOptions.
	ErrScaleOutOfRange = errors.New("wcs: pixel scale out of range")
	// ErrOutOfDomain means a point lies outside the projection's domain.
	ErrOutOfDomain = errors.New("wcs: point outside the projection domain")
	// ErrNoConvergence means the SIP inversion did not converge.
	ErrNoConvergence = errors.New("wcs: SIP inversion did not converge")
	// ErrInvalidPole means LONPOLE/LATPOLE and CRVAL admit no celestial pole (paper II §2.4).
	ErrInvalidPole = errors.New("wcs: inconsistent LONPOLE/LATPOLE")
)

// Header is the read side of a FITS header; *fits.Header has exactly these methods.
type Header interface {
	Float(key string) (float64, bool) // int or float card
	String(key string) (string, bool)
}

// Card is one header card to write back. Value is a string, float64, int or bool.
type Card struct {
	Key     string
	Value   any
	Comment string
}

// WCS is a two-axis celestial World Coordinate System.
//
// The exported fields are the header values. After changing them, call Init so that the
// derived state (inverse CD, celestial pole) is cached again; without it the transformations
// stay correct but recompute that state on every call.
type WCS struct {
	CType      [2]string     // e.g. "RA---TAN-SIP", "DEC--TAN-SIP"; axis order as in the header
	CRPix      [2]float64    // reference pixel, FITS 1-based as in the header
	CRVal      [2]float64    // reference world coordinate per axis, degrees
	CD         [2][2]float64 // degrees/pixel (from CD, or PC×CDELT, or CDELT+CROTA2); CD[i][j] = CDi+1_j+1
	LonPole    float64       // native longitude of the celestial pole φp, degrees; NaN = paper II default
	LatPole    float64       // LATPOLE θp, degrees (selects between two poles); NaN = default +90
	RADESys    string        // "ICRS", "FK5", "FK4", …; empty for non-equatorial axes
	Equinox    float64       // years; 0 when not applicable (ICRS)
	Projection string        // "TAN", "SIN", "ARC", "STG", "ZEA", "CAR", "AIT", "ZPN"
	PV         []float64     // PVi_m of the latitude axis, indexed by m (SIN ξ, η; ZPN coefficients); nil = none
	SIP        *SIP          // nil when absent

	st *state // derived state, immutable once built; nil until Init
}

// SIP holds Simple Imaging Polynomial distortion coefficients (Shupe et al. 2005).
// A[p][q] multiplies u^p v^q (p+q ≤ Order), likewise B; AP/BP are the optional inverse
// polynomials of order APOrder (nil when absent).
type SIP struct {
	Order   int
	A, B    [][]float64
	APOrder int
	AP, BP  [][]float64
}

// maxSIPOrder bounds the polynomial order: higher orders are numerically meaningless for
// images and would let a bad header allocate large tables.
const maxSIPOrder = 15

// maxPV is the number of PVi_m terms read (ZPN uses m = 0…29 in WCSLIB).
const maxPV = 30

// New builds a WCS from its essentials: projection code, reference value and pixel (1-based)
// and CD matrix, for RA/Dec axes in ICRS. LONPOLE/LATPOLE take their paper II defaults.
func New(projection string, crval, crpix [2]float64, cd [2][2]float64) (*WCS, error) {
	p := strings.ToUpper(strings.TrimSpace(projection))
	w := &WCS{
		CType:      [2]string{"RA---" + p, "DEC--" + p},
		CRPix:      crpix,
		CRVal:      crval,
		CD:         cd,
		LonPole:    math.NaN(),
		LatPole:    math.NaN(),
		RADESys:    "ICRS",
		Projection: p,
	}
	if err := w.Init(); err != nil {
		return nil, err
	}
	return w, nil
}

// Init checks the parameters, resolves NaN LonPole/LatPole to their paper II values and
// caches the derived state. It must not run concurrently with transformations on w.
func (w *WCS) Init() error {
	st := newState(w.key())
	if st.err != nil {
		return st.err
	}
	w.LonPole = st.phiPDeg
	w.LatPole = st.latPDeg
	w.st = newState(w.key()) // key changed with the resolved poles
	return w.st.err
}

// Clone returns a deep copy of w.
func (w *WCS) Clone() *WCS {
	c := *w
	if w.PV != nil {
		c.PV = append([]float64(nil), w.PV...)
	}
	if w.SIP != nil {
		s := *w.SIP
		s.A, s.B = cloneMatrix(w.SIP.A), cloneMatrix(w.SIP.B)
		s.AP, s.BP = cloneMatrix(w.SIP.AP), cloneMatrix(w.SIP.BP)
		c.SIP = &s
	}
	return &c
}

func cloneMatrix(m [][]float64) [][]float64 {
	if m == nil {
		return nil
	}
	c := make([][]float64, len(m))
	for i, row := range m {
		c[i] = append([]float64(nil), row...)
	}
	return c
}

// current returns the cached state when it still matches the exported fields, otherwise a
// fresh one that is not stored, so concurrent readers never write to w.
func (w *WCS) current() (*state, error) {
	k := w.key()
	if w.st != nil && w.st.key == k {
		return w.st, w.st.err
	}
	st := newState(k)
	return st, st.err
}

// key is a snapshot of every exported field the derived state depends on. Floats are kept as
// bits so that NaN (the "default" LonPole/LatPole) compares equal to itself.
type key struct {
	ctype   [2]string
	proj    string
	crpix   [2]uint64
	crval   [2]uint64
	cd      [4]uint64
	lonPole uint64
	latPole uint64
	pv      [maxPV]uint64
	npv     int
}

func (w *WCS) key() key {
	k := key{
		ctype:   w.CType,
		proj:    w.Projection,
		crpix:   [2]uint64{math.Float64bits(w.CRPix[0]), math.Float64bits(w.CRPix[1])},
		crval:   [2]uint64{math.Float64bits(w.CRVal[0]), math.Float64bits(w.CRVal[1])},
		cd:      [4]uint64{math.Float64bits(w.CD[0][0]), math.Float64bits(w.CD[0][1]), math.Float64bits(w.CD[1][0]), math.Float64bits(w.CD[1][1])},
		lonPole: math.Float64bits(w.LonPole),
		latPole: math.Float64bits(w.LatPole),
		npv:     min(len(w.PV), maxPV),
	}
	for i := range k.npv {
		k.pv[i] = math.Float64bits(w.PV[i])
	}
	return k
}

// state is everything derived from the exported fields; it is never modified once built.
type state struct {
	key key
	err error

	lng, lat int // indices of the longitude and latitude axes (0 or 1)
	proj     projection
	inv      [2][2]float64 // inverse of CD

	// Celestial pole and native longitude of the pole, radians (paper II eq. 2).
	alphaP, deltaP, phiP float64
	sinDP, cosDP         float64
	phiPDeg, latPDeg     float64 // resolved LONPOLE and LATPOLE, degrees
}

func newState(k key) *state {
	st := &state{key: k}
	st.err = st.build()
	return st
}

func (st *state) build() error {
	k := &st.key
	axes, code, err := parseCTypes(k.ctype)
	if err != nil {
		return err
	}
	st.lng, st.lat = axes[0], axes[1]
	switch {
	case k.proj == "":
	case !strings.EqualFold(k.proj, code):
		return fmt.Errorf("wcs: Projection %q disagrees with CTYPE %q: %w", k.proj, k.ctype[0], ErrUnsupportedProjection)
	}
	pv := make([]float64, k.npv)
	for i := range pv {
		pv[i] = math.Float64frombits(k.pv[i])
	}
	if st.proj, err = newProjection(code, pv); err != nil {
		return err
	}
	for _, v := range []uint64{k.crpix[0], k.crpix[1], k.crval[0], k.crval[1], k.cd[0], k.cd[1], k.cd[2], k.cd[3]} {
		if f := math.Float64frombits(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("wcs: CRPIX, CRVAL and CD must be finite: %w", ErrNonFinite)
		}
	}
	a, b, c, d := math.Float64frombits(k.cd[0]), math.Float64frombits(k.cd[1]), math.Float64frombits(k.cd[2]), math.Float64frombits(k.cd[3])
	det := a*d - b*c
	if det == 0 || math.Abs(det) < 1e-14*(a*a+b*b+c*c+d*d) || math.IsInf(1/det, 0) {
		return fmt.Errorf("wcs: CD = [[%g %g] [%g %g]] has determinant %g: %w", a, b, c, d, det, ErrSingularCD)
	}
	st.inv = [2][2]float64{{d / det, -b / det}, {-c / det, a / det}}
	return st.setPole()
}
