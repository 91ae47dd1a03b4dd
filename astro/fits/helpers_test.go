package fits

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// card80 pads a card text to 80 characters.
func card80(s string) string {
	if len(s) > 80 {
		panic("card longer than 80: " + s)
	}
	return s + strings.Repeat(" ", 80-len(s))
}

// kv formats a fixed-format "KEY     = value" card.
func kv(key string, v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%-8s= %s", key, v) // caller passes the quoted text
	default:
		return fmt.Sprintf("%-8s= %20v", key, v)
	}
}

// hduBytes builds one HDU: the cards, END, blank padding, then data padded with zeros.
func hduBytes(cards []string, data []byte) []byte {
	var b bytes.Buffer
	for _, c := range cards {
		b.WriteString(card80(c))
	}
	b.WriteString(card80("END"))
	for b.Len()%blockSize != 0 {
		b.WriteByte(' ')
	}
	b.Write(data)
	for b.Len()%blockSize != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// imageCards gives the structural cards of an image HDU (primary when ext is "").
func imageCards(ext string, bitpix int, axes ...int) []string {
	var c []string
	if ext == "" {
		c = append(c, kv("SIMPLE", "T"))
	} else {
		c = append(c, kv("XTENSION", "'IMAGE   '"))
	}
	c = append(c, kv("BITPIX", bitpix), kv("NAXIS", len(axes)))
	for i, a := range axes {
		c = append(c, kv(fmt.Sprintf("NAXIS%d", i+1), a))
	}
	if ext != "" {
		c = append(c, kv("PCOUNT", 0), kv("GCOUNT", 1), kv("EXTNAME", "'"+ext+"'"))
	}
	return c
}

// encodeRaw writes integer or float samples big-endian with the given BITPIX.
func encodeRaw(bitpix int, vals []float64) []byte {
	var b []byte
	for _, v := range vals {
		switch bitpix {
		case 8:
			b = append(b, uint8(v))
		case 16:
			b = binary.BigEndian.AppendUint16(b, uint16(int16(v)))
		case 32:
			b = binary.BigEndian.AppendUint32(b, uint32(int32(v)))
		case 64:
			b = binary.BigEndian.AppendUint64(b, uint64(int64(v)))
		case -32:
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(v)))
		case -64:
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// dataDir is ../shared/data beside the repository root, or skips the test.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("real test data not available at %s", d)
	}
	return d
}

var nan32 = float32(math.NaN())
