package fits

import (
	"bytes"
	"testing"
)

// FuzzNewReader feeds arbitrary bytes to the reader: it must return an error or a
// File whose images read without panicking, never allocate beyond the input's size.
func FuzzNewReader(f *testing.F) {
	f.Add(hduBytes(imageCards("", 16, 3, 2), encodeRaw(16, []float64{1, 2, 3, 4, 5, 6})))
	f.Add(hduBytes(append(imageCards("", -32, 2, 2, 3), "SKEW    = 1.08E+00, 9.63E-01", "L       = 'a&'", "CONTINUE  'b'"), make([]byte, 48)))
	f.Add(append(hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 8), kv("NAXIS", 0)}, nil), hduBytes(imageCards("SCI", 8, 2, 2), []byte{1, 2, 3, 4})...))
	f.Add(gzipBytes(hduBytes(imageCards("", 8, 2, 2), []byte{1, 2, 3, 4})))
	f.Add(hduBytes(imageCards("", 64, 1<<40, 1<<40), nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewReader(bytes.NewReader(data), int64(len(data)), "fuzz.fits")
		if err != nil {
			return
		}
		for _, sel := range []string{"", "0", "1", "SCI"} {
			h, err := file.Image(sel)
			if err != nil {
				continue
			}
			if _, err := h.ReadImage(); err != nil {
				continue
			}
		}
		_, _, _ = ReadAlpha(file)
		file.Close()
	})
}
