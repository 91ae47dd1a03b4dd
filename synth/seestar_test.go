package synth

import (
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// seestarSmall is the Seestar preset shrunk for tests: a 2×1 mosaic of 4 small frames per
// panel with field rotation, two corrupt files and one frame without WCS.
func seestarSmall() Options {
	o := SeestarOptions()
	o.Width, o.Height = 64, 96
	o.Stars = 20
	o.HotPixels = 4
	o.CosmicRays = 4
	o.Frames = 4
	o.Mosaic = "2x1"
	o.FieldRotationDeg = 12
	o.Corrupt = 2
	o.NoWCS = 1
	o.Seed = 11
	return o
}

func TestSeestarPresetIsS50Like(t *testing.T) {
	o := SeestarOptions()
	require.NoError(t, o.Validate())
	assert.Equal(t, 1080, o.Width)
	assert.Equal(t, 1920, o.Height)
	assert.Equal(t, "GRBG", o.Bayer)
	assert.True(t, o.Seestar)
	f, err := GenerateFrame(func() Options { p := o; p.Width, p.Height, p.Stars = 108, 192, 10; return p }(), 0)
	require.NoError(t, err)
	px, _ := f.Value("XPIXSZ")
	assert.InDelta(t, 2.9, px.(float64), 0.01, "2.9 µm pixels behind 250 mm")
}

func TestValidateRejectsBadSeestarOptions(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"field rotation beyond 90 degrees", func(o *Options) { o.FieldRotationDeg = 91 }},
		{"NaN field rotation", func(o *Options) { o.FieldRotationDeg = math.NaN() }},
		{"negative corrupt count", func(o *Options) { o.Corrupt = -1 }},
		{"negative no-wcs count", func(o *Options) { o.NoWCS = -1 }},
		{"more injections than frames", func(o *Options) { o.Corrupt, o.NoWCS = 5, 4 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := seestarSmall()
			tc.edit(&o)
			require.ErrorIs(t, o.Validate(), ErrInvalidOptions)
			_, _, err := Injected(o)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
}

func TestFieldRotationTurnsEachPanelsFramesAboutTheirCentre(t *testing.T) {
	o := seestarSmall()
	o.RotateDeg = 5
	for p := range 2 {
		var rots []float64
		first, err := FrameWCS(o, p*o.Frames)
		require.NoError(t, err)
		for j := range o.Frames {
			w, err := FrameWCS(o, p*o.Frames+j)
			require.NoError(t, err)
			rots = append(rots, w.Rotation())
			assert.Equal(t, first.CRVal, w.CRVal, "frames of a panel share their centre without dithers")
		}
		assert.InDelta(t, o.RotateDeg-6, rots[0], 1e-6, "first frame at -half the field rotation")
		assert.InDelta(t, o.RotateDeg+6, rots[o.Frames-1], 1e-6, "last frame at +half")
		for j := 1; j < len(rots); j++ {
			assert.Greater(t, rots[j], rots[j-1], "rotation advances frame after frame")
		}
	}
}

func TestRotatedFramesStayInsideTheCatalogueRegion(t *testing.T) {
	o := seestarSmall()
	o.FieldRotationDeg = 60 // corners swing far out of the unturned frame
	o.DitherPx = 8
	sc, err := newSkyScene(o)
	require.NoError(t, err)
	for i := range o.TotalFrames() {
		w, err := sc.layout.frameWCS(o, sc.master, i)
		require.NoError(t, err)
		for _, c := range w.Footprint(o.Width, o.Height, 2) {
			x, y, err := sc.master.WorldToPixel(c[0], c[1])
			require.NoError(t, err)
			assert.True(t, x >= -0.5 && x <= float64(sc.layout.rw)-0.5 && y >= -0.5 && y <= float64(sc.layout.rh)-0.5,
				"frame %d corner (%.1f, %.1f) outside the %dx%d catalogue region", i, x, y, sc.layout.rw, sc.layout.rh)
		}
	}
}

func TestInjectedFramesAreSeededDisjointAndCounted(t *testing.T) {
	o := seestarSmall()
	o.Frames = 20
	o.Corrupt, o.NoWCS = 3, 4
	c1, n1, err := Injected(o)
	require.NoError(t, err)
	c2, n2, err := Injected(o)
	require.NoError(t, err)
	assert.Equal(t, c1, c2)
	assert.Equal(t, n1, n2)
	assert.Len(t, c1, 3)
	assert.Len(t, n1, 4)
	for _, i := range c1 {
		assert.NotContains(t, n1, i, "a frame is either corrupt or without WCS")
	}
	o.Seed++
	c3, n3, err := Injected(o)
	require.NoError(t, err)
	assert.False(t, assert.ObjectsAreEqual(c1, c3) && assert.ObjectsAreEqual(n1, n3), "another seed picks other frames")
}

func TestInjectionDoesNotChangePixels(t *testing.T) {
	o := seestarSmall()
	clean := o
	clean.Corrupt, clean.NoWCS = 0, 0
	_, noWCS, err := Injected(o)
	require.NoError(t, err)
	for _, i := range []int{0, noWCS[0]} {
		a, err := GenerateFrame(o, i)
		require.NoError(t, err)
		b, err := GenerateFrame(clean, i)
		require.NoError(t, err)
		requireBitIdentical(t, b.Pix, a.Pix, "frame "+strconv.Itoa(i))
	}
}

func TestWriteSeestarSetHasS50FramesHintsAndInjectedFaults(t *testing.T) {
	o := seestarSmall()
	dir := t.TempDir()
	paths, err := Write(context.Background(), dir, o, nil)
	require.NoError(t, err)
	total := o.TotalFrames()
	require.Len(t, paths, total+3)
	assert.Equal(t, filepath.Join(dir, FramesCSV), paths[total])

	corrupt, noWCS, err := Injected(o)
	require.NoError(t, err)
	rows := readFramesCSV(t, filepath.Join(dir, FramesCSV))
	require.Len(t, rows, total)

	var prev time.Time
	for i, p := range paths[:total] {
		row := rows[i]
		assert.Equal(t, filepath.Join(LightsDir, filepath.Base(p)), row["file"])
		assert.Equal(t, strconv.Itoa(i/o.Frames), row["panel"])
		f, err := fits.Open(p)
		if contains(corrupt, i) {
			assert.Equal(t, "true", row["corrupt"])
			require.Error(t, err, "frame %d is truncated", i)
			assert.True(t, errors.Is(err, fits.ErrTruncated) || errors.Is(err, fits.ErrNotFITS), "frame %d: %v", i, err)
			continue
		}
		require.NoError(t, err, "frame %d", i)
		hdu, err := f.Image("")
		require.NoError(t, err)
		h := hdu.Header
		assert.Equal(t, 16, hdu.Bitpix)
		assert.Equal(t, [2]int{o.Width, o.Height}, [2]int{hdu.Width, hdu.Height})
		bzero, _ := h.Float("BZERO")
		assert.Equal(t, 32768.0, bzero)
		pat, _ := h.String("BAYERPAT")
		assert.Equal(t, "GRBG", pat)
		eq, _ := h.Int("EQMODE")
		assert.Equal(t, int64(0), eq, "field rotation means alt-az")
		exp, _ := h.Float("EXPTIME")
		assert.Positive(t, exp)
		ds, _ := h.String("DATE-OBS")
		date, err := time.Parse(dateLayout, ds)
		require.NoError(t, err)
		assert.True(t, date.After(prev), "DATE-OBS advances: frame %d", i)
		prev = date

		ra, okRA := h.Float("RA")
		dec, okDec := h.Float("DEC")
		require.True(t, okRA && okDec, "frame %d has pointing hints", i)
		_, okObj := h.String("OBJCTRA")
		assert.True(t, okObj)
		trueRA, _ := strconv.ParseFloat(row["ra"], 64)
		trueDec, _ := strconv.ParseFloat(row["dec"], 64)
		assert.Less(t, sky.Separation(ra, dec, trueRA, trueDec)*3600, hintErrorArcsec*math.Sqrt2+1e-6, "hint near the true centre")

		_, hasCtype := h.String("CTYPE1")
		if contains(noWCS, i) {
			assert.Equal(t, "true", row["no_wcs"])
			assert.False(t, hasCtype, "frame %d has no WCS keys", i)
			_, err := wcs.FromHeader(h)
			assert.Error(t, err)
		} else {
			w, err := wcs.FromHeader(h)
			require.NoError(t, err, "frame %d", i)
			cra, cdec, err := w.PixelToWorld(float64(o.Width-1)/2, float64(o.Height-1)/2)
			require.NoError(t, err)
			assert.Less(t, sky.Separation(cra, cdec, trueRA, trueDec)*3600, 1e-6, "frames.csv holds the WCS centre")
			rot, _ := strconv.ParseFloat(row["rotation_deg"], 64)
			assert.InDelta(t, rot, w.Rotation(), 1e-6)
		}
		require.NoError(t, f.Close())
	}
}

func TestSexagesimal(t *testing.T) {
	tests := []struct {
		name   string
		v      float64
		signed bool
		want   string
	}{
		{"hours", 5.5880, false, "05 35 16.80"},
		{"rounding carries into the minutes", 1.0 + 59.999999/3600, false, "01 01 00.00"},
		{"negative declination", -5.39, true, "-05 23 24.0"},
		{"positive declination", 89.5, true, "+89 30 00.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sexagesimal(tc.v, tc.signed))
		})
	}
}

func readFramesCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	fh, err := os.Open(name)
	require.NoError(t, err)
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	require.NoError(t, err)
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, k := range recs[0] {
			m[k] = r[j]
		}
		rows = append(rows, m)
	}
	return rows
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
