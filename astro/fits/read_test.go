package fits

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBitpix(t *testing.T) {
	tests := []struct {
		name   string
		bitpix int
		extra  []string
		raw    []float64
		want   []float32
	}{
		{"BITPIX 8 is unsigned", 8, nil, []float64{0, 1, 200, 255}, []float32{0, 1, 200, 255}},
		{"BITPIX 8 with BLANK gives NaN", 8, []string{kv("BLANK", 7)}, []float64{7, 1, 200, 255}, []float32{nan32, 1, 200, 255}},
		{"BITPIX 16 is signed", 16, nil, []float64{-32768, -1, 0, 32767}, []float32{-32768, -1, 0, 32767}},
		{"BITPIX 16 with BZERO 32768 is uint16", 16, []string{kv("BZERO", 32768), kv("BSCALE", 1)}, []float64{-32768, -1, 0, 32767}, []float32{0, 32767, 32768, 65535}},
		{"fractional BSCALE and BZERO are applied", 16, []string{kv("BSCALE", 0.5), kv("BZERO", 10.0)}, []float64{-3, 0, 1, 1000}, []float32{8.5, 10, 10.5, 510}},
		{"BLANK is tested before scaling", 16, []string{kv("BSCALE", 0.5), kv("BZERO", 10.0), kv("BLANK", -32768)}, []float64{-32768, 0, 1, 2}, []float32{nan32, 10, 10.5, 11}},
		{"BITPIX 32 is signed", 32, nil, []float64{-2147483648, -5, 0, 16777216}, []float32{-2147483648, -5, 0, 16777216}},
		{"BITPIX 32 with BLANK", 32, []string{kv("BLANK", -1)}, []float64{-1, 0, 3, -2}, []float32{nan32, 0, 3, -2}},
		{"BITPIX 64 is signed", 64, []string{kv("BZERO", 1.5)}, []float64{-4, 0, 1 << 40, 9}, []float32{-2.5, 1.5, float32(1<<40) + 1.5, 10.5}},
		{"BITPIX -32 keeps NaN", -32, nil, []float64{1.25, math.NaN(), -3e30, 0}, []float32{1.25, nan32, -3e30, 0}},
		{"BITPIX -32 ignores BLANK", -32, []string{kv("BLANK", 0)}, []float64{0, 1, 2, 3}, []float32{0, 1, 2, 3}},
		{"BITPIX -32 scaled", -32, []string{kv("BSCALE", 2.0), kv("BZERO", -1.0)}, []float64{0, 1, math.NaN(), 3}, []float32{-1, 1, nan32, 5}},
		{"BITPIX -64 rounds once to float32", -64, nil, []float64{0.1, math.NaN(), 1e300, -7}, []float32{0.1, nan32, float32(math.Inf(1)), -7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cards := append(imageCards("", tc.bitpix, 2, 2), tc.extra...)
			p := writeTemp(t, "img.fits", hduBytes(cards, encodeRaw(tc.bitpix, tc.raw)))
			img, err := ReadImage(p, "")
			require.NoError(t, err)
			require.Equal(t, []int{2, 2, 1}, []int{img.Width, img.Height, img.Channels})
			for i := range tc.want {
				if math.IsNaN(float64(tc.want[i])) {
					assert.True(t, math.IsNaN(float64(img.Pix[i])), "pixel %d: want NaN, got %v", i, img.Pix[i])
					continue
				}
				assert.Equal(t, tc.want[i], img.Pix[i], "pixel %d", i)
			}
		})
	}
}

// cubeFile is a 4x3x3 int16 CHW cube whose sample is 100*c + 10*y + x.
func cubeFile(t *testing.T) string {
	var vals []float64
	for c := range 3 {
		for y := range 3 {
			for x := range 4 {
				vals = append(vals, float64(100*c+10*y+x))
			}
		}
	}
	return writeTemp(t, "cube.fits", hduBytes(imageCards("", 16, 4, 3, 3), encodeRaw(16, vals)))
}

func TestReadCube(t *testing.T) {
	f, err := Open(cubeFile(t))
	require.NoError(t, err)
	defer f.Close()
	h, err := f.Image("")
	require.NoError(t, err)
	require.Equal(t, []int{4, 3, 3}, []int{h.Width, h.Height, h.Channels})
	img, err := h.ReadImage()
	require.NoError(t, err)
	assert.Equal(t, float32(213), img.Pix[(2*3+1)*4+3], "CHW layout: c=2 y=1 x=3")

	t.Run("every band of every channel equals the slice of ReadImage", func(t *testing.T) {
		for c := range 3 {
			for y0 := 0; y0 <= 3; y0++ {
				for y1 := y0; y1 <= 3; y1++ {
					dst := make([]float32, (y1-y0)*4)
					require.NoError(t, h.ReadRows(c, y0, y1, dst))
					assert.Equal(t, img.Plane(c)[y0*4:y1*4], dst, "c=%d rows [%d,%d)", c, y0, y1)
				}
			}
		}
	})
	t.Run("out-of-range requests fail without panicking", func(t *testing.T) {
		dst := make([]float32, 100)
		for _, r := range [][3]int{{3, 0, 1}, {-1, 0, 1}, {0, 2, 1}, {0, 0, 4}, {0, -1, 1}} {
			assert.Error(t, h.ReadRows(r[0], r[1], r[2], dst), "%v", r)
		}
		assert.Error(t, h.ReadRows(0, 0, 3, dst[:11]), "dst too short")
		assert.Nil(t, img.Plane(3))
	})
	t.Run("reading after Close fails", func(t *testing.T) {
		require.NoError(t, f.Close())
		assert.ErrorContains(t, h.ReadRows(0, 0, 1, make([]float32, 4)), "closed")
	})
}

func TestImageSelection(t *testing.T) {
	var b []byte
	b = append(b, hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 8), kv("NAXIS", 0), kv("EXTEND", "T")}, nil)...)
	b = append(b, hduBytes(imageCards("SCI", -32, 3, 2), encodeRaw(-32, []float64{1, 2, 3, 4, 5, 6}))...)
	b = append(b, hduBytes([]string{kv("XTENSION", "'BINTABLE'"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 4), kv("NAXIS2", 2),
		kv("PCOUNT", 0), kv("GCOUNT", 1), kv("TFIELDS", 1), kv("TFORM1", "'1J'"), kv("EXTNAME", "'TAB'")}, make([]byte, 8))...)
	b = append(b, hduBytes(imageCards("ALPHA", 8, 3, 2), []byte{0, 255, 255, 255, 255, 0})...)
	p := writeTemp(t, "multi.fits", b)
	f, err := Open(p)
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.Images, 2)
	assert.Empty(t, f.Warnings)

	tests := []struct {
		name, sel string
		index     int
	}{
		{"empty selects the first image extension when the primary has no data", "", 1},
		{"index selects an HDU", "1", 1},
		{"index after a table", "3", 3},
		{"EXTNAME is case-insensitive", "sci", 1},
		{"EXTNAME ALPHA", "ALPHA", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := f.Image(tc.sel)
			require.NoError(t, err)
			assert.Equal(t, tc.index, h.Index)
		})
	}
	bad := []struct{ name, sel, want string }{
		{"primary without data", "0", `HDU "0" is not an image`},
		{"table HDU", "2", `HDU "2" is not an image`},
		{"missing index", "9", `no HDU "9"`},
		{"missing EXTNAME", "nope", `no HDU "nope"`},
	}
	for _, tc := range bad {
		t.Run(tc.name+" is ErrNoImage listing the HDUs", func(t *testing.T) {
			_, err := f.Image(tc.sel)
			require.ErrorIs(t, err, ErrNoImage)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, p)
			assert.ErrorContains(t, err, `1 "SCI" IMAGE 3x2 BITPIX -32`)
		})
	}
	h, err := f.Image("SCI")
	require.NoError(t, err)
	img, err := h.ReadImage()
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, img.Pix)
	alpha, ok, err := ReadAlpha(f)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []uint8{0, 255, 255, 255, 255, 0}, alpha)
}

func TestDefaultSelectionWithUnsupportedHDUs(t *testing.T) {
	empty := hduBytes([]string{kv("SIMPLE", "T"), kv("BITPIX", 8), kv("NAXIS", 0)}, nil)
	cube5 := func(ext string) []byte { return hduBytes(imageCards(ext, 8, 2, 2, 5), make([]byte, 20)) }
	good := hduBytes(imageCards("GOOD", 8, 2, 2), []byte{1, 2, 3, 4})
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		index   int
	}{
		{"an unsupported extension is passed over for a readable one", append(append(append([]byte{}, empty...), cube5("BAD")...), good...), nil, 2},
		{"an unsupported primary is an error even with a readable extension", append(cube5(""), good...), ErrUnsupportedShape, 0},
		{"an unsupported extension alone is reported", append(append([]byte{}, empty...), cube5("BAD")...), ErrUnsupportedShape, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)), "sel.fits")
			require.NoError(t, err)
			assert.Len(t, f.Warnings, 1, "the unsupported HDU is reported")
			h, err := f.Image("")
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.index, h.Index)
		})
	}
}

func TestNonStandardCardIsSkippedWithWarning(t *testing.T) {
	cards := append(imageCards("", -32, 2, 1),
		"SKEW    = 1.08E+00, 9.63E-01",
		kv("CRVAL1", 265.5),
		"SKEW2   = 'unterminated",
		"CONTINUE  'orphan'")
	p := writeTemp(t, "skew.fits", hduBytes(cards, encodeRaw(-32, []float64{1, 2})))
	f, err := Open(p)
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.Warnings, 3)
	assert.Contains(t, f.Warnings[0], `skipped non-standard card "SKEW    = 1.08E+00, 9.63E-01"`)
	assert.Contains(t, f.Warnings[1], "SKEW2")
	assert.Contains(t, f.Warnings[2], "CONTINUE")
	h, err := f.Image("")
	require.NoError(t, err)
	v, ok := h.Header.Float("CRVAL1")
	assert.True(t, ok)
	assert.Equal(t, 265.5, v, "cards after the bad one are kept")
	_, ok = h.Header.Get("SKEW")
	assert.False(t, ok)
}

func TestRealFiles(t *testing.T) {
	dir := dataDir(t)
	tests := []struct {
		file         string
		w, h, bitpix int
		ctype1       string
		wantBZero    bool
	}{
		{"isaac_cutouts/isaac_1.fits", 600, 600, -32, "RA---TAN", false},
		{"isaac_cutouts/isaac_4.fits", 600, 600, -32, "RA---TAN", false},
		{"ngc1316o.fits", 440, 300, 16, "RA---SIN", false},
		{"astrometrynet_thumbnail_sip.fits.gz", 256, 256, 16, "RA---TAN-SIP", true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Open(filepath.Join(dir, tc.file))
			require.NoError(t, err)
			defer f.Close()
			assert.Empty(t, f.Warnings)
			h, err := f.Image("")
			require.NoError(t, err)
			assert.Equal(t, []int{tc.w, tc.h, 1, tc.bitpix}, []int{h.Width, h.Height, h.Channels, h.Bitpix})
			ct, ok := h.Header.String("CTYPE1")
			require.True(t, ok)
			assert.Equal(t, tc.ctype1, ct)
			_, ok = h.Header.Float("CRVAL1")
			assert.True(t, ok)
			img, err := h.ReadImage()
			require.NoError(t, err)
			lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
			nans := 0
			for _, v := range img.Pix {
				if v != v {
					nans++
					continue
				}
				lo, hi = min(lo, v), max(hi, v)
			}
			assert.Less(t, nans, len(img.Pix)/10)
			assert.Less(t, lo, hi, "image is not constant")
			if tc.wantBZero {
				assert.GreaterOrEqual(t, lo, float32(0), "BZERO 32768 makes the data unsigned")
				assert.LessOrEqual(t, hi, float32(65535))
			}
			band := make([]float32, 5*h.Width)
			require.NoError(t, h.ReadRows(0, 100, 105, band))
			assert.Equal(t, img.Pix[100*h.Width:105*h.Width], band)
		})
	}
	t.Run("ngc1316o maximum matches its DATAMAX card", func(t *testing.T) {
		img, err := ReadImage(filepath.Join(dir, "ngc1316o.fits"), "")
		require.NoError(t, err)
		dmax, ok := img.Header.Float("DATAMAX")
		require.True(t, ok)
		hi := float32(math.Inf(-1))
		for _, v := range img.Pix {
			hi = max(hi, v)
		}
		assert.InDelta(t, dmax, hi, 1, "integer data, DATAMAX written from the float original")
	})
	t.Run("isaac cutout pixels equal the full frame at the cutout origin", func(t *testing.T) {
		full, err := ReadImage(filepath.Join(dir, "isaac_full.fits"), "")
		require.NoError(t, err)
		cut, err := ReadImage(filepath.Join(dir, "isaac_cutouts/isaac_2.fits"), "")
		require.NoError(t, err)
		x0, _ := cut.Header.Int("CUTX0")
		y0, _ := cut.Header.Int("CUTY0")
		require.Equal(t, []int64{412, 31}, []int64{x0, y0})
		for _, y := range []int{0, 1, 299, 599} {
			got := cut.Pix[y*600 : (y+1)*600]
			want := full.Pix[(y+31)*full.Width+412:][:600]
			assert.Equal(t, want, got, "row %d", y)
		}
	})
}

func TestGzip(t *testing.T) {
	vals := make([]float64, 64*50)
	for i := range vals {
		vals[i] = float64(i % 1000)
	}
	plain := hduBytes(imageCards("", 16, 64, 50), encodeRaw(16, vals))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(plain)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	// A name without .gz: detection is by magic bytes.
	p := writeTemp(t, "compressed.fits", gz.Bytes())

	tests := []struct {
		name    string
		limit   int64
		useTemp bool
	}{
		{"small file decompresses into memory", gzipMemLimit, false},
		{"large file spills to a temp file removed by Close", 1000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := openLimit(p, tc.limit)
			require.NoError(t, err)
			tmp := f.tmpPath
			assert.Equal(t, tc.useTemp, tmp != "")
			h, err := f.Image("")
			require.NoError(t, err)
			band := make([]float32, 64*3)
			require.NoError(t, h.ReadRows(0, 20, 23, band))
			for i, v := range band {
				assert.Equal(t, float32((20*64+i)%1000), v)
			}
			require.NoError(t, f.Close())
			if tmp != "" {
				_, err := os.Stat(tmp)
				assert.True(t, os.IsNotExist(err), "temp file %s removed", tmp)
			}
		})
	}
	t.Run("NewReader decompresses in-memory gzip", func(t *testing.T) {
		f, err := NewReader(bytes.NewReader(gz.Bytes()), int64(gz.Len()), "mem.fits.gz")
		require.NoError(t, err)
		img, err := f.Images[0].ReadImage()
		require.NoError(t, err)
		assert.Equal(t, float32(999), img.Pix[999])
	})
}
