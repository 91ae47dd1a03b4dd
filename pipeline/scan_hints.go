package pipeline

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// pointingHint returns the telescope's pointing from header keys, degrees: RA/DEC as numbers
// of degrees (Seestar, NINA), else OBJCTRA (hours) / OBJCTDEC (degrees) as sexagesimal strings
// separated by spaces or colons. A mount's pointing can be off by arcminutes: it places a
// frame for a solver or a report, never for stacking.
func pointingHint(h *fits.Header) (ra, dec float64, ok bool) {
	ra, okRA := h.Float("RA")
	dec, okDec := h.Float("DEC")
	if okRA && okDec && ra >= 0 && ra <= 360 && dec >= -90 && dec <= 90 {
		return math.Mod(ra, 360), dec, true
	}
	sra, okRA := h.String("OBJCTRA")
	sdec, okDec := h.String("OBJCTDEC")
	if !okRA || !okDec {
		return 0, 0, false
	}
	hours, okRA := parseSexagesimal(sra)
	dec, okDec = parseSexagesimal(sdec)
	if !okRA || !okDec || hours < 0 || hours >= 24 || dec < -90 || dec > 90 {
		return 0, 0, false
	}
	return hours * 15, dec, true
}

// parseSexagesimal reads "[+-]D M S.s", "D:M:S.s" or "D M.m" as a decimal value.
func parseSexagesimal(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' })
	if len(parts) == 0 || len(parts) > 3 {
		return 0, false
	}
	v, scale := 0.0, 1.0
	for i, p := range parts {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || x < 0 || (i > 0 && x >= 60) {
			return 0, false
		}
		v += x / scale
		scale *= 60
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
