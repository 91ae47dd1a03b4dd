package fits

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Header cards are formatted here rather than by fitsio's encoder: fitsio v0.3.0
// writes float64 values with "%#20G" (6 significant digits, so CRVAL1 =
// 265.1234567890123 comes back as 265.123 — a 0.4" error), does not double quotes
// inside strings, and moves the comment of a long string to a separate COMMENT
// card. Since its encoder writes header and data in one call, the whole HDU is
// written here; fitsio.Open reading our output back is tested instead.

// formatCard returns one or more 80-character lines for c.
func formatCard(c Card) ([]byte, error) {
	key := c.Key
	if !printable(c.Comment) {
		return nil, fmt.Errorf("card %s: comment has a character outside printable ASCII", key)
	}
	if isCommentary(key) {
		if c.Value != nil {
			return nil, fmt.Errorf("card %q: commentary cards cannot hold a value", key)
		}
		return formatCommentary(key, c.Comment), nil
	}
	prefix, err := keyPrefix(key)
	if err != nil {
		return nil, err
	}
	var val string
	switch v := c.Value.(type) {
	case nil:
		val = ""
	case bool:
		val = fmt.Sprintf("%20s", map[bool]string{true: "T", false: "F"}[v])
	case int64:
		val = fmt.Sprintf("%20d", v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("card %s: %v cannot be written in a FITS header", key, v)
		}
		val = fmt.Sprintf("%20s", formatFloat(v))
	case string:
		if !printable(v) {
			return nil, fmt.Errorf("card %s: string has a character outside printable ASCII", key)
		}
		return formatString(prefix, v, c.Comment)
	default:
		return nil, fmt.Errorf("card %s: unsupported value type %T", key, c.Value)
	}
	line := prefix + val
	if len(line) > cardSize {
		return nil, fmt.Errorf("card %s: value does not fit in 80 characters", key)
	}
	return []byte(pad80(withComment(line, c.Comment))), nil
}

// keyPrefix is "KEY     = " for a standard keyword, or "HIERARCH KEY = " for a
// longer one (ESO convention).
func keyPrefix(key string) (string, error) {
	if key == "END" || key == "CONTINUE" {
		return "", fmt.Errorf("card %s: reserved keyword", key)
	}
	if len(key) <= 8 && checkKey(key) == nil {
		return fmt.Sprintf("%-8s= ", key), nil
	}
	for _, r := range key {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ' ') {
			return "", fmt.Errorf("keyword %q has a character outside A-Z 0-9 - _ space", key)
		}
	}
	return "HIERARCH " + key + " = ", nil
}

// formatFloat writes the shortest decimal that parses back to the same float64,
// with a decimal point or exponent so readers see a real, not an integer.
func formatFloat(v float64) string {
	s := strconv.FormatFloat(v, 'G', -1, 64)
	if !strings.ContainsAny(s, ".E") {
		s += ".0"
	}
	return s
}

func formatCommentary(key, text string) []byte {
	var out []byte
	for first := true; first || text != ""; first = false {
		n := min(len(text), 72)
		out = append(out, pad80(fmt.Sprintf("%-8s%s", key, text[:n]))...)
		text = text[n:]
	}
	return out
}

// formatString writes a string value, using the CONTINUE long-string convention
// (FITS 4.0 §4.2.1.2) when it does not fit in one card: each piece but the last ends
// with '&'; a doubled quote is never split between two cards.
func formatString(prefix, v, comment string) ([]byte, error) {
	room := cardSize - len(prefix) - 2 // inside the quotes
	if room < 1 {
		return nil, fmt.Errorf("keyword %q too long", strings.TrimSuffix(prefix, " = "))
	}
	esc := strings.ReplaceAll(v, "'", "''")
	if len(esc) <= room {
		q := "'" + esc + "'"
		if len(esc) < 8 {
			q = fmt.Sprintf("'%-8s'", esc) // fixed format: closing quote at column 20 or later
		}
		return []byte(pad80(withComment(fmt.Sprintf("%s%-20s", prefix, q), comment))), nil
	}
	var out []byte
	for i := 0; esc != ""; i++ {
		head := prefix
		if i > 0 {
			head = "CONTINUE  "
		}
		n := cardSize - len(head) - 3 // quotes and '&'
		if n < 1 {
			return nil, fmt.Errorf("keyword %q too long for a long string", strings.TrimSuffix(prefix, " = "))
		}
		piece, amp := esc, ""
		if len(esc) > n+1 { // the last piece may use the '&' column
			piece, amp = esc[:n], "&"
			if strings.Count(piece, "'")%2 == 1 {
				piece = piece[:n-1]
			}
		}
		esc = esc[len(piece):]
		line := head + "'" + piece + amp + "'"
		if esc == "" {
			line = withComment(line, comment)
		}
		out = append(out, pad80(line)...)
	}
	return out, nil
}

// withComment appends " / comment", cut to the card width (comments are not
// data; dropping their tail is preferable to refusing the header).
func withComment(line, comment string) string {
	if comment == "" {
		return line
	}
	line += " / " + comment
	if len(line) > cardSize {
		line = line[:cardSize]
	}
	return line
}

func pad80(s string) string {
	if len(s)%cardSize == 0 && s != "" {
		return s
	}
	return s + strings.Repeat(" ", cardSize-len(s)%cardSize)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 {
			return false
		}
	}
	return true
}
