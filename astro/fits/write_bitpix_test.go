package fits

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/astrogo/fitsio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// intImage is a w×h×c image of values in 0..hi: random integers, the range ends,
// and fractions that must round to nearest. Its header holds stale structural keys
// that the writer must replace.
func intImage(w, h, c int, hi float32) *Image {
	rng := rand.New(rand.NewPCG(1, 2))
	img := &Image{Width: w, Height: h, Channels: c, Pix: make([]float32, w*h*c)}
	for i := range img.Pix {
		img.Pix[i] = float32(rng.IntN(int(hi) + 1))
	}
	copy(img.Pix, []float32{0, hi, 1, hi - 1, 2.4, 2.5, 3.5, -0.49, -0.5, hi + 0.49, hi - 0.6, hi / 2})
	return withStaleHeader(img)
}

// withStaleHeader gives img a header with a few cards to keep and stale structural
// keys the writer must replace.
func withStaleHeader(img *Image) *Image {
	img.Header = NewHeader()
	img.Header.Set("BZERO", 100, "stale, must be regenerated")
	img.Header.Set("BSCALE", 2.0, "stale")
	img.Header.Set("BLANK", -1, "stale: no BLANK is written")
	img.Header.Set("CTYPE1", "RA---TAN", "")
	img.Header.Set("CRVAL1", 265.1234567890123, "[deg]")
	img.Header.Set("OBJECT", "M 31 'Andromeda'", "")
	img.Header.Add("HISTORY", nil, "made by a test")
	return img
}

func TestWriteBitpixRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		bitpix     int
		wantBitpix int
		img        *Image
		bzero      any // nil: no BZERO card
	}{
		{"default is float32", 0, -32, withStaleHeader(testImage(37, 23, 3)), nil},
		{"-32 is float32", -32, -32, withStaleHeader(testImage(37, 23, 3)), nil},
		{"-64 widens float32 exactly", -64, -64, withStaleHeader(testImage(37, 23, 3)), nil},
		{"16 is uint16 with BZERO 32768", 16, 16, intImage(37, 23, 3, math.MaxUint16), int64(32768)},
		{"16 mono", 16, 16, intImage(41, 5, 1, math.MaxUint16), int64(32768)},
		{"8 is uint8", 8, 8, intImage(37, 23, 3, math.MaxUint8), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img
			_, _, isInt := intRange(tc.wantBitpix)
			want := make([]float32, len(img.Pix))
			for i, v := range img.Pix {
				want[i] = v
				if isInt {
					want[i] = float32(int64(math.Floor(float64(v) + 0.5))) // halves up; integers have no -0
				}
			}
			alpha := make([]uint8, img.Width*img.Height)
			for i := range alpha {
				alpha[i] = uint8(i * 3)
			}
			p := filepath.Join(t.TempDir(), "out.fits")
			require.NoError(t, Write(p, img, WriteOptions{Bitpix: tc.bitpix, Alpha: alpha}))
			st, err := os.Stat(p)
			require.NoError(t, err)
			assert.Zero(t, st.Size()%blockSize)

			f, err := Open(p)
			require.NoError(t, err)
			defer f.Close()
			assert.Empty(t, f.Warnings)
			h, err := f.Image("")
			require.NoError(t, err)
			assert.Equal(t, []int{tc.wantBitpix, img.Width, img.Height, img.Channels}, []int{h.Bitpix, h.Width, h.Height, h.Channels})
			got, err := h.ReadImage()
			require.NoError(t, err)
			require.Len(t, got.Pix, len(want))
			for i := range want {
				require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got.Pix[i]), "pixel %d: wrote %v", i, img.Pix[i])
			}
			if _, hi, ok := intRange(tc.wantBitpix); ok {
				h := float32(hi)
				assert.Equal(t, []float32{0, h, 1, h - 1, 2, 3, 4, 0, 0, h, h - 1, h/2 + 0.5}, got.Pix[:12], "fractions round to nearest, halves up")
			}

			bz, hasBZero := got.Header.Get("BZERO")
			if tc.bzero == nil {
				assert.False(t, hasBZero, "no BZERO card")
			} else {
				require.True(t, hasBZero)
				assert.Equal(t, tc.bzero, bz.Value)
				bs, _ := got.Header.Get("BSCALE")
				assert.Equal(t, int64(1), bs.Value)
			}
			_, hasBlank := got.Header.Get("BLANK")
			assert.False(t, hasBlank, "a stale BLANK would turn a valid value into NaN")
			var kept, wantKept []Card
			for _, c := range got.Header.Cards() {
				if !structural.MatchString(c.Key) {
					kept = append(kept, c)
				}
			}
			for _, c := range img.Header.Cards() {
				if !structural.MatchString(c.Key) {
					wantKept = append(wantKept, c)
				}
			}
			require.Len(t, wantKept, 4)
			assert.Equal(t, wantKept, kept)

			a, ok, err := ReadAlpha(f)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, alpha, a)

			t.Run("fitsio reads the stored samples", func(t *testing.T) {
				r, err := os.Open(p)
				require.NoError(t, err)
				defer r.Close()
				ff, err := fitsio.Open(r)
				require.NoError(t, err)
				defer ff.Close()
				require.Len(t, ff.HDUs(), 2)
				hdr := ff.HDU(0).Header()
				assert.Equal(t, tc.wantBitpix, hdr.Bitpix())
				assert.Equal(t, 265.1234567890123, hdr.Get("CRVAL1").Value)
				if tc.bzero != nil {
					assert.EqualValues(t, 32768, hdr.Get("BZERO").Value)
				}
				raw := ff.HDU(0).(fitsio.Image).Raw()
				require.Len(t, raw, len(want)*abs(tc.wantBitpix)/8)
				for i := range want {
					var stored float32
					switch tc.wantBitpix {
					case -32:
						stored = math.Float32frombits(binary.BigEndian.Uint32(raw[4*i:]))
					case -64:
						stored = float32(math.Float64frombits(binary.BigEndian.Uint64(raw[8*i:])))
					case 16:
						stored = float32(int32(int16(binary.BigEndian.Uint16(raw[2*i:]))) + 32768)
					case 8:
						stored = float32(raw[i])
					}
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(stored), "pixel %d", i)
				}
				assert.Equal(t, alpha, ff.HDU(1).(fitsio.Image).Raw()[:len(alpha)])
			})
		})
	}
}

func TestWriteDefaultBitpixBytesUnchanged(t *testing.T) {
	img := testImage(9, 7, 3)
	var def, f32 bytes.Buffer
	require.NoError(t, Encode(&def, img, WriteOptions{}))
	require.NoError(t, Encode(&f32, img, WriteOptions{Bitpix: -32}))
	assert.Equal(t, def.Bytes(), f32.Bytes(), "Bitpix 0 and -32 write the same file")
}

func TestWriteIntegerRefusesUnrepresentable(t *testing.T) {
	const w, h = 6, 4
	tests := []struct {
		bitpix int
		bad    float32
	}{
		{16, float32(math.NaN())},
		{16, float32(math.Inf(1))},
		{16, float32(math.Inf(-1))},
		{16, -0.51},
		{16, -1},
		{16, 65535.5},
		{16, 1e9},
		{8, float32(math.NaN())},
		{8, 255.5},
		{8, 256},
		{8, -3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("BITPIX %d refuses %v", tc.bitpix, tc.bad), func(t *testing.T) {
			img := &Image{Width: w, Height: h, Channels: 3, Pix: make([]float32, w*h*3)}
			// First bad pixel at x=3 y=2 of channel 1; a later one must not be reported.
			img.Pix[(1*h+2)*w+3] = tc.bad
			img.Pix[len(img.Pix)-1] = tc.bad

			dir := t.TempDir()
			p := filepath.Join(dir, "out.fits")
			err := Write(p, img, WriteOptions{Bitpix: tc.bitpix})
			require.ErrorIs(t, err, ErrUnrepresentable)
			assert.ErrorContains(t, err, p)
			assert.ErrorContains(t, err, "x=3 y=2 channel 1")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "no file and no temporary file is left")

			var buf bytes.Buffer
			require.ErrorIs(t, Encode(&buf, img, WriteOptions{Bitpix: tc.bitpix}), ErrUnrepresentable)
			assert.Zero(t, buf.Len(), "Encode writes nothing")
		})
	}
	t.Run("an old file is left intact", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "out.fits")
		require.NoError(t, os.WriteFile(p, []byte("old content"), 0o644))
		img := &Image{Width: 1, Height: 1, Channels: 1, Pix: []float32{70000}}
		require.ErrorIs(t, Write(p, img, WriteOptions{Bitpix: 16}), ErrUnrepresentable)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "old content", string(b))
	})
}

func TestWriteRejectsUnsupportedBitpix(t *testing.T) {
	img := &Image{Width: 1, Height: 1, Channels: 1, Pix: []float32{1}}
	for _, b := range []int{32, 64, -16, 12, 1} {
		var buf bytes.Buffer
		assert.ErrorContains(t, Encode(&buf, img, WriteOptions{Bitpix: b}), fmt.Sprintf("BITPIX %d cannot be written", b))
		assert.Zero(t, buf.Len())
	}
}
