package pipeline

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
)

type cacheTestOptions struct {
	Bayer     string  `json:"bayer"`
	HotSigma  float64 `json:"hot_sigma"`
	Gradient  bool    `json:"gradient"`
	Unchanged int     `json:"unchanged"`
}

func cacheSource() CacheSource {
	return CacheSource{
		Path:    "/data/night1/Light_M42_10.0s_0001.fit",
		Size:    4147200,
		ModTime: time.Date(2024, 1, 15, 21, 0, 0, 123456789, time.UTC),
		Options: cacheTestOptions{Bayer: "GRBG", HotSigma: 3},
	}
}

// cacheImage is a small RGB frame with a NaN (no data) pixel.
func cacheImage() *fits.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	img := &fits.Image{Width: 37, Height: 23, Channels: 3, Pix: make([]float32, 37*23*3)}
	for i := range img.Pix {
		img.Pix[i] = float32(rng.NormFloat64()*30 + 1000)
	}
	img.Pix[5] = float32(math.NaN())
	return img
}

func putEntry(t *testing.T, c *Cache, src CacheSource) (string, string) {
	t.Helper()
	key, err := CacheKey(src)
	require.NoError(t, err)
	path, err := c.Put(key, cacheImage(), src)
	require.NoError(t, err)
	return key, path
}

func TestCacheKeyChangesWithEveryInput(t *testing.T) {
	base, err := CacheKey(cacheSource())
	require.NoError(t, err)
	again, err := CacheKey(cacheSource())
	require.NoError(t, err)
	assert.Equal(t, base, again, "a key depends on its inputs only")
	assert.True(t, validKey(base))
	tests := []struct {
		name string
		edit func(*CacheSource)
	}{
		{"another path", func(s *CacheSource) { s.Path += ".bak" }},
		{"another size", func(s *CacheSource) { s.Size++ }},
		{"a newer mtime", func(s *CacheSource) { s.ModTime = s.ModTime.Add(time.Nanosecond) }},
		{"another option", func(s *CacheSource) { s.Options = cacheTestOptions{Bayer: "RGGB", HotSigma: 3} }},
		{"another option value", func(s *CacheSource) { s.Options = cacheTestOptions{Bayer: "GRBG", HotSigma: 3, Gradient: true} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := cacheSource()
			tc.edit(&s)
			k, err := CacheKey(s)
			require.NoError(t, err)
			assert.NotEqual(t, base, k)
		})
	}
	_, err = CacheKey(CacheSource{Path: "x", Options: func() {}})
	assert.Error(t, err, "options that do not serialise")
}

func TestCacheHitReturnsTheStoredFrameForBandReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", CacheDirName)
	for _, opt := range []CacheOptions{DefaultCacheOptions(), {VerifyContent: false}} {
		c, err := OpenCache(dir, opt)
		require.NoError(t, err)
		key, path := putEntry(t, c, cacheSource())
		got, ok := c.Lookup(key)
		require.True(t, ok)
		assert.Equal(t, path, got)
		assert.Equal(t, dir, filepath.Dir(got), "entries live in the cache folder")

		f, err := fits.Open(got)
		require.NoError(t, err)
		hdu, err := f.Image("")
		require.NoError(t, err)
		want := cacheImage()
		assert.Equal(t, [3]int{want.Width, want.Height, want.Channels}, [3]int{hdu.Width, hdu.Height, hdu.Channels})
		assert.Equal(t, -32, hdu.Bitpix)
		band := make([]float32, 5*want.Width)
		require.NoError(t, hdu.ReadRows(2, 10, 15, band))
		off := (2*want.Height + 10) * want.Width
		for i, v := range band {
			assert.Equal(t, math.Float32bits(want.Pix[off+i]), math.Float32bits(v), "band pixel %d", i)
		}
		all, err := hdu.ReadImage()
		require.NoError(t, err)
		assert.True(t, math.IsNaN(float64(all.Pix[5])), "NaN stays no-data")
		require.NoError(t, f.Close())
	}
}

func TestCacheMissesChangedInputs(t *testing.T) {
	c, err := OpenCache(t.TempDir(), DefaultCacheOptions())
	require.NoError(t, err)
	putEntry(t, c, cacheSource())
	for _, edit := range []func(*CacheSource){
		func(s *CacheSource) { s.ModTime = s.ModTime.Add(time.Second) },
		func(s *CacheSource) { s.Options = cacheTestOptions{Bayer: "GRBG", HotSigma: 2.5} },
	} {
		s := cacheSource()
		edit(&s)
		key, err := CacheKey(s)
		require.NoError(t, err)
		_, ok := c.Lookup(key)
		assert.False(t, ok)
		_, err = c.Check(key)
		assert.ErrorIs(t, err, ErrCacheMiss)
	}
}

func TestCacheRejectsDamagedEntries(t *testing.T) {
	tests := []struct {
		name   string
		opt    CacheOptions
		damage func(t *testing.T, data, manifest string)
	}{
		{"a flipped byte is caught by the content hash", DefaultCacheOptions(), func(t *testing.T, data, _ string) {
			flipByte(t, data, 2880+100)
		}},
		{"a truncated data file is caught by its size", CacheOptions{}, func(t *testing.T, data, _ string) {
			require.NoError(t, os.Truncate(data, 2880))
		}},
		{"a rewritten data file is caught by its mtime", CacheOptions{}, func(t *testing.T, data, _ string) {
			flipByte(t, data, 2880+100)
			later := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(data, later, later))
		}},
		{"data without its manifest (crash before the manifest) is a miss", DefaultCacheOptions(), func(t *testing.T, _, manifest string) {
			require.NoError(t, os.Remove(manifest))
		}},
		{"a manifest without its data is a miss", DefaultCacheOptions(), func(t *testing.T, data, _ string) {
			require.NoError(t, os.Remove(data))
		}},
		{"a garbled manifest is a miss", DefaultCacheOptions(), func(t *testing.T, _, manifest string) {
			require.NoError(t, os.WriteFile(manifest, []byte("{\"version\": 1, \"key\""), 0o644))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := OpenCache(t.TempDir(), tc.opt)
			require.NoError(t, err)
			key, data := putEntry(t, c, cacheSource())
			tc.damage(t, data, c.manifestPath(key))
			_, err = c.Check(key)
			require.ErrorIs(t, err, ErrCacheMiss)
			_, ok := c.Lookup(key)
			assert.False(t, ok)
			_, statErr := os.Stat(c.manifestPath(key))
			assert.ErrorIs(t, statErr, os.ErrNotExist, "a bad entry never keeps its manifest")

			path, err := c.Put(key, cacheImage(), cacheSource())
			require.NoError(t, err, "a bad entry is simply rewritten")
			got, ok := c.Lookup(key)
			assert.True(t, ok)
			assert.Equal(t, path, got)
		})
	}
}

func TestOpenCacheRemovesInterruptedWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir, DefaultCacheOptions())
	require.NoError(t, err)
	key, _ := putEntry(t, c, cacheSource())
	leftover := filepath.Join(dir, "."+key+".123456.tmp")
	require.NoError(t, os.WriteFile(leftover, []byte("SIMPLE  =                    T"), 0o644))

	c, err = OpenCache(dir, DefaultCacheOptions())
	require.NoError(t, err)
	_, err = os.Stat(leftover)
	assert.ErrorIs(t, err, os.ErrNotExist, "temporary files of a crashed run are removed")
	_, ok := c.Lookup(key)
	assert.True(t, ok, "complete entries survive reopening")
}

func TestCacheRefusesMalformedKeys(t *testing.T) {
	c, err := OpenCache(t.TempDir(), DefaultCacheOptions())
	require.NoError(t, err)
	for _, key := range []string{"", "../../etc/passwd", "ABCDEF", string(make([]byte, 64))} {
		_, ok := c.Lookup(key)
		assert.False(t, ok)
		_, err := c.Put(key, cacheImage(), cacheSource())
		assert.Error(t, err)
		assert.Error(t, c.Remove(key))
	}
}

func flipByte(t *testing.T, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

func BenchmarkCacheLookupVerified(b *testing.B) {
	c, err := OpenCache(b.TempDir(), DefaultCacheOptions())
	require.NoError(b, err)
	img := &fits.Image{Width: 1080, Height: 1920, Channels: 3, Pix: make([]float32, 1080*1920*3)}
	src := cacheSource()
	key, err := CacheKey(src)
	require.NoError(b, err)
	_, err = c.Put(key, img, src)
	require.NoError(b, err)
	b.SetBytes(int64(len(img.Pix) * 4))
	for b.Loop() {
		if _, ok := c.Lookup(key); !ok {
			b.Fatal("miss")
		}
	}
}
