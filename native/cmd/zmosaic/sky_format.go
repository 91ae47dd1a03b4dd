package main

import (
	"fmt"
	"math"
)

func sqrt(v float64) float64 { return math.Sqrt(v) }

// sexagesimal formats RA/Dec in degrees as "RA 05h35m16.80s  Dec -05°23'24.0"  (83.82000, -5.39000)".
func sexagesimal(ra, dec float64) string {
	h := math.Mod(ra/15+24, 24)
	hh := math.Floor(h)
	mm := math.Floor((h - hh) * 60)
	ss := ((h-hh)*60 - mm) * 60
	sign := "+"
	if dec < 0 {
		sign = "-"
	}
	d := math.Abs(dec)
	dd := math.Floor(d)
	dm := math.Floor((d - dd) * 60)
	ds := ((d-dd)*60 - dm) * 60
	return fmt.Sprintf("%02.0fh%02.0fm%05.2fs %s%02.0f°%02.0f'%04.1f\"  (%.6f, %.6f)", hh, mm, ss, sign, dd, dm, ds, ra, dec)
}
