package solve

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

const (
	cardSize  = 80
	blockSize = 2880
)

// structural keys of the solver's header that would describe a data unit: they are replaced
// when the cards are wrapped into a FITS header (see parseCards).
var structural = map[string]bool{
	"SIMPLE": true, "BITPIX": true, "NAXIS": true, "NAXIS1": true, "NAXIS2": true, "NAXIS3": true,
	"EXTEND": true, "XTENSION": true, "PCOUNT": true, "GCOUNT": true, "END": true,
}

// parseCards reads a solver's .wcs output: a header-only FITS file (solve-field, ASTAP -wcs)
// or the same cards one per text line (ASTAP's text style). The cards are wrapped into a
// one-pixel FITS image and read by astro/fits, so values, long strings and odd cards are parsed
// exactly as for any input frame; the wrapper's own structural keys are dropped again.
func parseCards(data []byte) (*fits.Header, error) {
	var cards []string
	if bytes.ContainsAny(data, "\r\n") {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) != "" {
				cards = append(cards, line)
			}
		}
	} else {
		for i := 0; i+cardSize <= len(data); i += cardSize {
			cards = append(cards, string(data[i:i+cardSize]))
		}
	}
	var buf bytes.Buffer
	put := func(card string) {
		if len(card) > cardSize {
			card = card[:cardSize]
		}
		buf.WriteString(card + strings.Repeat(" ", cardSize-len(card)))
	}
	put("SIMPLE  =                    T")
	put("BITPIX  =                    8")
	put("NAXIS   =                    2")
	put("NAXIS1  =                    1")
	put("NAXIS2  =                    1")
	n := 0
	for _, c := range cards {
		key := strings.TrimSpace(c[:min(8, len(c))])
		if key == "END" {
			break
		}
		if structural[key] {
			continue
		}
		if !printable(c) {
			return nil, fmt.Errorf("not a FITS header (non-text bytes in card %d)", n+1)
		}
		put(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("no header cards")
	}
	put("END")
	buf.Write(bytes.Repeat([]byte{' '}, (blockSize-buf.Len()%blockSize)%blockSize))
	buf.Write(make([]byte, blockSize)) // the one-pixel data unit
	f, err := fits.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "solution")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if len(f.Images) != 1 {
		return nil, fmt.Errorf("unreadable header")
	}
	return f.Images[0].Header, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// readSolution parses the solver's .wcs file and checks its WCS for a width×height image (0
// skips the checks that need the size). It returns the WCS cards only, rewritten by astro/wcs
// (CD matrix, explicit poles, SIP when present), so that a solver's extra or odd keys never
// reach the cache; a HISTORY card says which solver made them.
func readSolution(solver, path string, width, height int) (*fits.Header, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Kind: ErrNoSolution, Detail: "(the solver wrote no .wcs file)"}
	}
	raw, err := parseCards(data)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidSolution, Detail: "(" + err.Error() + ")"}
	}
	w, err := wcs.FromHeader(raw)
	if err == nil {
		err = w.Validate(width, height, wcs.DefaultValidateOptions())
	}
	if err != nil {
		return nil, &Error{Kind: ErrInvalidSolution, Detail: "(" + err.Error() + ")"}
	}
	out := fits.NewHeader()
	for _, c := range w.Cards() {
		out.Set(c.Key, c.Value, c.Comment)
	}
	out.Add("HISTORY", "WCS plate-solved by "+solver+" for zmosaic; input file unchanged", "")
	return out, nil
}
