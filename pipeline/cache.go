package pipeline

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// The preprocessing cache keeps each preprocessed frame (debayered, hot pixels corrected) as a
// float32 FITS file, so master tiles stream row bands of thousands of frames from disk
// (fits.ImageHDU.ReadRows) and a rerun after an interruption redoes only what is missing.
//
// An entry is two files in the cache folder (OUT_DIR/cache, never beside the user's frames):
// KEY.fits, the data, and KEY.json, its manifest (CacheManifest) holding the data file's size,
// modification time and SHA-256. The key hashes everything the data depends on (CacheKey).
//
// # Crash safety
//
// Both files are written under temporary names (".KEY.*.tmp"), synced, and renamed into
// place, the manifest last. A crash therefore leaves a temporary file (removed by the next
// OpenCache), or a data file without a manifest (a miss, overwritten by the next Put), never a
// manifest describing incomplete data. Lookup still checks the data against the manifest, so
// a file damaged or replaced later is rejected and removed, never reused.
//
// One run uses a cache folder at a time: OpenCache removes temporary files, which would break
// another run writing into the same folder.

// CacheDirName is the cache's folder name inside a run's output folder.
const CacheDirName = "cache"

// cacheFormatVersion changes whenever an entry's content or layout changes, so old entries
// stop matching (it is part of the key) instead of being misread.
const cacheFormatVersion = 1

// ErrCacheMiss is returned by Cache.Check when there is no usable entry for a key.
var ErrCacheMiss = errors.New("pipeline: cache miss")

// CacheOptions control a Cache. Start from DefaultCacheOptions.
type CacheOptions struct {
	// VerifyContent makes Lookup hash every entry's data (SHA-256, about 1 GB/s: 25 ms for a
	// 1080×1920 RGB frame) before reuse. Off, Lookup trusts the manifest when the data file's
	// size and modification time still match it, which catches truncation and rewrites but
	// not a flipped bit.
	VerifyContent bool `json:"cache_verify"`
}

// DefaultCacheOptions verifies content: resuming is rare and must never reuse bad data.
func DefaultCacheOptions() CacheOptions { return CacheOptions{VerifyContent: true} }

// CacheManifest describes one complete entry; it is written after its data.
type CacheManifest struct {
	Version       int             `json:"version"`
	Key           string          `json:"key"`
	Source        string          `json:"source"`          // input file the entry was made from
	SourceSize    int64           `json:"source_size"`     // bytes
	SourceModTime time.Time       `json:"source_mod_time"` //
	Options       json.RawMessage `json:"options"`         // preprocessing options, as hashed
	Size          int64           `json:"size"`            // bytes of KEY.fits
	ModTime       time.Time       `json:"mod_time"`        // of KEY.fits after its rename
	SHA256        string          `json:"sha256"`          // of KEY.fits, hex
	Width         int             `json:"width"`
	Height        int             `json:"height"`
	Channels      int             `json:"channels"`
}

// CacheSource is what an entry is made from: the input file as the scan saw it and the
// preprocessing options (any JSON-serialisable value, typically an options struct).
type CacheSource struct {
	Path    string // as the scan reports it; an absolute path keeps keys independent of the working folder
	Size    int64
	ModTime time.Time
	Options any
}

// CacheKey returns the entry key of src: the hex SHA-256 of the format version, path, size,
// modification time (nanoseconds, UTC) and the JSON of the options. Any change to the input
// file or to an option gives another key, so a stale entry is never found.
func CacheKey(src CacheSource) (string, error) {
	opt, err := json.Marshal(src.Options)
	if err != nil {
		return "", fmt.Errorf("pipeline: cache key of %s: options: %w", src.Path, err)
	}
	canon, err := json.Marshal(struct {
		Version int             `json:"version"`
		Path    string          `json:"path"`
		Size    int64           `json:"size"`
		ModTime int64           `json:"mod_time_ns"`
		Options json.RawMessage `json:"options"`
	}{cacheFormatVersion, src.Path, src.Size, src.ModTime.UnixNano(), opt})
	if err != nil {
		return "", fmt.Errorf("pipeline: cache key of %s: %w", src.Path, err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// Cache is a folder of preprocessed frames. Its methods may be called from several goroutines
// for different keys.
type Cache struct {
	dir string
	opt CacheOptions
}

// OpenCache opens (creating it if needed) the cache folder dir and removes the temporary files
// an interrupted run left there.
func OpenCache(dir string, opt CacheOptions) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pipeline: cache: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pipeline: cache: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(filepath.Join(dir, e.Name())) // a leftover; failing to remove it is harmless
		}
	}
	return &Cache{dir: dir, opt: opt}, nil
}

// Dir returns the cache folder.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) dataPath(key string) string     { return filepath.Join(c.dir, key+".fits") }
func (c *Cache) manifestPath(key string) string { return filepath.Join(c.dir, key+".json") }

// validKey guards the file names built from a key: a key is CacheKey's lower-case hex.
func validKey(key string) bool {
	if len(key) != 2*sha256.Size {
		return false
	}
	for _, r := range key {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// Lookup returns the data file of a complete, verified entry for key, ready for fits.Open and
// row-band reads. A missing entry gives ok = false; an entry that fails verification is
// removed and gives ok = false too (Check tells why).
func (c *Cache) Lookup(key string) (path string, ok bool) {
	path, err := c.Check(key)
	return path, err == nil
}

// Check is Lookup with the reason: nil, ErrCacheMiss when there is no entry, or an error
// naming what failed verification (the entry is then removed and the error wraps
// ErrCacheMiss too).
func (c *Cache) Check(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("%w: malformed key %q", ErrCacheMiss, key)
	}
	raw, err := os.ReadFile(c.manifestPath(key))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrCacheMiss
	}
	fail := func(format string, args ...any) (string, error) {
		c.Remove(key)
		return "", fmt.Errorf("%w: entry %s removed: %s", ErrCacheMiss, key, fmt.Sprintf(format, args...))
	}
	if err != nil {
		return fail("manifest: %v", err)
	}
	var m CacheManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fail("manifest: %v", err)
	}
	if m.Version != cacheFormatVersion || m.Key != key {
		return fail("manifest is for version %d, key %s", m.Version, m.Key)
	}
	data := c.dataPath(key)
	st, err := os.Stat(data)
	switch {
	case err != nil:
		return fail("data: %v", err)
	case st.Size() != m.Size:
		return fail("data is %d bytes, manifest says %d", st.Size(), m.Size)
	case !c.opt.VerifyContent && !st.ModTime().Equal(m.ModTime):
		return fail("data modified at %s, manifest says %s", st.ModTime(), m.ModTime)
	}
	if c.opt.VerifyContent {
		sum, err := hashFile(data)
		if err != nil {
			return fail("data: %v", err)
		}
		if sum != m.SHA256 {
			return fail("data SHA-256 %s, manifest says %s", sum, m.SHA256)
		}
	}
	return data, nil
}

// Put writes img as the entry for key (src goes into the manifest) and returns the data file's
// path. img is float32 CHW; NaN (no data) is kept. See the crash-safety notes above.
func (c *Cache) Put(key string, img *fits.Image, src CacheSource) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("pipeline: cache: malformed key %q", key)
	}
	opt, err := json.Marshal(src.Options)
	if err != nil {
		return "", fmt.Errorf("pipeline: cache entry for %s: options: %w", src.Path, err)
	}
	// An old manifest must not describe the new data while it is being replaced.
	if err := os.Remove(c.manifestPath(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("pipeline: cache: %w", err)
	}
	data := c.dataPath(key)
	var sum string
	err = writeAtomic(data, "."+key+".*.tmp", func(w io.Writer) error {
		h := sha256.New()
		if err := fits.Encode(io.MultiWriter(w, h), img, fits.WriteOptions{}); err != nil {
			return err
		}
		sum = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("pipeline: cache entry for %s: %w", src.Path, err)
	}
	st, err := os.Stat(data)
	if err != nil {
		return "", fmt.Errorf("pipeline: cache entry for %s: %w", src.Path, err)
	}
	m := CacheManifest{
		Version: cacheFormatVersion, Key: key,
		Source: src.Path, SourceSize: src.Size, SourceModTime: src.ModTime, Options: opt,
		Size: st.Size(), ModTime: st.ModTime(), SHA256: sum,
		Width: img.Width, Height: img.Height, Channels: img.Channels,
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("pipeline: cache entry for %s: %w", src.Path, err)
	}
	err = writeAtomic(c.manifestPath(key), "."+key+".*.tmp", func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("pipeline: cache entry for %s: %w", src.Path, err)
	}
	return data, nil
}

// Remove deletes key's entry, manifest first so that no moment shows a manifest without its
// data. Missing files are not an error.
func (c *Cache) Remove(key string) error {
	if !validKey(key) {
		return fmt.Errorf("pipeline: cache: malformed key %q", key)
	}
	for _, p := range []string{c.manifestPath(key), c.dataPath(key)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pipeline: cache: %w", err)
		}
	}
	return nil
}

// writeAtomic writes name through a temporary file (pattern as os.CreateTemp) in its folder:
// fill writes the content, which is synced before the rename so a crash cannot leave a renamed
// file with missing blocks.
func writeAtomic(name, pattern string, fill func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), pattern)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// hashFile returns the hex SHA-256 of a file's content.
func hashFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
