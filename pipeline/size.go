package pipeline

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits maps suffixes to bytes. Binary and decimal units are both accepted because users
// write both ("512MiB", "2GB"); a bare number is bytes.
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseSize parses a memory size such as "256MiB", "2GiB", "1.5G", "512MB" or "1048576".
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v != v {
		return 0, fmt.Errorf("pipeline: invalid size %q (examples: 512MiB, 2GiB, 1.5G)", s)
	}
	b := v * float64(mult)
	if b > 1<<62 {
		return 0, fmt.Errorf("pipeline: size %q is too large", s)
	}
	return int64(b), nil
}

// FormatSize writes bytes in binary units with one decimal ("256.0 MiB").
func FormatSize(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// FormatSizeFlag writes bytes the way a user types them on a flag: "1GiB", "256MiB", or a
// plain byte count when no binary unit divides it.
func FormatSizeFlag(b int64) string {
	switch {
	case b > 0 && b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b > 0 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	}
	return fmt.Sprint(b)
}
