package fits

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astrogo/fitsio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testImage is a deterministic image (no randomness needed) with NaN, a NaN payload,
// -Inf and a subnormal, plus a header exercising every card kind.
func testImage(w, h, c int) *Image {
	img := &Image{Width: w, Height: h, Channels: c, Pix: make([]float32, w*h*c), Header: NewHeader()}
	for i := range img.Pix {
		img.Pix[i] = float32(i)*0.37 - 11
	}
	img.Pix[0] = nan32
	img.Pix[len(img.Pix)-1] = float32(math.Inf(-1))
	img.Pix[1] = math.SmallestNonzeroFloat32
	img.Pix[2] = math.Float32frombits(0x7fc00001) // a NaN with payload
	hdr := img.Header
	hdr.Set("BITPIX", 16, "stale structural key, regenerated")
	hdr.Set("NAXIS1", 99, "stale")
	hdr.Set("BZERO", 32768, "must not survive: data are float")
	hdr.Set("CTYPE1", "RA---TAN", "")
	hdr.Set("CRVAL1", 265.1234567890123, "[deg] full double precision")
	hdr.Set("CRVAL2", -30.86916, "")
	hdr.Set("CD1_1", 4.12222e-05, "")
	hdr.Set("EXPTIME", float32(0.1), "float32 stays 0.1")
	hdr.Set("NFRAMES", 1234, "")
	hdr.Set("STACKED", true, "")
	hdr.Set("UNDEF", nil, "undefined value")
	hdr.Set("OBJECT", "M 31 'Andromeda'", "quotes are doubled")
	hdr.Set("LONGSTR", strings.Repeat("abcdefghij", 20)+"''x", "a comment on a long string")
	hdr.Set("ESO DET DIT", 1.5, "HIERARCH")
	hdr.Add("HISTORY", nil, "stacked with zmosaic")
	hdr.Add("HISTORY", nil, strings.Repeat("h", 100))
	hdr.Add("COMMENT", nil, "  indented comment")
	return img
}

func TestWriteRoundTrip(t *testing.T) {
	for _, ch := range []int{1, 3} {
		t.Run(map[int]string{1: "mono", 3: "RGB cube"}[ch]+" round-trips bit for bit with header and ALPHA", func(t *testing.T) {
			img := testImage(37, 23, ch)
			alpha := make([]uint8, 37*23)
			for i := range alpha {
				alpha[i] = uint8(i * 7)
			}
			p := filepath.Join(t.TempDir(), "out.fits")
			require.NoError(t, Write(p, img, WriteOptions{Alpha: alpha}))
			st, err := os.Stat(p)
			require.NoError(t, err)
			assert.Zero(t, st.Size()%blockSize)

			f, err := Open(p)
			require.NoError(t, err)
			defer f.Close()
			assert.Empty(t, f.Warnings)
			h, err := f.Image("")
			require.NoError(t, err)
			assert.Equal(t, []int{0, -32, 37, 23, ch}, []int{h.Index, h.Bitpix, h.Width, h.Height, h.Channels})
			got, err := h.ReadImage()
			require.NoError(t, err)
			require.Len(t, got.Pix, len(img.Pix))
			for i := range img.Pix {
				require.Equal(t, math.Float32bits(img.Pix[i]), math.Float32bits(got.Pix[i]), "pixel %d", i)
			}

			want := img.Header.Cards()
			var kept []Card
			for _, c := range got.Header.Cards() {
				if !structural.MatchString(c.Key) {
					kept = append(kept, c)
				}
			}
			// The commentary card longer than 72 characters is split in two.
			wantSplit := append([]Card{}, want[3:]...)
			for i, c := range wantSplit {
				if c.Key == "HISTORY" && len(c.Comment) == 100 {
					wantSplit = append(wantSplit[:i:i], append([]Card{{Key: "HISTORY", Comment: c.Comment[:72]}, {Key: "HISTORY", Comment: c.Comment[72:]}}, wantSplit[i+1:]...)...)
					break
				}
			}
			assert.Equal(t, wantSplit, kept)
			v, _ := got.Header.Float("CRVAL1")
			assert.Equal(t, 265.1234567890123, v)
			b, _ := got.Header.Int("BITPIX")
			assert.Equal(t, int64(-32), b)
			_, hasBZero := got.Header.Get("BZERO")
			assert.False(t, hasBZero)

			a, ok, err := ReadAlpha(f)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, alpha, a)

			t.Run("fitsio reads the file", func(t *testing.T) {
				r, err := os.Open(p)
				require.NoError(t, err)
				defer r.Close()
				ff, err := fitsio.Open(r)
				require.NoError(t, err)
				defer ff.Close()
				require.Len(t, ff.HDUs(), 2)
				hdr := ff.HDU(0).Header()
				assert.Equal(t, -32, hdr.Bitpix())
				assert.Equal(t, 265.1234567890123, hdr.Get("CRVAL1").Value)
				assert.Equal(t, "M 31 'Andromeda'", hdr.Get("OBJECT").Value)
				long, _ := img.Header.String("LONGSTR")
				assert.Equal(t, long, hdr.Get("LONGSTR").Value)
				pix := make([]float32, len(img.Pix))
				require.NoError(t, ff.HDU(0).(fitsio.Image).Read(&pix))
				require.Len(t, pix, len(img.Pix))
				assert.Equal(t, math.Float32bits(img.Pix[5]), math.Float32bits(pix[5]))
				assert.Equal(t, "ALPHA", ff.HDU(1).Name())
				assert.Equal(t, alpha, ff.HDU(1).(fitsio.Image).Raw()[:len(alpha)])
			})
		})
	}
}

func TestWriteWithoutAlphaHasOneHDU(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, &Image{Width: 2, Height: 2, Channels: 1, Pix: []float32{1, 2, 3, 4}}, WriteOptions{}))
	assert.Equal(t, 2*blockSize, buf.Len(), "one header block and one data block")
	f, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem")
	require.NoError(t, err)
	assert.Len(t, f.Images, 1)
	_, ok, err := ReadAlpha(f)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestWriteInvalidInput(t *testing.T) {
	nanHdr := NewHeader()
	nanHdr.Set("BAD", math.NaN(), "")
	tests := []struct {
		name string
		img  *Image
		opt  WriteOptions
		want string
	}{
		{"nil image", nil, WriteOptions{}, "nil image"},
		{"zero size", &Image{Channels: 1}, WriteOptions{}, "size"},
		{"two channels", &Image{Width: 1, Height: 1, Channels: 2, Pix: make([]float32, 2)}, WriteOptions{}, "2 channels"},
		{"short Pix", &Image{Width: 2, Height: 2, Channels: 1, Pix: make([]float32, 3)}, WriteOptions{}, "Pix holds 3"},
		{"short Alpha", &Image{Width: 2, Height: 2, Channels: 1, Pix: make([]float32, 4)}, WriteOptions{Alpha: make([]uint8, 3)}, "Alpha holds 3"},
		{"NaN header value", &Image{Width: 1, Height: 1, Channels: 1, Pix: make([]float32, 1), Header: nanHdr}, WriteOptions{}, "BAD"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is an error", func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, tc.img, tc.opt)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestEncodeReportsWriterFailure(t *testing.T) {
	img := testImage(100, 100, 1)
	for _, n := range []int{0, blockSize, 3 * blockSize, 40000} {
		assert.ErrorContains(t, Encode(&failingWriter{n: n}, img, WriteOptions{Alpha: make([]uint8, 100*100)}), "disk full", "after %d bytes", n)
	}
}

func TestWriteIsAtomic(t *testing.T) {
	t.Run("writing into a missing folder fails and creates nothing", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "missing", "out.fits")
		err := Write(p, testImage(4, 4, 1), WriteOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), p)
		entries, _ := os.ReadDir(dir)
		assert.Empty(t, entries)
	})
	t.Run("a failed write leaves the old file intact and no temp file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "out.fits")
		require.NoError(t, os.WriteFile(p, []byte("old content"), 0o644))
		bad := testImage(4, 4, 1)
		bad.Header.Set("BAD", math.Inf(1), "") // fails while encoding, after the temp file exists
		err := Write(p, bad, WriteOptions{})
		require.ErrorContains(t, err, p)
		b, _ := os.ReadFile(p)
		assert.Equal(t, "old content", string(b))
		entries, _ := os.ReadDir(dir)
		assert.Len(t, entries, 1)
	})
	t.Run("a successful write replaces the old file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "out.fits")
		require.NoError(t, os.WriteFile(p, []byte("old content"), 0o644))
		require.NoError(t, Write(p, testImage(4, 4, 1), WriteOptions{}))
		img, err := ReadImage(p, "")
		require.NoError(t, err)
		assert.Equal(t, 4, img.Width)
		entries, _ := os.ReadDir(dir)
		assert.Len(t, entries, 1)
		st, _ := os.Stat(p)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	})
	t.Run("reading and rewriting never modifies the input", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.fits")
		require.NoError(t, Write(in, testImage(8, 8, 3), WriteOptions{}))
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		require.NoError(t, os.Chtimes(in, old, old))
		before, _ := os.ReadFile(in)
		img, err := ReadImage(in, "")
		require.NoError(t, err)
		img.Pix[0] = 42
		img.Header.Set("NEW", 1, "")
		require.NoError(t, Write(filepath.Join(dir, "out.fits"), img, WriteOptions{}))
		after, _ := os.ReadFile(in)
		st, _ := os.Stat(in)
		assert.Equal(t, before, after)
		assert.True(t, st.ModTime().Equal(old))
	})
}
