package fits

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// hdu is what the scanner learns about one Header-Data Unit.
type hdu struct {
	index    int
	header   *Header
	xtension string // "" for the primary HDU
	name     string // EXTNAME
	bitpix   int
	axes     []int64
	dataOff  int64
	dataSize int64
	image    *ImageHDU // non-nil for a supported image with data
	problem  error     // why an image HDU with data is not usable (unsupported BITPIX/shape)
}

// readHeader parses the header starting at off. It returns the header and the
// offset of the data that follows (the first block after the END card).
func readHeader(r io.ReaderAt, size, off int64, file string, warn func(string)) (*Header, int64, error) {
	h := NewHeader()
	block := make([]byte, blockSize)
	long := -1 // index of a string card whose value ends with '&', awaiting CONTINUE
	for {
		if off+blockSize > size {
			return nil, 0, formatErr(file, ErrTruncated, "header at byte %d has no END card before the end of the file", off)
		}
		if _, err := r.ReadAt(block, off); err != nil && err != io.EOF {
			return nil, 0, formatErr(file, ErrTruncated, "reading header at byte %d: %v", off, err)
		}
		off += blockSize
		for i := 0; i < blockSize; i += cardSize {
			line := block[i : i+cardSize]
			c, kind, err := parseCard(line)
			switch {
			case kind == cardEnd:
				return h, off, nil
			case err != nil:
				warn(fmt.Sprintf("skipped non-standard card %q: %v", strings.TrimRight(string(line), " "), err))
				long = -1
			case kind == cardContinue:
				if long < 0 {
					warn(fmt.Sprintf("skipped CONTINUE card %q: no long string before it", strings.TrimRight(string(line), " ")))
					continue
				}
				prev := &h.cards[long]
				s := prev.Value.(string)
				piece := c.Value.(string)
				prev.Value = s[:len(s)-1] + piece
				if c.Comment != "" {
					prev.Comment = strings.TrimSpace(prev.Comment + " " + c.Comment)
				}
				if !strings.HasSuffix(piece, "&") {
					long = -1
				}
			default:
				h.cards = append(h.cards, c)
				long = -1
				if s, ok := c.Value.(string); ok && strings.HasSuffix(s, "&") {
					long = len(h.cards) - 1
				}
			}
		}
	}
}

// scanHDU reads the header at off and computes where its data lies. A header whose
// structural keys are missing or impossible is an error; checks happen before any
// allocation so NAXISn values near 2^63 cannot overflow or exhaust memory.
func scanHDU(r io.ReaderAt, size, off int64, index int, file string, warn func(string)) (*hdu, error) {
	h, dataOff, err := readHeader(r, size, off, file, warn)
	if err != nil {
		return nil, err
	}
	u := &hdu{index: index, header: h, dataOff: dataOff}
	where := fmt.Sprintf("HDU %d", index)
	if index == 0 {
		if len(h.cards) == 0 || h.cards[0].Key != "SIMPLE" {
			return nil, formatErr(file, ErrNotFITS, "first card is not SIMPLE")
		}
	} else {
		x, ok := h.String("XTENSION")
		if !ok || len(h.cards) == 0 || h.cards[0].Key != "XTENSION" {
			return nil, formatErr(file, ErrBadHeader, "%s: first card is not XTENSION", where)
		}
		u.xtension = strings.ToUpper(strings.TrimSpace(x))
	}
	u.name, _ = h.String("EXTNAME")
	u.name = strings.TrimSpace(u.name)

	bitpix, ok := h.Int("BITPIX")
	if !ok {
		return nil, formatErr(file, ErrBadHeader, "%s: BITPIX missing", where)
	}
	naxis, ok := h.Int("NAXIS")
	if !ok || naxis < 0 || naxis > 999 {
		return nil, formatErr(file, ErrBadHeader, "%s: NAXIS missing or outside 0..999", where)
	}
	u.bitpix = int(bitpix)
	u.axes = make([]int64, naxis)
	for i := range u.axes {
		k := fmt.Sprintf("NAXIS%d", i+1)
		n, ok := h.Int(k)
		if !ok || n < 0 {
			return nil, formatErr(file, ErrBadHeader, "%s: %s missing or negative", where, k)
		}
		u.axes[i] = n
	}
	if naxis == 0 {
		return u, nil
	}
	if !validBitpix(u.bitpix) {
		// The data size is unknown, so nothing after this HDU can be located.
		u.problem = formatErr(file, ErrUnsupportedBitpix, "%s: BITPIX %d is not one of 8, 16, 32, 64, -32, -64", where, bitpix)
		u.dataSize = -1
		return u, nil
	}
	// Data size = |BITPIX|/8 × GCOUNT × (PCOUNT + NAXIS1×…×NAXISn) (FITS 4.0 §4.4.1);
	// random groups (primary with GROUPS = T, NAXIS1 = 0) skip NAXIS1.
	pcount, gcount := int64(0), int64(1)
	axes := u.axes
	if groups, _ := h.Bool("GROUPS"); index > 0 || groups {
		if v, ok := h.Int("PCOUNT"); ok {
			pcount = v
		}
		if v, ok := h.Int("GCOUNT"); ok {
			gcount = v
		}
		if pcount < 0 || gcount < 0 {
			return nil, formatErr(file, ErrBadHeader, "%s: negative PCOUNT or GCOUNT", where)
		}
		if groups && index == 0 && axes[0] == 0 {
			axes = axes[1:]
		}
	}
	avail := size - dataOff
	n := int64(1)
	for _, a := range axes {
		if n, ok = mulLimit(n, a, avail); !ok {
			return nil, formatErr(file, ErrTruncated, "%s: NAXISn announce more data than the %d bytes left in the file", where, avail)
		}
	}
	if pcount > avail || n+pcount > avail {
		return nil, formatErr(file, ErrTruncated, "%s: PCOUNT announces more data than the %d bytes left in the file", where, avail)
	}
	n += pcount
	for _, m := range []int64{gcount, int64(abs(u.bitpix) / 8)} {
		if n, ok = mulLimit(n, m, avail); !ok {
			return nil, formatErr(file, ErrTruncated, "%s: data needs more than the %d bytes left in the file", where, avail)
		}
	}
	u.dataSize = n
	return u, nil
}

// mulLimit returns a*b when it is at most limit (a, b, limit >= 0).
func mulLimit(a, b, limit int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > math.MaxInt64/b || a*b > limit {
		return 0, false
	}
	return a * b, true
}

func validBitpix(b int) bool {
	switch b {
	case 8, 16, 32, 64, -32, -64:
		return true
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// describe is a short text for error messages that list what a file holds.
func (u *hdu) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", u.index)
	if u.name != "" {
		fmt.Fprintf(&b, " %q", u.name)
	}
	switch {
	case u.index == 0:
		b.WriteString(" primary")
	default:
		b.WriteString(" " + u.xtension)
	}
	if len(u.axes) == 0 {
		b.WriteString(" (no data)")
		return b.String()
	}
	dims := make([]string, len(u.axes))
	for i, a := range u.axes {
		dims[i] = fmt.Sprint(a)
	}
	fmt.Fprintf(&b, " %s BITPIX %d", strings.Join(dims, "x"), u.bitpix)
	return b.String()
}
