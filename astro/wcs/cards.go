package wcs

import (
	"fmt"
	"math"
	"strings"
)

// Cards returns the header cards that describe w, in the order FITS readers expect them
// (WCSAXES first). CTYPE carries the "-SIP" suffix exactly when w.SIP is set. Only non-zero
// SIP coefficients are written. Callers writing into an existing header should remove stale
// PCi_j, CDELTi and CROTAi keys, which would otherwise take precedence or conflict.
func (w *WCS) Cards() []Card {
	cards := []Card{{Key: "WCSAXES", Value: 2, Comment: "number of WCS axes"}}
	for i := range 2 {
		ct := strings.TrimSuffix(strings.TrimSpace(w.CType[i]), "-SIP")
		if w.SIP != nil {
			ct += "-SIP"
		}
		cards = append(cards, Card{Key: fmt.Sprintf("CTYPE%d", i+1), Value: ct, Comment: "coordinate type and projection"})
	}
	for i := range 2 {
		cards = append(cards, Card{Key: fmt.Sprintf("CRPIX%d", i+1), Value: w.CRPix[i], Comment: "reference pixel (1-based)"})
	}
	for i := range 2 {
		cards = append(cards, Card{Key: fmt.Sprintf("CRVAL%d", i+1), Value: w.CRVal[i], Comment: "[deg] world coordinate at reference pixel"})
	}
	for i := range 2 {
		cards = append(cards, Card{Key: fmt.Sprintf("CUNIT%d", i+1), Value: "deg", Comment: "units of CRVAL and CD"})
	}
	for i := range 2 {
		for j := range 2 {
			cards = append(cards, Card{Key: fmt.Sprintf("CD%d_%d", i+1, j+1), Value: w.CD[i][j], Comment: "[deg/px] linear transformation matrix"})
		}
	}
	lon, lat := w.LonPole, w.LatPole
	if st, err := w.current(); err == nil { // write resolved defaults so the header is explicit
		lon, lat = st.phiPDeg, st.latPDeg
	}
	if !math.IsNaN(lon) {
		cards = append(cards, Card{Key: "LONPOLE", Value: lon, Comment: "[deg] native longitude of celestial pole"})
	}
	if !math.IsNaN(lat) {
		cards = append(cards, Card{Key: "LATPOLE", Value: lat, Comment: "[deg] native latitude of celestial pole"})
	}
	if w.RADESys != "" {
		cards = append(cards, Card{Key: "RADESYS", Value: w.RADESys, Comment: "equatorial reference frame"})
	}
	if w.Equinox != 0 && !math.IsNaN(w.Equinox) {
		cards = append(cards, Card{Key: "EQUINOX", Value: w.Equinox, Comment: "[yr] equinox of equatorial coordinates"})
	}
	latAxis := 2
	if st, err := w.current(); err == nil {
		latAxis = st.lat + 1
	}
	for m, v := range w.PV {
		if v != 0 {
			cards = append(cards, Card{Key: fmt.Sprintf("PV%d_%d", latAxis, m), Value: v, Comment: "projection parameter"})
		}
	}
	if s := w.SIP; s != nil {
		cards = append(cards, Card{Key: "A_ORDER", Value: s.Order, Comment: "SIP polynomial order, axis 1"})
		cards = appendSIP(cards, "A", s.A, s.Order)
		cards = append(cards, Card{Key: "B_ORDER", Value: s.Order, Comment: "SIP polynomial order, axis 2"})
		cards = appendSIP(cards, "B", s.B, s.Order)
		if s.AP != nil || s.BP != nil {
			cards = append(cards, Card{Key: "AP_ORDER", Value: s.APOrder, Comment: "SIP inverse polynomial order, axis 1"})
			cards = appendSIP(cards, "AP", s.AP, s.APOrder)
			cards = append(cards, Card{Key: "BP_ORDER", Value: s.APOrder, Comment: "SIP inverse polynomial order, axis 2"})
			cards = appendSIP(cards, "BP", s.BP, s.APOrder)
		}
	}
	return cards
}

func appendSIP(cards []Card, prefix string, t [][]float64, order int) []Card {
	for p := 0; p <= order && p < len(t); p++ {
		for q := 0; q <= order-p && q < len(t[p]); q++ {
			if t[p][q] != 0 {
				cards = append(cards, Card{Key: fmt.Sprintf("%s_%d_%d", prefix, p, q), Value: t[p][q]})
			}
		}
	}
	return cards
}
