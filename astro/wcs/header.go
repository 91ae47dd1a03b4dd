package wcs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FromHeader parses the celestial WCS of axes 1 and 2 from a FITS header.
//
// The linear part comes from PCi_j×CDELTi when any PC key is present (PC defaults to the
// identity), else from CDi_j (missing entries 0), else from CDELTi with CROTA2 (paper II
// §6.1, as WCSLIB and astropy). LONPOLE and LATPOLE take paper II defaults when absent and are
// stored resolved. RADESYS defaults per paper II §3.1 (ICRS without EQUINOX, FK4 before 1984,
// FK5 after); EQUINOX falls back to EPOCH, then to 1950 for FK4 and 2000 for FK5. SIP keys are
// read when CTYPE ends in "-SIP" and ignored otherwise, as astropy does.
//
// A header without a celestial CTYPE pair returns an error wrapping ErrNoCelestialAxes.
func FromHeader(h Header) (*WCS, error) {
	w := &WCS{}
	for i := range 2 {
		s, ok := h.String(fmt.Sprintf("CTYPE%d", i+1))
		if !ok {
			return nil, fmt.Errorf("wcs: CTYPE%d absent: %w", i+1, ErrNoCelestialAxes)
		}
		w.CType[i] = strings.ToUpper(strings.TrimSpace(s))
	}
	axes, code, err := parseCTypes(w.CType)
	if err != nil {
		return nil, err
	}
	w.Projection = code

	var missing []string
	num := func(key string) float64 {
		v, ok := h.Float(key)
		if !ok {
			missing = append(missing, key)
			return math.NaN()
		}
		return v
	}
	for i := range 2 {
		w.CRPix[i] = num(fmt.Sprintf("CRPIX%d", i+1))
		w.CRVal[i] = num(fmt.Sprintf("CRVAL%d", i+1))
	}
	w.CD, err = parseLinear(h, axes[1], &missing)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("wcs: %s: %w", strings.Join(missing, ", "), ErrMissingKey)
	}

	w.LonPole, w.LatPole = math.NaN(), math.NaN()
	if v, ok := h.Float("LONPOLE"); ok {
		w.LonPole = v
	}
	if v, ok := h.Float("LATPOLE"); ok {
		w.LatPole = v
	}
	w.PV = parsePV(h, axes[1]+1)
	if strings.HasPrefix(w.CType[axes[0]], "RA") {
		w.RADESys, w.Equinox = parseFrame(h)
	}
	if strings.HasSuffix(w.CType[0], "-SIP") || strings.HasSuffix(w.CType[1], "-SIP") {
		if w.SIP, err = parseSIP(h); err != nil {
			return nil, err
		}
	}
	if err := w.Init(); err != nil {
		return nil, err
	}
	return w, nil
}

// parseLinear builds the CD matrix; lat is the index of the latitude axis, whose CROTA
// carries the rotation in the old AIPS convention.
func parseLinear(h Header, lat int, missing *[]string) ([2][2]float64, error) {
	var cd [2][2]float64
	hasPC, hasCD := false, false
	for i := range 2 {
		for j := range 2 {
			if _, ok := h.Float(fmt.Sprintf("PC%d_%d", i+1, j+1)); ok {
				hasPC = true
			}
			if _, ok := h.Float(fmt.Sprintf("CD%d_%d", i+1, j+1)); ok {
				hasCD = true
			}
		}
	}
	cdelt := [2]float64{1, 1}
	hasCDELT := true
	for i := range 2 {
		if v, ok := h.Float(fmt.Sprintf("CDELT%d", i+1)); ok {
			cdelt[i] = v
		} else {
			hasCDELT = false
		}
	}
	switch {
	case hasPC:
		// Paper I eq. 1: CD = diag(CDELT)·PC, PC defaulting to the identity.
		for i := range 2 {
			for j := range 2 {
				pc := 0.0
				if i == j {
					pc = 1
				}
				if v, ok := h.Float(fmt.Sprintf("PC%d_%d", i+1, j+1)); ok {
					pc = v
				}
				cd[i][j] = cdelt[i] * pc
			}
		}
	case hasCD:
		for i := range 2 {
			for j := range 2 {
				cd[i][j], _ = h.Float(fmt.Sprintf("CD%d_%d", i+1, j+1))
			}
		}
	case hasCDELT:
		// Paper II eq. 188 (§6.1): PC from CROTA of the latitude axis.
		rho, ok := h.Float(fmt.Sprintf("CROTA%d", lat+1))
		if !ok {
			rho = 0
		}
		if cdelt[1-lat] == 0 || cdelt[lat] == 0 {
			return cd, fmt.Errorf("wcs: CDELT1=%g, CDELT2=%g: %w", cdelt[0], cdelt[1], ErrSingularCD)
		}
		s, c := sincosd(rho)
		lng := 1 - lat
		r := cdelt[lat] / cdelt[lng]
		var pc [2][2]float64
		pc[lng][lng], pc[lat][lat] = c, c
		pc[lng][lat] = -s * r
		pc[lat][lng] = s / r
		for i := range 2 {
			for j := range 2 {
				cd[i][j] = cdelt[i] * pc[i][j]
			}
		}
	default:
		*missing = append(*missing, "CDi_j or CDELTi")
	}
	return cd, nil
}

// parsePV reads PVi_m of the latitude axis (1-based axis number i).
func parsePV(h Header, axis int) []float64 {
	var pv []float64
	for m := range maxPV {
		if v, ok := h.Float(fmt.Sprintf("PV%d_%d", axis, m)); ok {
			for len(pv) <= m {
				pv = append(pv, 0)
			}
			pv[m] = v
		}
	}
	return pv
}

// parseFrame applies the RADESYS/EQUINOX defaults of paper II §3.1.
func parseFrame(h Header) (string, float64) {
	sys, ok := h.String("RADESYS")
	if !ok {
		sys, ok = h.String("RADECSYS") // pre-standard spelling
	}
	sys = strings.ToUpper(strings.TrimSpace(sys))
	eq, hasEq := h.Float("EQUINOX")
	if !hasEq {
		if s, ok := h.String("EQUINOX"); ok { // e.g. 'J2000' written as a string
			eq, hasEq = parseEpoch(s)
		}
	}
	if !hasEq {
		eq, hasEq = h.Float("EPOCH")
	}
	if !ok || sys == "" {
		switch {
		case !hasEq:
			sys = "ICRS"
		case eq < 1984:
			sys = "FK4"
		default:
			sys = "FK5"
		}
	}
	if !hasEq {
		switch sys {
		case "FK4", "FK4-NO-E":
			eq = 1950
		case "FK5":
			eq = 2000
		}
	}
	return sys, eq
}

func parseEpoch(s string) (float64, bool) {
	s = strings.TrimLeft(strings.ToUpper(strings.TrimSpace(s)), "JB")
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// parseSIP reads A_/B_ (required) and AP_/BP_ (optional) coefficients.
func parseSIP(h Header) (*SIP, error) {
	s := &SIP{}
	var err error
	if s.Order, err = sipOrder(h, "A_ORDER"); err != nil {
		return nil, err
	}
	bOrder, err := sipOrder(h, "B_ORDER")
	if err != nil {
		return nil, err
	}
	s.Order = max(s.Order, bOrder)
	s.A = sipTable(h, "A", s.Order)
	s.B = sipTable(h, "B", s.Order)
	apOrder, errAP := sipOrder(h, "AP_ORDER")
	bpOrder, errBP := sipOrder(h, "BP_ORDER")
	if errAP == nil && errBP == nil {
		s.APOrder = max(apOrder, bpOrder)
		s.AP = sipTable(h, "AP", s.APOrder)
		s.BP = sipTable(h, "BP", s.APOrder)
	} else if !errors.Is(errAP, ErrMissingKey) || !errors.Is(errBP, ErrMissingKey) {
		return nil, errors.Join(errAP, errBP)
	}
	return s, nil
}

func sipOrder(h Header, key string) (int, error) {
	v, ok := h.Float(key)
	if !ok {
		return 0, fmt.Errorf("wcs: %s: %w", key, ErrMissingKey)
	}
	if v != math.Trunc(v) || v < 0 || v > maxSIPOrder {
		return 0, fmt.Errorf("wcs: %s = %g is not an order in [0, %d]: %w", key, v, maxSIPOrder, ErrUnsupportedProjection)
	}
	return int(v), nil
}

func sipTable(h Header, prefix string, order int) [][]float64 {
	t := make([][]float64, order+1)
	for p := range t {
		t[p] = make([]float64, order+1-p)
		for q := range t[p] {
			t[p][q], _ = h.Float(fmt.Sprintf("%s_%d_%d", prefix, p, q))
		}
	}
	return t
}
