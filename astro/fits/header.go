package fits

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Card is one header record. Key is upper-case ("" for a blank card; a HIERARCH key is
// stored without the "HIERARCH " prefix, e.g. "ESO DET DIT"). Value is string, bool,
// int64, float64, or nil (commentary cards COMMENT/HISTORY/blank, or an undefined value).
// A long string spread over CONTINUE cards is one Card.
type Card struct {
	Key     string
	Value   any
	Comment string
}

// Header is an ordered list of FITS cards. Duplicated keys read from a file are kept;
// the accessors return the first one. The zero value is an empty header ready to use.
// A Header is not safe for concurrent modification.
type Header struct {
	cards []Card
}

// NewHeader returns an empty header.
func NewHeader() *Header { return &Header{} }

// Cards returns a copy of the cards, in order.
func (h *Header) Cards() []Card {
	if h == nil {
		return nil
	}
	out := make([]Card, len(h.cards))
	copy(out, h.cards)
	return out
}

// Len is the number of cards.
func (h *Header) Len() int {
	if h == nil {
		return 0
	}
	return len(h.cards)
}

func (h *Header) index(key string) int {
	if h == nil {
		return -1
	}
	key = normKey(key)
	for i := range h.cards {
		if h.cards[i].Key == key {
			return i
		}
	}
	return -1
}

// Get returns the first card with the key (case-insensitive).
func (h *Header) Get(key string) (Card, bool) {
	i := h.index(key)
	if i < 0 {
		return Card{}, false
	}
	return h.cards[i], true
}

// Float returns the value of an integer or real card as float64.
func (h *Header) Float(key string) (float64, bool) {
	c, ok := h.Get(key)
	if !ok {
		return 0, false
	}
	switch v := c.Value.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	}
	return 0, false
}

// Int returns the value of an integer card, or of a real card holding an exact
// integer (some writers emit "NAXIS1 = 600.0"-like values for non-structural keys).
func (h *Header) Int(key string) (int64, bool) {
	c, ok := h.Get(key)
	if !ok {
		return 0, false
	}
	switch v := c.Value.(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<62 {
			return int64(v), true
		}
	}
	return 0, false
}

// String returns the value of a string card with trailing spaces removed (they are
// not significant in FITS); leading spaces are kept.
func (h *Header) String(key string) (string, bool) {
	c, ok := h.Get(key)
	if !ok {
		return "", false
	}
	s, ok := c.Value.(string)
	return strings.TrimRight(s, " "), ok
}

// Bool returns the value of a logical card.
func (h *Header) Bool(key string) (bool, bool) {
	c, ok := h.Get(key)
	if !ok {
		return false, false
	}
	b, ok := c.Value.(bool)
	return b, ok
}

// Set replaces the value and comment of the first card with the key, or appends a
// new card. Commentary keys (COMMENT, HISTORY, "") are always appended, since each
// such card is a separate line. Accepted values: int, int8..int64, uint8..uint32,
// float32, float64, string, bool and nil; any other type is stored as its fmt.Sprint
// text. A float32 is widened through its shortest decimal form, so 0.1 stays 0.1.
func (h *Header) Set(key string, value any, comment string) {
	c := Card{Key: normKey(key), Value: normValue(value), Comment: comment}
	if !isCommentary(c.Key) {
		if i := h.index(c.Key); i >= 0 {
			h.cards[i] = c
			return
		}
	}
	h.cards = append(h.cards, c)
}

// Add appends a card even when the key already exists (use it for COMMENT/HISTORY).
func (h *Header) Add(key string, value any, comment string) {
	h.cards = append(h.cards, Card{Key: normKey(key), Value: normValue(value), Comment: comment})
}

// Delete removes every card with the key.
func (h *Header) Delete(key string) {
	if h == nil {
		return
	}
	key = normKey(key)
	out := h.cards[:0]
	for _, c := range h.cards {
		if c.Key != key {
			out = append(out, c)
		}
	}
	clear(h.cards[len(out):])
	h.cards = out
}

// Clone returns a deep copy (values are immutable scalars, so a slice copy suffices).
func (h *Header) Clone() *Header {
	if h == nil {
		return nil
	}
	return &Header{cards: h.Cards()}
}

func normKey(key string) string {
	return strings.ToUpper(strings.TrimSpace(key))
}

func isCommentary(key string) bool {
	return key == "COMMENT" || key == "HISTORY" || key == ""
}

func normValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool, int64, float64:
		return v
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		return f
	}
	return fmt.Sprint(v)
}
