package fits

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// CreateOptions are the optional parts of a file made by Create.
type CreateOptions struct {
	// Alpha adds the ALPHA extension (BITPIX 8, Width×Height), filled with
	// WriteAlphaRows, as Write does with WriteOptions.Alpha.
	Alpha bool
}

// ImageWriter writes a float32 image (BITPIX -32) row band by row band, so that an
// image larger than memory can be produced piece by piece. The file it leaves
// is byte for byte the one Write makes from the same image, header and alpha.
// Sizes are known up front, so every band goes straight to its offset: bands may
// come in any order. The file is built under a temporary name and renamed over
// the final name by Close; Abort removes it. An ImageWriter is not safe for
// concurrent use.
type ImageWriter struct {
	name                    string
	tmp                     *os.File
	width, height, channels int
	dataOff, alphaOff       int64  // byte offsets of the primary data and the ALPHA data
	rows                    []bool // rows written, channel-major (c*height + y)
	alphaRows               []bool // nil without ALPHA
	buf                     []byte
	done                    bool
}

// Create starts name as a width×height×channels float32 image (channels 1 or 3)
// with the cards of h (nil = none; structural keys are regenerated as in Write).
// Nothing is visible at name until Close succeeds.
func Create(name string, width, height, channels int, h *Header, opt CreateOptions) (*ImageWriter, error) {
	switch {
	case width <= 0 || height <= 0:
		return nil, fmt.Errorf("fits: %s: image size %dx%d", name, width, height)
	case channels != 1 && channels != 3:
		return nil, fmt.Errorf("fits: %s: %d channels, only 1 or 3 can be written", name, channels)
	}
	if h == nil {
		h = NewHeader()
	}
	// The primary header exactly as Write formats it: encode of an image without
	// pixels writes the header and nothing else.
	var hdr bytes.Buffer
	if err := encode(&hdr, &Image{Width: width, Height: height, Channels: channels, Header: h}, WriteOptions{}); err != nil {
		return nil, fmt.Errorf("fits: %s: %w", name, err)
	}
	npix := int64(width) * int64(height)
	dataLen := padded(npix * int64(channels) * 4)
	w := &ImageWriter{
		name: name, width: width, height: height, channels: channels,
		dataOff: int64(hdr.Len()), rows: make([]bool, channels*height),
	}
	size := w.dataOff + dataLen
	var ext bytes.Buffer
	if opt.Alpha {
		if err := writeHeader(&ext, alphaHeader(width, height)); err != nil {
			return nil, fmt.Errorf("fits: %s: %w", name, err)
		}
		w.alphaOff = size + int64(ext.Len())
		w.alphaRows = make([]bool, height)
		size = w.alphaOff + padded(npix)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("fits: writing %s: %w", name, err)
	}
	w.tmp = tmp
	// Truncate sizes the file once; the FITS padding is zeros, which is what the
	// bytes never written read as.
	err = tmp.Truncate(size)
	if err == nil {
		_, err = tmp.WriteAt(hdr.Bytes(), 0)
	}
	if err == nil && opt.Alpha {
		_, err = tmp.WriteAt(ext.Bytes(), w.dataOff+dataLen)
	}
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("fits: writing %s: %w", name, err)
	}
	return w, nil
}

// padded rounds n bytes up to whole 2880-byte blocks.
func padded(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// alphaHeader is the header of the ALPHA extension, as Write makes it.
func alphaHeader(width, height int) *Header {
	ext := NewHeader()
	ext.Set("XTENSION", "IMAGE", "image extension")
	ext.Set("BITPIX", 8, "coverage 0..255")
	ext.Set("NAXIS", 2, "")
	ext.Set("NAXIS1", width, "")
	ext.Set("NAXIS2", height, "")
	ext.Set("PCOUNT", 0, "")
	ext.Set("GCOUNT", 1, "")
	ext.Set("EXTNAME", "ALPHA", "coverage mask, 0 = no data")
	return ext
}

// Width is the image width in pixels.
func (w *ImageWriter) Width() int { return w.width }

// WriteRows writes rows [y0, y0+len(rows)/Width) of channel c; len(rows) must be a
// whole number of rows.
func (w *ImageWriter) WriteRows(c, y0 int, rows []float32) error {
	if err := w.check(y0, len(rows)); err != nil {
		return err
	}
	if c < 0 || c >= w.channels {
		return fmt.Errorf("fits: %s: channel %d of %d", w.name, c, w.channels)
	}
	n := len(rows) / w.width
	w.buf = growBytes(w.buf, 4*len(rows))
	be := binary.BigEndian
	for i, v := range rows {
		be.PutUint32(w.buf[4*i:], math.Float32bits(v))
	}
	off := w.dataOff + 4*(int64(c)*int64(w.height)+int64(y0))*int64(w.width)
	if _, err := w.tmp.WriteAt(w.buf, off); err != nil {
		return fmt.Errorf("fits: writing %s: %w", w.name, err)
	}
	for y := y0; y < y0+n; y++ {
		w.rows[c*w.height+y] = true
	}
	return nil
}

// WriteAlphaRows writes rows [y0, y0+len(a)/Width) of the ALPHA extension.
func (w *ImageWriter) WriteAlphaRows(y0 int, a []uint8) error {
	if w.alphaRows == nil {
		return fmt.Errorf("fits: %s: created without ALPHA", w.name)
	}
	if err := w.check(y0, len(a)); err != nil {
		return err
	}
	if _, err := w.tmp.WriteAt(a, w.alphaOff+int64(y0)*int64(w.width)); err != nil {
		return fmt.Errorf("fits: writing %s: %w", w.name, err)
	}
	for y := y0; y < y0+len(a)/w.width; y++ {
		w.alphaRows[y] = true
	}
	return nil
}

func (w *ImageWriter) check(y0, n int) error {
	switch {
	case w.done:
		return fmt.Errorf("fits: %s: writer already closed", w.name)
	case n%w.width != 0:
		return fmt.Errorf("fits: %s: %d samples are not whole rows of %d", w.name, n, w.width)
	case y0 < 0 || y0+n/w.width > w.height:
		return fmt.Errorf("fits: %s: rows [%d, %d) outside the %d rows", w.name, y0, y0+n/w.width, w.height)
	}
	return nil
}

func growBytes(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// Close checks that every row of every channel (and of ALPHA) was written, flushes
// the file to disk and renames it over the final name. On any error the temporary
// file is removed and nothing appears at the name.
func (w *ImageWriter) Close() error {
	if w.done {
		return fmt.Errorf("fits: %s: writer already closed", w.name)
	}
	err := missingRow(w.rows, w.height, "")
	if err == nil && w.alphaRows != nil {
		err = missingRow(w.alphaRows, w.height, " of ALPHA")
	}
	if err != nil {
		w.Abort()
		return fmt.Errorf("fits: %s: %w", w.name, err)
	}
	w.done = true
	err = w.tmp.Chmod(0o644) // CreateTemp makes 0600; outputs are ordinary files
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.name)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("fits: writing %s: %w", w.name, err)
	}
	return nil
}

func missingRow(rows []bool, height int, what string) error {
	for i, ok := range rows {
		if !ok {
			if what == "" && len(rows) > height {
				return fmt.Errorf("row %d of channel %d was never written", i%height, i/height)
			}
			return fmt.Errorf("row %d%s was never written", i%height, what)
		}
	}
	return nil
}

// Abort drops the file being written: the temporary file is removed and nothing
// appears at the name. It does nothing after Close or a previous Abort.
func (w *ImageWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.tmp.Close()
	_ = os.Remove(w.tmp.Name())
}
