package wcs

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// mapHeader is a Header backed by a map, for synthetic headers.
type mapHeader map[string]any

func (h mapHeader) Float(key string) (float64, bool) {
	switch v := h[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

func (h mapHeader) String(key string) (string, bool) {
	v, ok := h[key].(string)
	return v, ok
}

// headerFromCards turns Cards() output back into a Header.
func headerFromCards(cards []Card) mapHeader {
	h := mapHeader{}
	for _, c := range cards {
		h[c.Key] = c.Value
	}
	return h
}

// findDataDir returns ../shared/data next to the repository root, or "" when absent.
func findDataDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(d, "wcs-reference.json")); err != nil {
		return ""
	}
	return d
}

// dataDir returns the shared data folder or skips the test.
func dataDir(t testing.TB) string {
	t.Helper()
	d := findDataDir()
	if d == "" {
		t.Skip("real test data ../shared/data/wcs-reference.json absent: skipping astropy comparison")
	}
	return d
}

type refPair struct {
	X, Y    float64
	RA, Dec float64
}

type refFile struct {
	File       string     `json:"file"`
	CType      [2]string  `json:"ctype"`
	RADESys    string     `json:"radesys"`
	Equinox    float64    `json:"equinox"`
	Shape      [2]int     `json:"shape_ny_nx"`
	HasSIP     bool       `json:"has_sip"`
	PixelScale [2]float64 `json:"pixel_scale_arcsec"`
	Pairs      []refPair  `json:"pairs"`
}

func loadReference(t testing.TB, dir string) []refFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "wcs-reference.json"))
	require.NoError(t, err)
	var ref struct {
		Files []refFile `json:"files"`
	}
	require.NoError(t, json.Unmarshal(b, &ref))
	require.NotEmpty(t, ref.Files)
	return ref.Files
}

// skyErr is the angular distance in degrees, small-angle form (|Δdec|, |Δra·cos dec|).
func skyErr(ra1, d1, ra2, d2 float64) float64 {
	dra := math.Remainder(ra1-ra2, 360) * math.Cos(d2*deg2rad)
	return math.Hypot(dra, d1-d2)
}

// tanWCS is a 1"/px north-up east-left TAN frame centred on (ra, dec).
func tanWCS(t testing.TB, proj string, ra, dec float64) *WCS {
	t.Helper()
	w, err := New(proj, [2]float64{ra, dec}, [2]float64{512.5, 512.5}, [2][2]float64{{-1.0 / 3600, 0}, {0, 1.0 / 3600}})
	require.NoError(t, err)
	return w
}
