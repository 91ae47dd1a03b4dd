package synth

// A minimal FITS writer for uint16 CFA frames (BITPIX 16, BZERO 32768). astro/fits writes
// float32 only; this file is meant to move there as a BITPIX option.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fitsBlock is the FITS record size: headers and data are padded to a multiple of it.
const fitsBlock = 2880

// writeCFA writes f (values already in 0..65535, integral) as a BITPIX 16 primary image with
// BZERO 32768, through a temporary file renamed into place so a reader never sees a partial file.
func writeCFA(name string, f Frame) (err error) {
	hdr, err := cfaHeader(f)
	if err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".synth-*.tmp")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	var buf [2]byte
	for _, v := range f.Pix {
		// Stored value = physical - BZERO; FITS is big-endian.
		binary.BigEndian.PutUint16(buf[:], uint16(int16(int32(v)-32768)))
		bw.Write(buf[:]) // errors are sticky in bufio and surface at Flush
	}
	if pad := (2 * len(f.Pix)) % fitsBlock; pad != 0 {
		bw.Write(make([]byte, fitsBlock-pad)) // data padding is zeros
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600; outputs are shared files
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// cfaHeader returns the padded header block: structural keys first, as FITS requires, then
// the frame's cards.
func cfaHeader(f Frame) ([]byte, error) {
	cards := append([]Card{
		{"SIMPLE", true, "conforms to FITS standard"},
		{"BITPIX", 16, "16-bit integers"},
		{"NAXIS", 2, ""},
		{"NAXIS1", f.Width, ""},
		{"NAXIS2", f.Height, ""},
		{"BZERO", 32768, "unsigned 16-bit data"},
		{"BSCALE", 1, ""},
	}, f.Header...)
	var sb strings.Builder
	for _, c := range cards {
		line, err := formatCardLine(c)
		if err != nil {
			return nil, err
		}
		sb.WriteString(line)
	}
	sb.WriteString(fmt.Sprintf("%-80s", "END"))
	for sb.Len()%fitsBlock != 0 {
		sb.WriteByte(' ')
	}
	return []byte(sb.String()), nil
}

// formatCardLine formats a fixed-format value card of 80 characters: key in columns 1–8, "= "
// in 9–10, numbers and logicals right-aligned to column 30, strings quoted from column 11.
func formatCardLine(c Card) (string, error) {
	if len(c.Key) > 8 || c.Key != strings.ToUpper(c.Key) {
		return "", fmt.Errorf("header key %q is not a standard FITS key", c.Key)
	}
	if !printableASCII(c.Comment) {
		return "", fmt.Errorf("header key %s: comment is not printable ASCII", c.Key)
	}
	var val string
	switch v := c.Value.(type) {
	case string:
		if !printableASCII(v) {
			return "", fmt.Errorf("header key %s: value is not printable ASCII", c.Key)
		}
		s := strings.ReplaceAll(v, "'", "''")
		val = fmt.Sprintf("'%-8s'", s)
		val = fmt.Sprintf("%-20s", val)
	case bool:
		val = "F"
		if v {
			val = "T"
		}
		val = fmt.Sprintf("%20s", val)
	case int:
		val = fmt.Sprintf("%20d", v)
	case int64:
		val = fmt.Sprintf("%20d", v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("header key %s: non-finite value %v", c.Key, v)
		}
		val = fmt.Sprintf("%20s", formatReal(v))
	default:
		return "", fmt.Errorf("header key %s: unsupported value type %T", c.Key, c.Value)
	}
	line := fmt.Sprintf("%-8s= %s", c.Key, val)
	if c.Comment != "" {
		line += " / " + c.Comment
	}
	if len(line) > 80 {
		if len(line)-len(c.Comment) > 80 {
			return "", fmt.Errorf("header key %s: value too long for one card", c.Key)
		}
		line = line[:80] // only the comment is cut
	}
	return fmt.Sprintf("%-80s", line), nil
}

// formatReal writes the shortest decimal that reads back to v, with the decimal point FITS
// requires of a real (so 2000 is "2000.0", not an integer).
func formatReal(v float64) string {
	s := strconv.FormatFloat(v, 'G', -1, 64)
	if strings.ContainsAny(s, ".") {
		return s
	}
	if i := strings.IndexByte(s, 'E'); i >= 0 {
		return s[:i] + ".0" + s[i:]
	}
	return s + ".0"
}

// printableASCII reports whether s holds only the characters FITS headers allow (0x20–0x7E).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
