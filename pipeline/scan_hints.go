package pipeline

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// PointingHint returns the telescope's pointing from header keys, in degrees: RA/DEC (numbers
// of degrees as Seestar and NINA write them, or sexagesimal strings with RA in hours), else
// OBJCTRA/OBJCTDEC (sexagesimal, RA in hours), separated by spaces or colons. Out-of-range
// values give no pointing. A mount's pointing can be off by arcminutes: it places a frame for
// a solver or a report, never for stacking.
func PointingHint(h *fits.Header) (ra, dec float64, ok bool) {
	for _, k := range [][2]string{{"RA", "DEC"}, {"OBJCTRA", "OBJCTDEC"}} {
		ra, okRA := hintAngle(h, k[0], true)
		dec, okDec := hintAngle(h, k[1], false)
		if okRA && okDec && ra >= 0 && ra < 360 && dec >= -90 && dec <= 90 {
			return ra, dec, true
		}
	}
	return 0, 0, false
}

// hintAngle reads a number of degrees or a sexagesimal string ("12 34 56.7", "+12:34:56");
// an RA string is in hours.
func hintAngle(h *fits.Header, key string, hours bool) (float64, bool) {
	if v, ok := h.Float(key); ok {
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	s, ok := h.String(key)
	if !ok {
		return 0, false
	}
	v, ok := parseSexagesimal(s)
	if ok && hours {
		v *= 15
	}
	return v, ok
}

// parseSexagesimal reads "[+-]D M S.s", "D:M:S.s", "D M.m" or a plain decimal string.
func parseSexagesimal(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' })
	if len(parts) == 0 || len(parts) > 3 {
		return 0, false
	}
	v, unit := 0.0, 1.0
	for i, p := range parts {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || (i > 0 && x >= 60) {
			return 0, false
		}
		v += x / unit
		unit *= 60
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseDateObs reads a FITS DATE-OBS (ISO 8601, UTC, optional fraction and 'Z', or a date
// alone).
func parseDateObs(s string) (time.Time, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
