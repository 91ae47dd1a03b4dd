package solve

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// sharedData returns ../shared/data beside the repository root, or skips the test.
func sharedData(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, "isaac_cutouts", "isaac_1.fits")); err != nil {
		t.Skipf("real test data absent (%s): %v", data, err)
	}
	return data
}

// headerBytes returns the primary header blocks of a real FITS file (gzip or not), END
// included: what a solver's header-only .wcs file looks like.
func headerBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	for i := 0; i+cardSize <= len(data); i += cardSize {
		if strings.TrimRight(string(data[i:i+cardSize]), " ") == "END" {
			end := (i/blockSize + 1) * blockSize
			return data[:end]
		}
	}
	t.Fatalf("%s: no END card", path)
	return nil
}

// realWCS reads the WCS of a real file, the reference a solution must reproduce.
func realWCS(t *testing.T, path string) *wcs.WCS {
	t.Helper()
	f, err := fits.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := f.Image("")
	require.NoError(t, err)
	w, err := wcs.FromHeader(img.Header)
	require.NoError(t, err)
	return w
}

// userFrame writes a small frame without WCS, with the hints a Seestar writes (RA/DEC in
// degrees, FOCALLEN, XPIXSZ), into a folder of its own; it returns the path and the header
// the pipeline would pass to Solve.
func userFrame(t *testing.T, gz bool) (string, *fits.Header) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "user data") // a space, as in real folders
	require.NoError(t, os.Mkdir(dir, 0o755))
	h := fits.NewHeader()
	h.Set("RA", 150.0, "")
	h.Set("DEC", 20.0, "")
	h.Set("FOCALLEN", 250.0, "")
	h.Set("XPIXSZ", 2.9, "")
	img := &fits.Image{Width: 64, Height: 48, Channels: 1, Pix: make([]float32, 64*48), Header: h}
	for i := range img.Pix {
		img.Pix[i] = float32(i % 97)
	}
	path := filepath.Join(dir, "light 001.fits")
	require.NoError(t, fits.Write(path, img, fits.WriteOptions{Bitpix: 16}))
	if gz {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err = zw.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, os.Remove(path))
		path += ".gz"
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	f, err := fits.Open(path)
	require.NoError(t, err)
	defer f.Close()
	im, err := f.Image("")
	require.NoError(t, err)
	return path, im.Header.Clone()
}

// snapshot is every file under dir with its bytes: the user's folder before and after.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	}))
	return out
}

// script writes an executable shell script named name into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
	return p
}

// calls reads the argument lines a fake solver appended to its log.
func calls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// emptyDir asserts dir holds nothing: every private working folder was removed.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, ents, "working folders left in %s", dir)
}
