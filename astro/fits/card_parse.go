package fits

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	blockSize = 2880 // FITS logical record
	cardSize  = 80
)

// cardKind tells the header scanner what a parsed 80-character line is.
type cardKind int

const (
	cardNormal   cardKind = iota
	cardEnd               // END: the header stops here
	cardContinue          // CONTINUE: a piece of the previous long string
)

// parseCard decodes one 80-byte line. A non-nil error means the line is not standard
// FITS; the caller skips it with a warning instead of refusing the file (fitsio v0.3.0
// refuses the whole file, e.g. on `SKEW    = 1.08E+00, 9.63E-01`).
func parseCard(line []byte) (Card, cardKind, error) {
	for _, b := range line {
		if b < 32 || b > 126 {
			return Card{}, cardNormal, errors.New("contains a byte outside printable ASCII")
		}
	}
	s := string(line)
	key8 := strings.TrimRight(s[:8], " ")
	if key8 == "END" && strings.TrimSpace(s[8:]) == "" {
		return Card{}, cardEnd, nil
	}
	if key8 == "HIERARCH" {
		// ESO HIERARCH convention: "HIERARCH ESO DET DIT = 1.0 / comment".
		if eq := strings.IndexByte(s, '='); eq > 9 {
			key := strings.ToUpper(strings.Join(strings.Fields(s[9:eq]), " "))
			if key == "" {
				return Card{}, cardNormal, errors.New("empty HIERARCH keyword")
			}
			v, com, err := parseValue(s[eq+1:])
			return Card{Key: key, Value: v, Comment: com}, cardNormal, err
		}
	}
	if err := checkKey(key8); err != nil {
		return Card{}, cardNormal, err
	}
	key := strings.ToUpper(key8)
	switch {
	case key == "CONTINUE":
		v, com, err := parseValue(s[8:])
		if err != nil {
			return Card{}, cardContinue, err
		}
		if _, ok := v.(string); !ok {
			return Card{}, cardContinue, errors.New("CONTINUE value is not a string")
		}
		return Card{Key: key, Value: v, Comment: com}, cardContinue, nil
	case isCommentary(key) || s[8] != '=':
		// Commentary card: columns 9-80 are free text, leading spaces included.
		return Card{Key: key, Comment: strings.TrimRight(s[8:], " ")}, cardNormal, nil
	}
	v, com, err := parseValue(s[9:])
	return Card{Key: key, Value: v, Comment: com}, cardNormal, err
}

// checkKey accepts the FITS keyword alphabet (A-Z, 0-9, '-', '_'); lower case is
// tolerated and upper-cased by the caller.
func checkKey(k string) error {
	for _, r := range k {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return fmt.Errorf("keyword %q has a character outside A-Z 0-9 - _", k)
		}
	}
	return nil
}

// parseValue decodes the value field (after "=") and its "/ comment".
func parseValue(field string) (any, string, error) {
	s := strings.TrimLeft(field, " ")
	if s == "" {
		return nil, "", nil
	}
	switch s[0] {
	case '/':
		return nil, strings.TrimSpace(s[1:]), nil
	case '\'':
		return parseString(s)
	}
	token, com := s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		token, com = s[:i], strings.TrimSpace(s[i+1:])
	}
	token = strings.TrimSpace(token)
	v, err := parseScalar(token)
	return v, com, err
}

// parseString decodes a quoted string (a doubled quote stands for one quote); trailing spaces
// inside the quotes are not significant.
func parseString(s string) (any, string, error) {
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(s[i:], '\'')
		if j < 0 {
			return nil, "", errors.New("string value has no closing quote")
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		break
	}
	rest := strings.TrimLeft(s[i:], " ")
	com := ""
	switch {
	case rest == "":
	case rest[0] == '/':
		com = strings.TrimSpace(rest[1:])
	default:
		return nil, "", fmt.Errorf("unexpected text %q after the string value", rest)
	}
	return strings.TrimRight(b.String(), " "), com, nil
}

// parseScalar decodes a logical, integer or real value.
func parseScalar(t string) (any, error) {
	switch t {
	case "T":
		return true, nil
	case "F":
		return false, nil
	}
	if strings.HasPrefix(t, "(") {
		return nil, errors.New("complex values are not supported")
	}
	isFloat := false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9', c == '+', c == '-':
		case c == '.', c == 'E', c == 'e', c == 'D', c == 'd':
			isFloat = true
		default:
			return nil, errors.New("value is not a string, logical, integer or real number")
		}
	}
	if !isFloat {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", t)
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(strings.NewReplacer("D", "E", "d", "E").Replace(t), 64)
	if err != nil {
		return nil, fmt.Errorf("bad real number %q", t)
	}
	return v, nil
}
