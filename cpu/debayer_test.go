package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allPatterns = []BayerPattern{BayerRGGB, BayerBGGR, BayerGRBG, BayerGBRG}

// mosaic samples the CHW planes rgb through pattern p, as a sensor would.
func mosaic(rgb []float32, w, h int, p BayerPattern) []float32 {
	out := make([]float32, w*h)
	for y := range h {
		for x := range w {
			out[y*w+x] = rgb[p.ColourAt(x, y)*w*h+y*w+x]
		}
	}
	return out
}

func TestParseBayerPattern(t *testing.T) {
	tests := []struct {
		in   string
		want BayerPattern
		ok   bool
	}{
		{"RGGB", BayerRGGB, true}, {"bggr", BayerBGGR, true}, {" 'GRBG' ", BayerGRBG, true},
		{"GBRG", BayerGBRG, true}, {"", 0, false}, {"RGBG", 0, false}, {"CYGM", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBayerPattern(tt.in)
			if !tt.ok {
				assert.ErrorIs(t, err, ErrInvalidOptions)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, must(ParseBayerPattern(got.String())), "String round-trips")
		})
	}
}

func must(p BayerPattern, err error) BayerPattern {
	if err != nil {
		panic(err)
	}
	return p
}

func TestBayerPatternChannelPlacement(t *testing.T) {
	tests := []struct {
		p    BayerPattern
		cell [4]int // (0,0) (1,0) (0,1) (1,1)
	}{
		{BayerRGGB, [4]int{ChanR, ChanG, ChanG, ChanB}},
		{BayerBGGR, [4]int{ChanB, ChanG, ChanG, ChanR}},
		{BayerGRBG, [4]int{ChanG, ChanR, ChanB, ChanG}},
		{BayerGBRG, [4]int{ChanG, ChanB, ChanR, ChanG}},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			assert.Equal(t, tt.cell, [4]int{tt.p.ColourAt(0, 0), tt.p.ColourAt(1, 0), tt.p.ColourAt(0, 1), tt.p.ColourAt(1, 1)})
			assert.Equal(t, tt.p.ColourAt(3, 5), tt.p.ColourAt(1, 1), "period 2")
			// A frame cropped at (1, 0) starts on the second column.
			assert.Equal(t, tt.p.ColourAt(1, 0), tt.p.Offset(1, 0).ColourAt(0, 0))
			assert.Equal(t, tt.p.ColourAt(1, 1), tt.p.Offset(-1, 3).ColourAt(0, 0))
			// Each channel lands in its own plane: a mosaic of 1s in R, 2s in G and 3s in B.
			const w, h = 4, 4
			rgb := make([]float32, 3*w*h)
			for c := range 3 {
				for j := range w * h {
					rgb[c*w*h+j] = float32(c + 1)
				}
			}
			src := mosaic(rgb, w, h, tt.p)
			assert.Equal(t, float32(tt.cell[0]+1), src[0])
			dst := make([]float32, 3*w*h)
			require.NoError(t, Debayer(dst, src, w, h, tt.p))
			assert.Equal(t, rgb, dst)
		})
	}
}

func TestDebayerRecoversUniformColourExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range allPatterns {
		for _, size := range [][2]int{{1, 1}, {2, 3}, {5, 4}, {17, 11}} {
			w, h := size[0], size[1]
			rgb := make([]float32, 3*w*h)
			for c := range 3 {
				v := float32(rng.Float64() * 60000) // not a round number: sums must stay exact
				for j := range w * h {
					rgb[c*w*h+j] = v
				}
			}
			dst := make([]float32, 3*w*h)
			require.NoError(t, Debayer(dst, mosaic(rgb, w, h, p), w, h, p))
			if w >= 2 && h >= 2 {
				assert.Equal(t, rgb, dst, "%v %d×%d", p, w, h)
				continue
			}
			// 1×1: only the pixel's own colour exists; the others have no data.
			c := p.ColourAt(0, 0)
			for k := range 3 {
				if k == c {
					assert.Equal(t, rgb[k], dst[k])
				} else {
					assert.True(t, math.IsNaN(float64(dst[k])), "channel %d of a 1×1 %v", k, p)
				}
			}
		}
	}
}

func TestDebayerRecoversLinearRampInInterior(t *testing.T) {
	const w, h = 16, 12
	rgb := make([]float32, 3*w*h)
	for c := range 3 {
		for y := range h {
			for x := range w {
				rgb[c*w*h+y*w+x] = float32(100*(c+1) + 3*x - 5*y) // integers: exact averages
			}
		}
	}
	for _, p := range allPatterns {
		dst := make([]float32, 3*w*h)
		require.NoError(t, Debayer(dst, mosaic(rgb, w, h, p), w, h, p))
		for c := range 3 {
			for y := 1; y < h-1; y++ {
				for x := 1; x < w-1; x++ {
					j := c*w*h + y*w + x
					require.Equal(t, rgb[j], dst[j], "%v channel %d at (%d, %d)", p, c, x, y)
				}
			}
		}
	}
}

func TestDebayerSkipsMissingSamples(t *testing.T) {
	nan := float32(math.NaN())
	// RGGB 6×6; pixel (2, 2) is R, (3, 2) G, (3, 3) B.
	const w, h = 6, 6
	src := make([]float32, w*h)
	for j := range src {
		src[j] = float32(10 * (j + 1))
	}
	at := func(x, y int) float32 { return src[y*w+x] }
	dst := make([]float32, 3*w*h)
	plane := w * h

	t.Run("a NaN neighbour is left out", func(t *testing.T) {
		s := append([]float32(nil), src...)
		s[2*w+1] = nan // G left of (2, 2)
		require.NoError(t, Debayer(dst, s, w, h, BayerRGGB))
		want := (at(2, 1) + at(3, 2) + at(2, 3)) * third
		assert.Equal(t, want, dst[plane+2*w+2], "G at R site from 3 of 4 neighbours")
	})
	t.Run("a missing own sample takes the same-colour neighbours", func(t *testing.T) {
		s := append([]float32(nil), src...)
		s[2*w+2] = nan // R at (2, 2)
		require.NoError(t, Debayer(dst, s, w, h, BayerRGGB))
		want := ((at(2, 0) + at(0, 2)) + (at(4, 2) + at(2, 4))) * 0.25
		assert.Equal(t, want, dst[2*w+2], "R from the R pixels 2 away")
		s[3*w+3] = nan // B at (3, 3): the B at (2, 2)'s diagonals are (1,1) (3,1) (1,3) (3,3)
		require.NoError(t, Debayer(dst, s, w, h, BayerRGGB))
		want = (at(1, 1) + at(3, 1) + at(1, 3)) * third
		assert.Equal(t, want, dst[2*plane+2*w+2])
	})
	t.Run("NaN only without any finite member", func(t *testing.T) {
		s := append([]float32(nil), src...)
		s[2*w+1], s[2*w+3] = nan, nan // both R-row G... and the R pair of G site (3, 2)
		s[2*w+2], s[2*w+4] = nan, nan
		require.NoError(t, Debayer(dst, s, w, h, BayerRGGB))
		assert.True(t, math.IsNaN(float64(dst[2*w+3])), "R at G site (3, 2) with both R neighbours missing")
		assert.False(t, math.IsNaN(float64(dst[plane+2*w+3])), "its G comes from the diagonals")
	})
}

func TestDebayerRejectsBadArguments(t *testing.T) {
	src := make([]float32, 12)
	assert.ErrorIs(t, Debayer(make([]float32, 36), src, 4, 3, 0), ErrInvalidOptions)
	assert.ErrorIs(t, Debayer(make([]float32, 35), src, 4, 3, BayerRGGB), ErrShape)
	assert.ErrorIs(t, Debayer(make([]float32, 36), src, 3, 4+1, BayerRGGB), ErrShape)
	assert.ErrorIs(t, Debayer(nil, nil, 0, 0, BayerRGGB), ErrShape)
}

func BenchmarkDebayer(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	const w, h = 1080, 480
	src := make([]float32, w*h)
	for j := range src {
		src[j] = float32(1000 + 30*rng.NormFloat64())
	}
	dst := make([]float32, 3*w*h)
	for b.Loop() {
		_ = Debayer(dst, src, w, h, BayerGRBG)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(w*h), "ns/pixel")
}
