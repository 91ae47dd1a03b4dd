package fits

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
)

// WriteOptions are the optional parts of a written file.
type WriteOptions struct {
	// Alpha, when non-nil, holds Width*Height coverage values (0 = no data, 255 =
	// full) written as an image extension EXTNAME = 'ALPHA', BITPIX 8.
	Alpha []uint8
}

// structural matches keys the writer regenerates from the image; CHECKSUM and
// DATASUM are dropped because they would no longer match the rewritten bytes.
var structural = regexp.MustCompile(`^(SIMPLE|BITPIX|NAXIS[0-9]*|EXTEND|BZERO|BSCALE|BLANK|PCOUNT|GCOUNT|END|XTENSION|GROUPS|CHECKSUM|DATASUM)$`)

// Write writes img to name as float32 (BITPIX -32), NAXIS = 2 for one channel and
// 3 (CHW) for three, followed by the ALPHA extension when opt.Alpha is set. Header
// cards of img.Header are kept in order except the structural ones, which are
// regenerated. The bytes go to a temporary file in the same folder that is renamed
// over name at the end, so readers never see a partial file and a failed write
// leaves any previous file untouched and no temporary file behind.
func Write(name string, img *Image, opt WriteOptions) (err error) {
	if err := validate(img, opt); err != nil {
		return fmt.Errorf("fits: %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = encode(bw, img, opt); err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	if err = os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("fits: writing %s: %w", name, err)
	}
	return nil
}

// Encode writes the same bytes as Write to w (used where there is no file system,
// e.g. the browser build).
func Encode(w io.Writer, img *Image, opt WriteOptions) error {
	if err := validate(img, opt); err != nil {
		return fmt.Errorf("fits: %w", err)
	}
	if err := encode(w, img, opt); err != nil {
		return fmt.Errorf("fits: %w", err)
	}
	return nil
}

func validate(img *Image, opt WriteOptions) error {
	switch {
	case img == nil:
		return errors.New("nil image")
	case img.Width <= 0 || img.Height <= 0:
		return fmt.Errorf("image size %dx%d", img.Width, img.Height)
	case img.Channels != 1 && img.Channels != 3:
		return fmt.Errorf("%d channels, only 1 or 3 can be written", img.Channels)
	case len(img.Pix) != img.Width*img.Height*img.Channels:
		return fmt.Errorf("Pix holds %d values, %dx%dx%d needs %d", len(img.Pix), img.Width, img.Height, img.Channels, img.Width*img.Height*img.Channels)
	case opt.Alpha != nil && len(opt.Alpha) != img.Width*img.Height:
		return fmt.Errorf("Alpha holds %d values, %dx%d needs %d", len(opt.Alpha), img.Width, img.Height, img.Width*img.Height)
	}
	return nil
}

func encode(w io.Writer, img *Image, opt WriteOptions) error {
	hdr := NewHeader()
	hdr.Set("SIMPLE", true, "conforms to FITS standard")
	hdr.Set("BITPIX", -32, "IEEE single precision floating point")
	axes := []int{img.Width, img.Height}
	if img.Channels > 1 {
		axes = append(axes, img.Channels)
	}
	hdr.Set("NAXIS", len(axes), "number of array dimensions")
	for i, a := range axes {
		hdr.Set(fmt.Sprintf("NAXIS%d", i+1), a, "")
	}
	hdr.Set("EXTEND", true, "extensions may follow")
	for _, c := range img.Header.Cards() {
		if !structural.MatchString(c.Key) {
			hdr.cards = append(hdr.cards, c)
		}
	}
	if err := writeHeader(w, hdr); err != nil {
		return err
	}
	if err := writeFloat32(w, img.Pix); err != nil {
		return err
	}
	if opt.Alpha == nil {
		return nil
	}
	ext := NewHeader()
	ext.Set("XTENSION", "IMAGE", "image extension")
	ext.Set("BITPIX", 8, "coverage 0..255")
	ext.Set("NAXIS", 2, "")
	ext.Set("NAXIS1", img.Width, "")
	ext.Set("NAXIS2", img.Height, "")
	ext.Set("PCOUNT", 0, "")
	ext.Set("GCOUNT", 1, "")
	ext.Set("EXTNAME", "ALPHA", "coverage mask, 0 = no data")
	if err := writeHeader(w, ext); err != nil {
		return err
	}
	if _, err := w.Write(opt.Alpha); err != nil {
		return err
	}
	return writePad(w, int64(len(opt.Alpha)))
}

// writeHeader formats every card first, so a card that cannot be written fails
// before any byte of the header is out.
func writeHeader(w io.Writer, h *Header) error {
	var b []byte
	for _, c := range h.cards {
		line, err := formatCard(c)
		if err != nil {
			return err
		}
		b = append(b, line...)
	}
	b = append(b, pad80("END")...)
	if r := len(b) % blockSize; r != 0 {
		for range blockSize - r {
			b = append(b, ' ')
		}
	}
	_, err := w.Write(b)
	return err
}

func writeFloat32(w io.Writer, pix []float32) error {
	buf := make([]byte, 0, 64<<10)
	for i, v := range pix {
		buf = binary.BigEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(pix)-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return writePad(w, int64(len(pix))*4)
}

// writePad zero-fills the data to a whole 2880-byte block.
func writePad(w io.Writer, n int64) error {
	if r := n % blockSize; r != 0 {
		_, err := w.Write(make([]byte, blockSize-r))
		return err
	}
	return nil
}

// ReadAlpha returns the ALPHA extension of f (nil, false when absent).
func ReadAlpha(f *File) ([]uint8, bool, error) {
	var a *ImageHDU
	for _, h := range f.Images {
		if h.Name == "ALPHA" && h.Channels == 1 {
			a = h
			break
		}
	}
	if a == nil {
		return nil, false, nil
	}
	pix := make([]float32, a.Width*a.Height)
	if err := a.ReadRows(0, 0, a.Height, pix); err != nil {
		return nil, true, err
	}
	out := make([]uint8, len(pix))
	for i, v := range pix {
		if v != v || v < 0 {
			v = 0
		}
		out[i] = uint8(min(v, 255))
	}
	return out, true, nil
}
