package synth

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/astrogo/fitsio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
)

func TestWriteCreatesFramesTruthAndCatalog(t *testing.T) {
	for _, bayer := range []string{"none", "BGGR"} {
		t.Run("bayer="+bayer, func(t *testing.T) {
			o := smallOptions()
			o.Frames = 3
			o.Bayer = bayer
			dir := filepath.Join(t.TempDir(), "set")
			var calls [][2]int
			paths, err := Write(t.Context(), dir, o, func(done, total int) { calls = append(calls, [2]int{done, total}) })
			require.NoError(t, err)
			require.Equal(t, []string{
				filepath.Join(dir, LightsDir, "frame_0001.fits"), filepath.Join(dir, LightsDir, "frame_0002.fits"),
				filepath.Join(dir, LightsDir, "frame_0003.fits"), filepath.Join(dir, "truth.fits"),
				filepath.Join(dir, "catalog.csv"),
			}, paths)
			assert.Equal(t, [][2]int{{1, 3}, {2, 3}, {3, 3}}, calls)
			left, err := filepath.Glob(filepath.Join(dir, ".*"))
			require.NoError(t, err)
			assert.Empty(t, left, "no temporary file is left behind")

			for i := range o.Frames {
				want, err := GenerateFrame(o, i)
				require.NoError(t, err)
				img, err := fits.ReadImage(paths[i], "")
				require.NoError(t, err)
				require.Equal(t, []int{o.Width, o.Height, 1}, []int{img.Width, img.Height, img.Channels})
				requireBitIdentical(t, want.Pix, img.Pix, paths[i])
				for _, c := range want.Header {
					got, ok := img.Header.Get(c.Key)
					require.True(t, ok, "%s: key %s", paths[i], c.Key)
					if v, isInt := c.Value.(int); isInt {
						assert.Equal(t, int64(v), got.Value, "key %s", c.Key)
					} else {
						assert.Equal(t, c.Value, got.Value, "key %s", c.Key)
					}
				}
			}

			truth, err := Truth(o)
			require.NoError(t, err)
			img, err := fits.ReadImage(paths[o.Frames], "")
			require.NoError(t, err)
			assert.Equal(t, len(truth)/(o.Width*o.Height), img.Channels)
			requireBitIdentical(t, truth, img.Pix, "truth.fits")

			f, err := os.Open(paths[o.Frames+1])
			require.NoError(t, err)
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			require.NoError(t, err)
			require.Len(t, rows, o.Stars+1)
			assert.Equal(t, []string{"x", "y", "flux"}, rows[0][:3])
			stars := makeStars(o)
			x, err := strconv.ParseFloat(rows[1][0], 64)
			require.NoError(t, err)
			flux, err := strconv.ParseFloat(rows[1][2], 64)
			require.NoError(t, err)
			assert.Equal(t, stars[0].x, x, "catalog numbers are exact")
			assert.Equal(t, stars[0].flux, flux)
		})
	}
}

func TestCFAFileIsUint16ForAnIndependentReader(t *testing.T) {
	o := smallOptions()
	o.Frames = 1
	o.Bayer = "RGGB"
	dir := t.TempDir()
	paths, err := Write(t.Context(), dir, o, nil)
	require.NoError(t, err)

	r, err := os.Open(paths[0])
	require.NoError(t, err)
	defer r.Close()
	f, err := fitsio.Open(r)
	require.NoError(t, err)
	defer f.Close()
	hdr := f.HDU(0).Header()
	assert.Equal(t, 16, hdr.Bitpix())
	assert.Equal(t, []int{o.Width, o.Height}, hdr.Axes())
	for key, want := range map[string]any{"BZERO": 32768, "BAYERPAT": "RGGB", "CTYPE1": "RA---TAN", "OBJECT": "SYNTH"} {
		card := hdr.Get(key)
		require.NotNil(t, card, "key %s", key)
		assert.EqualValues(t, want, card.Value, "key %s", key)
	}
	// Stored int16 + BZERO gives back the frame's values.
	want, err := GenerateFrame(o, 0)
	require.NoError(t, err)
	raw := f.HDU(0).(fitsio.Image).Raw()
	require.Len(t, raw, 2*len(want.Pix))
	for _, i := range []int{0, 1, o.Width + 1, len(want.Pix) - 1} {
		stored := int16(binary.BigEndian.Uint16(raw[2*i:]))
		assert.Equal(t, want.Pix[i], float32(int32(stored)+32768), "pixel %d", i)
	}

	info, err := os.Stat(paths[0])
	require.NoError(t, err)
	assert.Zero(t, info.Size()%2880, "file is whole 2880-byte blocks")
}

func TestWriteStopsWhenContextIsCancelled(t *testing.T) {
	o := smallOptions()
	ctx, cancel := context.WithCancel(t.Context())
	dir := t.TempDir()
	paths, err := Write(ctx, dir, o, func(done, _ int) {
		if done == 2 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, paths, 2, "frames finished before the cancel are reported")
	_, statErr := os.Stat(filepath.Join(dir, "truth.fits"))
	assert.ErrorIs(t, statErr, os.ErrNotExist)
}

func TestWriteRejectsInvalidOptions(t *testing.T) {
	o := smallOptions()
	o.Gain = -1
	dir := filepath.Join(t.TempDir(), "never")
	_, err := Write(t.Context(), dir, o, nil)
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, statErr := os.Stat(dir)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing is created for invalid options")
}

// BenchmarkWrite is `zmosaic synth DIR` with default options: 16 mono frames, truth, catalog.
func BenchmarkWrite(b *testing.B) {
	o := DefaultOptions()
	dir := b.TempDir()
	b.SetBytes(int64(o.Frames * o.Width * o.Height * 4)) // frame bytes written per op
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(b.Context(), dir, o, nil); err != nil {
			b.Fatal(err)
		}
	}
}
