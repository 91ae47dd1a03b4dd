package fits

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// ImageHDU is one image Header-Data Unit of an open File. Its pixels stay on disk
// until ReadRows or ReadImage; both may be called from several goroutines at once
// (each call uses its own buffer and io.ReaderAt is safe for parallel use).
type ImageHDU struct {
	Index                   int    // 0 = primary
	Name                    string // EXTNAME or ""
	Header                  *Header
	Bitpix                  int
	Width, Height, Channels int // NAXIS1, NAXIS2, NAXIS3 (1 when 2-D)

	dataOff  int64
	bzero    float64
	bscale   float64
	blank    int64
	hasBlank bool
	file     *File
}

// readChunk bounds the temporary byte buffer of one ReadRows call.
const readChunk = 1 << 20

// ReadRows reads rows [y0, y1) of channel c into dst[:(y1-y0)*Width]. Values are
// physical: raw×BSCALE+BZERO computed in float64 then rounded to float32; an integer
// sample equal to BLANK becomes NaN; NaN in float data stays NaN. Only the bytes of
// those rows are read, so a stack can stream row bands of many frames.
func (h *ImageHDU) ReadRows(c, y0, y1 int, dst []float32) error {
	f := h.file
	if f == nil || f.closed {
		return fmt.Errorf("fits: %s: HDU %d: file is closed", fileName(f), h.Index)
	}
	if c < 0 || c >= h.Channels || y0 < 0 || y1 < y0 || y1 > h.Height {
		return fmt.Errorf("fits: %s: HDU %d: rows [%d,%d) of channel %d outside %dx%dx%d", f.Name, h.Index, y0, y1, c, h.Width, h.Height, h.Channels)
	}
	n := (y1 - y0) * h.Width
	if len(dst) < n {
		return fmt.Errorf("fits: %s: HDU %d: dst holds %d values, %d rows need %d", f.Name, h.Index, len(dst), y1-y0, n)
	}
	bpp := abs(h.Bitpix) / 8
	off := h.dataOff + (int64(c)*int64(h.Height)+int64(y0))*int64(h.Width)*int64(bpp)
	per := max(readChunk/bpp, 1)
	buf := make([]byte, min(n, per)*bpp)
	for done := 0; done < n; {
		k := min(n-done, per)
		b := buf[:k*bpp]
		got, err := f.r.ReadAt(b, off)
		if got < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return &FormatError{File: f.Name, Reason: fmt.Sprintf("HDU %d: reading pixel data at byte %d: %v", h.Index, off, err), Err: ErrTruncated}
		}
		h.decode(b, dst[done:done+k])
		done += k
		off += int64(len(b))
	}
	return nil
}

// decode converts big-endian samples to physical float32 values.
func (h *ImageHDU) decode(b []byte, dst []float32) {
	scaled := h.bscale != 1 || h.bzero != 0
	be := binary.BigEndian
	switch h.Bitpix {
	case -32:
		for i := range dst {
			v := math.Float32frombits(be.Uint32(b[4*i:]))
			if scaled {
				v = float32(float64(v)*h.bscale + h.bzero)
			}
			dst[i] = v
		}
	case -64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(be.Uint64(b[8*i:]))*h.bscale + h.bzero)
		}
	case 8:
		for i := range dst {
			dst[i] = h.phys(int64(b[i]))
		}
	case 16:
		for i := range dst {
			dst[i] = h.phys(int64(int16(be.Uint16(b[2*i:]))))
		}
	case 32:
		for i := range dst {
			dst[i] = h.phys(int64(int32(be.Uint32(b[4*i:]))))
		}
	case 64:
		for i := range dst {
			dst[i] = h.phys(int64(be.Uint64(b[8*i:])))
		}
	}
}

// phys applies BLANK then BSCALE/BZERO to an integer sample. float64 keeps
// BITPIX 32 data exact before the final rounding to float32.
func (h *ImageHDU) phys(v int64) float32 {
	if h.hasBlank && v == h.blank {
		return float32(math.NaN())
	}
	return float32(float64(v)*h.bscale + h.bzero)
}

// ReadImage reads every channel into a new Image whose Header is a copy of h.Header.
func (h *ImageHDU) ReadImage() (*Image, error) {
	m := &Image{Width: h.Width, Height: h.Height, Channels: h.Channels, Header: h.Header.Clone()}
	m.Pix = make([]float32, h.Width*h.Height*h.Channels)
	for c := 0; c < h.Channels; c++ {
		if err := h.ReadRows(c, 0, h.Height, m.Plane(c)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func fileName(f *File) string {
	if f == nil {
		return "<nil>"
	}
	return f.Name
}

// Image is a float32 image in CHW order: channel c, row y, column x is at
// Pix[(c*Height+y)*Width+x]. NaN means no data.
type Image struct {
	Width, Height, Channels int
	Pix                     []float32
	Header                  *Header // may be nil
}

// Plane returns channel c (sharing Pix), or nil when c is out of range.
func (m *Image) Plane(c int) []float32 {
	n := m.Width * m.Height
	if c < 0 || c >= m.Channels || (c+1)*n > len(m.Pix) {
		return nil
	}
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}
