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
	// Bitpix is the sample type of the image on disk: 0 or -32 for float32 (bit for
	// bit), -64 for float64 (float32 widened exactly), 16 for uint16 stored as int16
	// with BZERO 32768 and BSCALE 1 (physical 0..65535), 8 for uint8 (0..255).
	// Integer output rounds each value to the nearest integer (halves upwards, so
	// -0.5 becomes 0); a value that is NaN, infinite or out of range after rounding
	// makes the write fail with ErrUnrepresentable before any byte is written.
	// Nothing is clamped: NaN means "no data" and an integer file cannot say so.
	Bitpix int
}

// intRange is the physical range of an integer output BITPIX; ok is false for
// floating-point BITPIX.
func intRange(bitpix int) (lo, hi float64, ok bool) {
	switch bitpix {
	case 8:
		return 0, math.MaxUint8, true
	case 16:
		return 0, math.MaxUint16, true
	}
	return 0, 0, false
}

// structural matches keys the writer regenerates from the image; CHECKSUM and
// DATASUM are dropped because they would no longer match the rewritten bytes.
var structural = regexp.MustCompile(`^(SIMPLE|BITPIX|NAXIS[0-9]*|EXTEND|BZERO|BSCALE|BLANK|PCOUNT|GCOUNT|END|XTENSION|GROUPS|CHECKSUM|DATASUM)$`)

// Write writes img to name as float32 (BITPIX -32, or the type opt.Bitpix selects),
// NAXIS = 2 for one channel and 3 (CHW) for three, followed by the ALPHA extension
// when opt.Alpha is set. Header
// cards of img.Header are kept in order except the structural ones, which are
// regenerated. The bytes go to a temporary file in the same folder that is renamed
// over name at the end, so readers never see a partial file and a failed write
// leaves any previous file untouched and no temporary file behind.
func Write(name string, img *Image, opt WriteOptions) (err error) {
	if err := validate(img, opt); err != nil {
		return fmt.Errorf("fits: %s: %w", name, err)
	}
	if err := checkPixels(name, img, opt.Bitpix); err != nil {
		return err
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
	if err := checkPixels("", img, opt.Bitpix); err != nil {
		return err
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
	switch opt.Bitpix {
	case 0, -32, -64, 8, 16:
	default:
		return fmt.Errorf("BITPIX %d cannot be written (0, -32, -64, 16 or 8)", opt.Bitpix)
	}
	return nil
}

// checkPixels refuses, before any byte is written, a value that integer output
// could only store by clamping or inventing data. It returns a *FormatError naming
// the file and the first bad pixel.
func checkPixels(name string, img *Image, bitpix int) error {
	lo, hi, ok := intRange(bitpix)
	if !ok {
		return nil
	}
	for i, v := range img.Pix {
		// Written so that NaN fails too.
		if r := roundHalfUp(v); !(r >= lo && r <= hi) {
			n := img.Width * img.Height
			return formatErr(name, ErrUnrepresentable, "pixel x=%d y=%d channel %d (0-based) is %v; BITPIX %d holds %v..%v after rounding",
				i%img.Width, i%n/img.Width, i/n, v, bitpix, lo, hi)
		}
	}
	return nil
}

func encode(w io.Writer, img *Image, opt WriteOptions) error {
	hdr := NewHeader()
	hdr.Set("SIMPLE", true, "conforms to FITS standard")
	bitpix := opt.Bitpix
	if bitpix == 0 {
		bitpix = -32
	}
	hdr.Set("BITPIX", bitpix, bitpixComment[bitpix])
	axes := []int{img.Width, img.Height}
	if img.Channels > 1 {
		axes = append(axes, img.Channels)
	}
	hdr.Set("NAXIS", len(axes), "number of array dimensions")
	for i, a := range axes {
		hdr.Set(fmt.Sprintf("NAXIS%d", i+1), a, "")
	}
	hdr.Set("EXTEND", true, "extensions may follow")
	if bitpix == 16 {
		// FITS has no unsigned 16-bit type: store v-32768 as int16 (§5.3).
		hdr.Set("BZERO", 32768, "data are unsigned 16-bit integers")
		hdr.Set("BSCALE", 1, "")
	}
	for _, c := range img.Header.Cards() {
		if !structural.MatchString(c.Key) {
			hdr.cards = append(hdr.cards, c)
		}
	}
	if err := writeHeader(w, hdr); err != nil {
		return err
	}
	if err := writeData(w, img.Pix, bitpix); err != nil {
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

var bitpixComment = map[int]string{
	-32: "IEEE single precision floating point",
	-64: "IEEE double precision floating point",
	16:  "16-bit integers",
	8:   "8-bit unsigned integers",
}

// writeData writes pix big-endian as bitpix samples, a chunk at a time. Integer
// values were range-checked by checkPixels.
func writeData(w io.Writer, pix []float32, bitpix int) error {
	const chunk = 16 << 10 // samples
	bpp := abs(bitpix) / 8
	buf := make([]byte, min(len(pix), chunk)*bpp)
	for start := 0; start < len(pix); start += chunk {
		part := pix[start:min(start+chunk, len(pix))]
		buf = buf[:len(part)*bpp]
		encodeSamples(buf, part, bitpix)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return writePad(w, int64(len(pix))*int64(bpp))
}

// encodeSamples fills b (len(pix)*|bitpix|/8 bytes) with pix as big-endian
// bitpix samples; the type switch stays outside the per-pixel loops.
func encodeSamples(b []byte, pix []float32, bitpix int) {
	be := binary.BigEndian
	switch bitpix {
	case -32:
		for i, v := range pix {
			be.PutUint32(b[4*i:], math.Float32bits(v))
		}
	case -64:
		for i, v := range pix {
			be.PutUint64(b[8*i:], math.Float64bits(float64(v)))
		}
	case 16:
		for i, v := range pix {
			be.PutUint16(b[2*i:], uint16(int32(roundHalfUp(v))-32768))
		}
	case 8:
		for i, v := range pix {
			b[i] = uint8(roundHalfUp(v))
		}
	}
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

// roundHalfUp rounds to the nearest integer, halves upwards. float64 holds a
// float32's 24 significant bits plus the half, so float64(v)+0.5 is exact over the
// writable range (for tiny |v|, where it is not, the result is 0 either way), and
// math.Floor compiles to one instruction where math.Round is a function call.
func roundHalfUp(v float32) float64 {
	return math.Floor(float64(v) + 0.5)
}
