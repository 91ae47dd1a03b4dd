package cpu

import (
	"fmt"
	"math"
	"strings"
)

// BayerPattern is the colour filter array of a one-shot-colour sensor, named
// by the colours of its top-left 2×2 cell read row by row (FITS BAYERPAT).
type BayerPattern uint8

// The four Bayer layouts. BayerGRBG (Seestar S50/S30) is ZeMosaic's default;
// the zero value is not a pattern.
const (
	BayerRGGB BayerPattern = iota + 1
	BayerBGGR
	BayerGRBG
	BayerGBRG
)

// bayerNames lists the patterns' names, indexed by BayerPattern.
var bayerNames = [...]string{"", "RGGB", "BGGR", "GRBG", "GBRG"}

// String returns the BAYERPAT spelling ("RGGB", …), or "BayerPattern(n)".
func (p BayerPattern) String() string {
	if p.valid() {
		return bayerNames[p]
	}
	return fmt.Sprintf("BayerPattern(%d)", uint8(p))
}

func (p BayerPattern) valid() bool { return p >= BayerRGGB && p <= BayerGBRG }

// ParseBayerPattern reads a BAYERPAT header value or a --bayer flag:
// RGGB, BGGR, GRBG or GBRG, case-insensitive, surrounding blanks and quotes
// ignored. Anything else is an error wrapping ErrInvalidOptions: unlike
// ZeMosaic, an unknown pattern is not silently read as GRBG.
func ParseBayerPattern(s string) (BayerPattern, error) {
	t := strings.ToUpper(strings.Trim(s, " \t'\""))
	for p := BayerRGGB; p <= BayerGBRG; p++ {
		if bayerNames[p] == t {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown Bayer pattern %q (want RGGB, BGGR, GRBG or GBRG)", ErrInvalidOptions, s)
}

// Colour channels of a demosaiced image (CHW planes in this order).
const (
	ChanR = 0
	ChanG = 1
	ChanB = 2
)

// ColourAt returns the channel (ChanR, ChanG or ChanB) that the sensor pixel
// (x, y) records under pattern p; x, y ≥ 0. An invalid p gives -1.
func (p BayerPattern) ColourAt(x, y int) int {
	return p.cells()[(y&1)<<1|x&1]
}

// cells returns the channels of the 2×2 cell, row by row.
func (p BayerPattern) cells() [4]int {
	switch p {
	case BayerRGGB:
		return [4]int{ChanR, ChanG, ChanG, ChanB}
	case BayerBGGR:
		return [4]int{ChanB, ChanG, ChanG, ChanR}
	case BayerGRBG:
		return [4]int{ChanG, ChanR, ChanB, ChanG}
	case BayerGBRG:
		return [4]int{ChanG, ChanB, ChanR, ChanG}
	}
	return [4]int{-1, -1, -1, -1}
}

// Offset returns the pattern seen from pixel (dx, dy) of p: the layout of a
// frame whose first pixel is pixel (dx, dy) of a p sensor (FITS XBAYROFF /
// YBAYROFF, or a crop at an odd position). Only the parity of dx and dy
// matters; negative values are allowed. An invalid p is returned as is.
func (p BayerPattern) Offset(dx, dy int) BayerPattern {
	if !p.valid() {
		return p
	}
	c := p.cells()
	var shifted [4]int
	for y := range 2 {
		for x := range 2 {
			shifted[y<<1|x] = c[((y+dy)&1)<<1|(x+dx)&1]
		}
	}
	for q := BayerRGGB; q <= BayerGBRG; q++ {
		if q.cells() == shifted {
			return q
		}
	}
	return p // unreachable: a shift permutes the cell into another pattern
}

// third is float32(1/3): the 3-neighbour average multiplies by it rather
// than dividing by 3, so that the WGSL twin (whose division is only
// 2.5-ulp accurate) computes the same bits.
const third = float32(1.0 / 3.0)

// Debayer demosaics the W×H sensor image src (pattern p at pixel (0, 0))
// into dst, three CHW planes R, G, B of W×H, by bilinear interpolation in
// float32 (no quantisation, unlike ZeMosaic's 16-bit round trip).
//
// For each pixel and channel c the value is the average of a fixed set of
// pixels recording c:
//   - the pixel itself when it records c;
//   - G at an R or B pixel: its 4 orthogonal neighbours;
//   - R or B at a G pixel: the horizontal or the vertical pair that records it;
//   - B at an R pixel (R at a B pixel): the 4 diagonal neighbours.
//
// NaN and ±Inf mean no data: such a neighbour is left out of the average,
// and a pixel whose own sample is missing takes the average of its nearest
// same-colour pixels instead (G: the 4 diagonals; R, B: the 4 pixels 2 away
// along the axes). The result is NaN only when none of the set is finite.
//
// Edges are mirrored about the border pixel (index −1 reads 1, W reads W−2),
// which keeps the colour parity, so a border pixel averages the in-image
// neighbours of its colour with mirrored ones counted twice; positions that
// are still outside after mirroring (images 1 or 2 pixels wide) are left out.
//
// Arithmetic: finite members a, b, c, d in the order listed above are summed
// as a, (a+b)·0.5, ((a+b)+c)·float32(1/3), ((a+b)+(c+d))·0.25, in float32.
// Powers of two are exact, so a uniform scene is recovered exactly wherever
// no sample is missing, and so is a linear ramp of exactly representable
// values away from the edges. shaders/debayer.wgsl performs the same
// operations and gives the same bits.
//
// len(src) must be W·H and len(dst) 3·W·H (errors wrap ErrShape); p must be
// valid (ErrInvalidOptions).
func Debayer(dst, src []float32, width, height int, p BayerPattern) error {
	if !p.valid() {
		return fmt.Errorf("%w: debayer: invalid %v", ErrInvalidOptions, p)
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != 3*width*height {
		return fmt.Errorf("%w: debayer: %d×%d needs %d source and %d output samples, got %d and %d",
			ErrShape, width, height, width*height, 3*width*height, len(src), len(dst))
	}
	plane := width * height
	cells := p.cells()
	for y := range height {
		for x := range width {
			site := cells[(y&1)<<1|x&1]
			for c := range 3 {
				dst[c*plane+y*width+x] = debayerAt(src, width, height, x, y, site, c, &cells)
			}
		}
	}
	return nil
}

// debayerOffsets are the member sets of Debayer, as (dx, dy) quadruples.
var (
	offsAxes1  = [4][2]int{{0, -1}, {-1, 0}, {1, 0}, {0, 1}}   // orthogonal neighbours
	offsDiag   = [4][2]int{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} // diagonal neighbours
	offsAxes2  = [4][2]int{{0, -2}, {-2, 0}, {2, 0}, {0, 2}}   // same R/B colour along the axes
	offsHorizo = [2][2]int{{-1, 0}, {1, 0}}
	offsVert   = [2][2]int{{0, -1}, {0, 1}}
)

// debayerAt computes channel c of pixel (x, y), whose own colour is site.
func debayerAt(src []float32, width, height, x, y, site, c int, cells *[4]int) float32 {
	var offs [][2]int
	switch {
	case c == site:
		if v := src[y*width+x]; finite32(v) {
			return v
		}
		if c == ChanG {
			offs = offsDiag[:]
		} else {
			offs = offsAxes2[:]
		}
	case site != ChanG && c == ChanG:
		offs = offsAxes1[:]
	case site != ChanG:
		offs = offsDiag[:]
	case cells[(y&1)<<1|(x+1)&1] == c:
		offs = offsHorizo[:]
	default:
		offs = offsVert[:]
	}
	var v [4]float32
	n := 0
	for _, o := range offs {
		xx, yy := mirror(x+o[0], width), mirror(y+o[1], height)
		if xx < 0 || yy < 0 {
			continue
		}
		if s := src[yy*width+xx]; finite32(s) {
			v[n] = s
			n++
		}
	}
	return average4(v, n)
}

// average4 is Debayer's average of the first n of v.
func average4(v [4]float32, n int) float32 {
	switch n {
	case 1:
		return v[0]
	case 2:
		return (v[0] + v[1]) * 0.5
	case 3:
		return (v[0] + v[1] + v[2]) * third
	case 4:
		return ((v[0] + v[1]) + (v[2] + v[3])) * 0.25
	}
	return float32(math.NaN())
}

// mirror reflects i about the borders of [0, n) once; -1 when still outside.
func mirror(i, n int) int {
	if i < 0 {
		i = -i
	} else if i >= n {
		i = 2*n - 2 - i
	}
	if i < 0 || i >= n {
		return -1
	}
	return i
}
