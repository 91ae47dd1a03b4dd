package fits

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestBadInputs(t *testing.T) {
	good := hduBytes(imageCards("", 16, 10, 10), make([]byte, 200))
	noEnd := bytes.Repeat([]byte(card80(kv("SIMPLE", "T"))), 36)
	gz := gzipBytes(good)
	tests := []struct {
		name     string
		data     []byte
		sel      string
		sentinel error
		want     string
	}{
		{"empty file is not FITS", nil, "", ErrNotFITS, "only 0 bytes"},
		{"text file is not FITS", []byte(card80("hello world")), "", ErrNotFITS, "SIMPLE"},
		{"garbage gzip", []byte{0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "", ErrGzip, "gzip"},
		{"truncated gzip", gz[:len(gz)/2], "", ErrTruncated, "gzip stream ends early"},
		{"gzip of a non-FITS file", gzipBytes([]byte("just text, long enough")), "", ErrNotFITS, "SIMPLE"},
		{"header without END", noEnd, "", ErrTruncated, "no END card"},
		{"truncated data", good[:blockSize+100], "", ErrTruncated, "more than the 100 bytes left"},
		{"absurd NAXIS1", hduBytes(imageCards("", 16, 1<<62, 1<<62), nil), "", ErrTruncated, "NAXISn announce more data"},
		{"overflowing NAXIS product", hduBytes(imageCards("", -64, 3037000500, 3037000500, 3), nil), "", ErrTruncated, "NAXISn"},
		{"negative NAXIS2", hduBytes(imageCards("", 16, 2, -2), nil), "", ErrBadHeader, "NAXIS2"},
		{"missing NAXIS1", hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 16), kv("NAXIS", 2), kv("NAXIS2", 1)}, nil), "", ErrBadHeader, "NAXIS1 missing"},
		{"NAXIS too large", hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 16), kv("NAXIS", 1000)}, nil), "", ErrBadHeader, "NAXIS"},
		{"missing BITPIX", hduBytes([]string{kv("SIMPLE", "T"), kv("NAXIS", 0)}, nil), "", ErrBadHeader, "BITPIX missing"},
		{"BITPIX 24", hduBytes(imageCards("", 24, 2, 2), make([]byte, 12)), "", ErrUnsupportedBitpix, "BITPIX 24"},
		{"NAXIS3 = 5", hduBytes(imageCards("", 8, 2, 2, 5), make([]byte, 20)), "", ErrUnsupportedShape, "NAXIS3 = 5"},
		{"NAXIS4 = 2", hduBytes(imageCards("", 8, 2, 2, 1, 2), make([]byte, 8)), "", ErrUnsupportedShape, "NAXIS4 = 2"},
		{"no image HDU", hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 8), kv("NAXIS", 0)}, nil), "", ErrNoImage, "no image HDU with data; HDUs: 0 primary (no data)"},
		{"1-D data is not an image", hduBytes(imageCards("", 8, 5), make([]byte, 5)), "", ErrNoImage, "0 primary 5 BITPIX 8"},
		{"extension without XTENSION", append(hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 8), kv("NAXIS", 0)}, nil), hduBytes([]string{"XTENSION= 'IMAGE'", kv("BITPIX", 8)}, nil)...), "", ErrBadHeader, "NAXIS missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "bad.fits", tc.data)
			_, err := ReadImage(p, tc.sel)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.ErrorContains(t, err, p, "error names the file")
			assert.ErrorContains(t, err, tc.want)
			var fe *FormatError
			assert.True(t, errors.As(err, &fe))

			_, err = NewReader(bytes.NewReader(tc.data), int64(len(tc.data)), "mem.fits")
			if err == nil {
				f, _ := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)), "mem.fits")
				_, err = f.Image(tc.sel)
			}
			assert.ErrorIs(t, err, tc.sentinel, "NewReader gives the same error")
		})
	}
	t.Run("missing file names the path", func(t *testing.T) {
		_, err := Open("/nonexistent/x.fits")
		assert.ErrorContains(t, err, "/nonexistent/x.fits")
	})
}

func TestTolerated(t *testing.T) {
	img := hduBytes(imageCards("", 8, 2, 2), []byte{1, 2, 3, 4})
	tests := []struct {
		name     string
		data     []byte
		warnings int
	}{
		{"missing final padding of the last data block", img[:blockSize+4], 0},
		{"zero padding after the last HDU", append(append([]byte{}, img...), make([]byte, 500)...), 0},
		{"junk after the last HDU is a warning", append(append([]byte{}, img...), bytes.Repeat([]byte("junk"), 1000)...), 1},
		{"SIMPLE = F is a warning", bytes.Replace(img, []byte("SIMPLE  = T"), []byte("SIMPLE  = F"), 1), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)), "x.fits")
			require.NoError(t, err)
			assert.Len(t, f.Warnings, tc.warnings)
			h, err := f.Image("")
			require.NoError(t, err)
			m, err := h.ReadImage()
			require.NoError(t, err)
			assert.Equal(t, []float32{1, 2, 3, 4}, m.Pix)
		})
	}
}
