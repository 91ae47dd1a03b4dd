package pipeline

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/synth"
)

// scanSet writes a small Seestar-like 2×2 mosaic (3 frames per panel, field rotation, two
// truncated files, one frame without WCS) and returns its folder and frames.csv rows by file
// base name.
func scanSet(t *testing.T) (string, synth.Options, map[string]map[string]string) {
	t.Helper()
	o := synth.SeestarOptions()
	o.Width, o.Height, o.Stars, o.HotPixels, o.CosmicRays = 64, 96, 10, 2, 2
	o.Frames, o.Mosaic, o.FieldRotationDeg = 3, "2x2", 8
	o.Corrupt, o.NoWCS, o.Seed = 2, 1, 5
	dir := t.TempDir()
	_, err := synth.Write(context.Background(), dir, o, nil)
	require.NoError(t, err)

	fh, err := os.Open(filepath.Join(dir, synth.FramesCSV))
	require.NoError(t, err)
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	require.NoError(t, err)
	rows := map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, k := range recs[0] {
			m[k] = r[j]
		}
		rows[filepath.Base(m["file"])] = m
	}
	return dir, o, rows
}

// snapshot records every file under root (size, mtime, SHA-256) to prove a scan changed nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		st, err := os.Lstat(p)
		require.NoError(t, err)
		sum := ""
		if st.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			h := sha256.Sum256(data)
			sum = hex.EncodeToString(h[:])
		}
		out[p] = st.Mode().String() + " " + strconv.FormatInt(st.Size(), 10) + " " + st.ModTime().String() + " " + sum
		return nil
	}))
	return out
}

func gzipCopy(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	f, err := os.Create(dst)
	require.NoError(t, err)
	zw := gzip.NewWriter(f)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}

func TestScanDirReportsSeestarFramesAndBadInputs(t *testing.T) {
	dir, o, rows := scanSet(t)
	lights := filepath.Join(dir, synth.LightsDir)
	before := snapshot(t, dir)

	var events []compute.Event
	res, err := ScanDir(t.Context(), lights, DefaultScanOptions(), Hooks{Events: func(e compute.Event) { events = append(events, e) }})
	require.NoError(t, err)
	assert.Equal(t, before, snapshot(t, dir), "the scan changes nothing under the root")

	total := o.TotalFrames()
	require.Len(t, res.Frames, total)
	assert.Equal(t, 2, res.Unreadable)
	assert.Equal(t, 1, res.NoWCS)
	assert.Equal(t, total-3, res.Usable)
	for i := 1; i < len(res.Frames); i++ {
		assert.Less(t, res.Frames[i-1].Path, res.Frames[i].Path, "path order")
	}
	for _, f := range res.Frames {
		row := rows[filepath.Base(f.Path)]
		require.NotNil(t, row, f.Path)
		if row["corrupt"] == "true" {
			assert.NotEmpty(t, f.Error, "%s is truncated", f.Path)
			assert.Contains(t, f.Error, f.Path, "the reason names the file")
			assert.False(t, f.Usable())
			continue
		}
		require.Empty(t, f.Error, f.Path)
		assert.Equal(t, [4]int{64, 96, 1, 16}, [4]int{f.Width, f.Height, f.Channels, f.Bitpix})
		assert.Equal(t, "GRBG", f.Bayer)
		assert.Equal(t, 10.0, f.ExpTime)
		date, err := time.Parse("2006-01-02T15:04:05.000", row["date_obs"])
		require.NoError(t, err)
		assert.True(t, date.Equal(f.DateObs), "DATE-OBS of %s", f.Path)
		ra, _ := strconv.ParseFloat(row["ra"], 64)
		dec, _ := strconv.ParseFloat(row["dec"], 64)
		sep := sky.Separation(f.RA, f.Dec, ra, dec) * 3600
		if row["no_wcs"] == "true" {
			assert.False(t, f.Usable())
			assert.Nil(t, f.WCS)
			assert.NotEmpty(t, f.WCSError)
			assert.Equal(t, CentreFromHint, f.CentreFrom)
			assert.Less(t, sep, 60.0, "the pointing hint is within a minute of arc")
			continue
		}
		assert.True(t, f.Usable(), f.Path)
		assert.Equal(t, CentreFromWCS, f.CentreFrom)
		assert.Less(t, sep, 1e-4, "the WCS centre is the true centre")
	}

	keys := map[string]int{}
	for _, e := range events {
		keys[e.Key]++
	}
	assert.Equal(t, map[string]int{"scan_frame_unreadable": 2, "scan_frame_no_wcs": 1, "scan_done": 1}, keys)
}

func TestScanDirFindsFITSNamesRecursivelyAndSkipsTheRest(t *testing.T) {
	dir, _, _ := scanSet(t)
	first := filepath.Join(dir, synth.LightsDir, "frame_0001.fits")
	root := filepath.Join(dir, "in")
	for _, d := range []string{"night1/sub", ".hidden", "out/cache"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	copyFile(t, first, filepath.Join(root, "night1", "a.fit"))
	copyFile(t, first, filepath.Join(root, "night1", "sub", "B.FTS"))
	gzipCopy(t, first, filepath.Join(root, "night1", "c.fits.gz"))
	copyFile(t, first, filepath.Join(root, "d.Fits"))
	copyFile(t, first, filepath.Join(root, ".hidden", "e.fits"))
	copyFile(t, first, filepath.Join(root, "out", "cache", "f.fits"))
	copyFile(t, first, filepath.Join(root, "night1", ".g.fits"))
	require.NoError(t, os.WriteFile(filepath.Join(root, "notes.txt"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "night1", "h.fits.bak"), []byte("x"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(root, "night1"), filepath.Join(root, "link.fits")))

	opt := DefaultScanOptions()
	opt.Exclude = []string{filepath.Join(root, "out")}
	res, err := ScanDir(t.Context(), root, opt, Hooks{})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Frames {
		rel, err := filepath.Rel(root, f.Path)
		require.NoError(t, err)
		got = append(got, rel)
		assert.True(t, f.Usable(), "%s: %s %s", rel, f.Error, f.WCSError)
	}
	assert.Equal(t, []string{"d.Fits", "night1/a.fit", "night1/c.fits.gz", "night1/sub/B.FTS"}, got)
	assert.Equal(t, res.Frames[0].RA, res.Frames[2].RA, "the gzip copy has the same header")
}

func TestScanDirDoesNotDependOnWorkers(t *testing.T) {
	dir, _, _ := scanSet(t)
	lights := filepath.Join(dir, synth.LightsDir)
	var want []byte
	for _, w := range []int{1, 3, 16} {
		opt := DefaultScanOptions()
		opt.Workers = w
		res, err := ScanDir(t.Context(), lights, opt, Hooks{})
		require.NoError(t, err)
		res.HeaderTotal = 0
		got, err := json.Marshal(res)
		require.NoError(t, err)
		if want == nil {
			want = got
			continue
		}
		assert.JSONEq(t, string(want), string(got), "workers = %d", w)
	}
}

func TestScanDirReportsAnImplausibleWCS(t *testing.T) {
	dir, _, _ := scanSet(t)
	opt := DefaultScanOptions()
	opt.WCS.MinScaleArcsec, opt.WCS.MaxScaleArcsec = 0.3, 2 // the frames are 2.39"/px
	res, err := ScanDir(t.Context(), filepath.Join(dir, synth.LightsDir), opt, Hooks{})
	require.NoError(t, err)
	assert.Zero(t, res.Usable)
	scale := 0
	for _, f := range res.Frames {
		if f.Error == "" {
			if strings.Contains(strings.ToLower(f.WCSError), "scale") {
				scale++
			}
			assert.Equal(t, CentreFromHint, f.CentreFrom, "the hint still places it")
		}
	}
	assert.Equal(t, len(res.Frames)-3, scale, "every frame with a WCS is refused for its scale")
}

func TestScanDirErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.fits")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := ScanDir(t.Context(), filepath.Join(dir, "missing"), DefaultScanOptions(), Hooks{})
	assert.Error(t, err)
	_, err = ScanDir(t.Context(), file, DefaultScanOptions(), Hooks{})
	assert.ErrorContains(t, err, "not a folder")
	opt := DefaultScanOptions()
	opt.Workers = -1
	_, err = ScanDir(t.Context(), dir, opt, Hooks{})
	assert.Error(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = ScanDir(ctx, dir, DefaultScanOptions(), Hooks{})
	assert.ErrorIs(t, err, context.Canceled)

	res, err := ScanDir(t.Context(), dir, DefaultScanOptions(), Hooks{})
	require.NoError(t, err)
	require.Len(t, res.Frames, 1)
	assert.Contains(t, res.Frames[0].Error, "x.fits", "a one-byte file is listed as unreadable")
}

func TestPointingHintsAndDates(t *testing.T) {
	hdr := func(cards map[string]any) *fits.Header {
		h := fits.NewHeader()
		for k, v := range cards {
			h.Set(k, v, "")
		}
		return h
	}
	hints := []struct {
		name    string
		cards   map[string]any
		ra, dec float64
		ok      bool
	}{
		{"RA/DEC in degrees", map[string]any{"RA": 83.82, "DEC": -5.39}, 83.82, -5.39, true},
		{"OBJCTRA/OBJCTDEC sexagesimal", map[string]any{"OBJCTRA": "05 35 16.80", "OBJCTDEC": "-05 23 24.0"}, 83.82, -5.39, true},
		{"colon separators", map[string]any{"OBJCTRA": "12:00:00", "OBJCTDEC": "+45:30:00"}, 180, 45.5, true},
		{"degrees win over sexagesimal", map[string]any{"RA": 10.0, "DEC": 20.0, "OBJCTRA": "05 35 16.80", "OBJCTDEC": "-05 23 24.0"}, 10, 20, true},
		{"out-of-range RA/DEC falls back", map[string]any{"RA": 400.0, "DEC": 0.0, "OBJCTRA": "01 00 00", "OBJCTDEC": "+01 00 00"}, 15, 1, true},
		{"minutes of 60 are refused", map[string]any{"OBJCTRA": "05 60 00", "OBJCTDEC": "+01 00 00"}, 0, 0, false},
		{"no keys", map[string]any{"OBJECT": "M42"}, 0, 0, false},
	}
	for _, tc := range hints {
		t.Run(tc.name, func(t *testing.T) {
			ra, dec, ok := PointingHint(hdr(tc.cards))
			require.Equal(t, tc.ok, ok)
			assert.InDelta(t, tc.ra, ra, 1e-9)
			assert.InDelta(t, tc.dec, dec, 1e-9)
		})
	}
	dates := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-01-15T21:00:10.500", time.Date(2024, 1, 15, 21, 0, 10, 5e8, time.UTC), true},
		{"2024-01-15T21:00:10", time.Date(2024, 1, 15, 21, 0, 10, 0, time.UTC), true},
		{"2024-01-15T21:00:10.123456Z", time.Date(2024, 1, 15, 21, 0, 10, 123456000, time.UTC), true},
		{"2024-01-15", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), true},
		{"15/01/24", time.Time{}, false},
	}
	for _, tc := range dates {
		got, ok := parseDateObs(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: %v", tc.in, got)
	}
}
