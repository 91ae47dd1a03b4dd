package fits

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/astrogo/fitsio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateWritesTheBytesOfWriteWhateverTheBandOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		w, h, c   int
		band      int
		alpha     bool
		backwards bool
	}{
		{"mono with ALPHA in bands of 5 rows", 37, 23, 1, 5, true, false},
		{"RGB cube without ALPHA, bands backwards", 37, 23, 3, 4, false, true},
		{"RGB cube with ALPHA, one band", 41, 19, 3, 19, true, false},
		{"mono, row by row backwards", 13, 200, 1, 1, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := testImage(tc.w, tc.h, tc.c)
			var alpha []uint8
			if tc.alpha {
				alpha = make([]uint8, tc.w*tc.h)
				for i := range alpha {
					alpha[i] = uint8(i*7 + 3)
				}
			}
			dir := t.TempDir()
			want := filepath.Join(dir, "want.fits")
			require.NoError(t, Write(want, img, WriteOptions{Alpha: alpha}))

			got := filepath.Join(dir, "got.fits")
			iw, err := Create(got, tc.w, tc.h, tc.c, img.Header, CreateOptions{Alpha: tc.alpha})
			require.NoError(t, err)
			var starts []int
			for y0 := 0; y0 < tc.h; y0 += tc.band {
				starts = append(starts, y0)
			}
			if tc.backwards {
				for i, j := 0, len(starts)-1; i < j; i, j = i+1, j-1 {
					starts[i], starts[j] = starts[j], starts[i]
				}
			}
			n := tc.w * tc.h
			for _, y0 := range starts {
				y1 := min(y0+tc.band, tc.h)
				for c := range tc.c {
					require.NoError(t, iw.WriteRows(c, y0, img.Pix[c*n+y0*tc.w:c*n+y1*tc.w]))
				}
				if tc.alpha {
					require.NoError(t, iw.WriteAlphaRows(y0, alpha[y0*tc.w:y1*tc.w]))
				}
			}
			_, err = os.Stat(got)
			require.True(t, os.IsNotExist(err), "nothing appears before Close")
			require.NoError(t, iw.Close())

			a, err := os.ReadFile(want)
			require.NoError(t, err)
			b, err := os.ReadFile(got)
			require.NoError(t, err)
			require.True(t, bytes.Equal(a, b), "Create and Write must give the same bytes (%d vs %d)", len(a), len(b))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 2, "no temporary file is left")

			r, err := os.Open(got)
			require.NoError(t, err)
			defer r.Close()
			ff, err := fitsio.Open(r)
			require.NoError(t, err)
			defer ff.Close()
			pix := make([]float32, len(img.Pix))
			require.NoError(t, ff.HDU(0).(fitsio.Image).Read(&pix))
			require.Len(t, pix, len(img.Pix))
			assert.Equal(t, math.Float32bits(img.Pix[5]), math.Float32bits(pix[5]))
			if tc.alpha {
				require.Len(t, ff.HDUs(), 2)
				assert.Equal(t, "ALPHA", ff.HDU(1).Name())
				assert.Equal(t, alpha, ff.HDU(1).(fitsio.Image).Raw()[:len(alpha)])
			}
		})
	}
}

func TestCreateCloseFailsOnAMissingRowAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.fits")
	iw, err := Create(name, 8, 4, 1, nil, CreateOptions{Alpha: true})
	require.NoError(t, err)
	require.NoError(t, iw.WriteRows(0, 0, make([]float32, 8*4)))
	require.NoError(t, iw.WriteAlphaRows(0, make([]uint8, 8*2)))
	err = iw.Close()
	require.ErrorContains(t, err, "row 2 of ALPHA was never written")
	assert.Contains(t, err.Error(), name)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)

	iw, err = Create(name, 8, 4, 3, nil, CreateOptions{})
	require.NoError(t, err)
	for c := range 3 {
		if c != 1 {
			require.NoError(t, iw.WriteRows(c, 0, make([]float32, 8*4)))
		}
	}
	require.ErrorContains(t, iw.Close(), "row 0 of channel 1 was never written")
}

func TestCreateRejectsBadCallsAndAbortRemovesTheFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.fits")
	_, err := Create(name, 0, 4, 1, nil, CreateOptions{})
	require.ErrorContains(t, err, "image size")
	_, err = Create(name, 4, 4, 2, nil, CreateOptions{})
	require.ErrorContains(t, err, "2 channels")

	iw, err := Create(name, 8, 4, 1, nil, CreateOptions{})
	require.NoError(t, err)
	assert.ErrorContains(t, iw.WriteRows(0, 0, make([]float32, 7)), "not whole rows")
	assert.ErrorContains(t, iw.WriteRows(0, 3, make([]float32, 16)), "outside")
	assert.ErrorContains(t, iw.WriteRows(1, 0, make([]float32, 8)), "channel 1")
	assert.ErrorContains(t, iw.WriteAlphaRows(0, make([]uint8, 8)), "without ALPHA")
	iw.Abort()
	iw.Abort()
	assert.ErrorContains(t, iw.WriteRows(0, 0, make([]float32, 8)), "closed")
	assert.ErrorContains(t, iw.Close(), "closed")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}
