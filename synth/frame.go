package synth

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Card is one FITS header card. Value is a string, bool, int or float64.
type Card struct {
	Key     string
	Value   any
	Comment string
}

// Frame is one synthetic exposure: single-channel float32 ADU, row-major, with its header cards
// in writing order (structural keys such as BITPIX and NAXIS are left to the writer).
// Bayer frames hold the CFA mosaic, already rounded and clamped to 0..65535 as written.
type Frame struct {
	Name                    string // file base name, "frame_0001.fits" for frame 0
	Width, Height, Channels int
	Pix                     []float32
	Header                  []Card
}

// Value returns the value of the first header card named key.
func (f Frame) Value(key string) (any, bool) {
	for _, c := range f.Header {
		if c.Key == key {
			return c.Value, true
		}
	}
	return nil, false
}

// Timing of the simulated session: 10 s subs taken back to back.
const exposureSeconds = 10

var sessionStart = time.Date(2024, time.January, 15, 21, 0, 0, 0, time.UTC)

// tinyRotationDeg is the camera rotation written into the WCS: non-zero so code that ignores
// the off-diagonal CD terms is caught, small enough that frames still look "north up".
const tinyRotationDeg = 0.3

// generator holds what every frame of a set shares, computed once per set.
type generator struct {
	o     Options
	sites []int     // CFA channel per 2×2 site, nil for mono
	stars []star    //
	truth []float32 // Truth(o): mono plane or RGB CHW cube
	seen  []float32 // the truth each pixel sees: truth for mono, its CFA sampling for Bayer
	hot   []hotPixel
	sky   *skyScene // sky mode (mosaic or dithers): stars on the sky, truth per frame; else nil
	// Injected bad inputs by frame index (Injected); nil when there are none.
	corrupt, noWCS []bool
}

func newGenerator(o Options) (*generator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	sites, _ := parseBayer(o.Bayer) // Validate checked it
	if o.skyMode() {
		sc, err := newSkyScene(o)
		if err != nil {
			return nil, err
		}
		g := &generator{o: o, sites: sites, hot: makeHotPixels(o), sky: sc}
		g.inject()
		return g, nil
	}
	return newGeneratorWithStars(o, sites, makeStars(o)), nil
}

// inject marks the frames Write corrupts or writes without WCS.
func (g *generator) inject() {
	c, n := injected(g.o)
	g.corrupt = indexSet(c, g.o.TotalFrames())
	g.noWCS = indexSet(n, g.o.TotalFrames())
}

// newGeneratorWithStars lets tests place their own stars; o must be valid.
func newGeneratorWithStars(o Options, sites []int, stars []star) *generator {
	g := &generator{o: o, sites: sites, stars: stars, hot: makeHotPixels(o)}
	g.inject()
	g.truth = renderTruth(o, stars, sites != nil)
	g.seen = g.truth
	if sites != nil {
		g.seen = cfaTruth(g.truth, o.Width, o.Height, sites)
	}
	return g
}

// Truth returns the noise-free, artefact-free image (sky + stars) in ADU, what a perfect stack
// of the frames estimates: w×h for mono, a 3×h×w RGB CHW cube when o.Bayer is set.
func Truth(o Options) ([]float32, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	sites, _ := parseBayer(o.Bayer)
	return renderTruth(o, makeStars(o), sites != nil), nil
}

// GenerateFrame returns frame i (0-based) of the set o describes. It depends only on o and i:
// calling it alone gives the same pixels, bit for bit, as frame i of Write. It computes the
// shared truth on every call; Write computes it once for the whole set.
func GenerateFrame(o Options, i int) (Frame, error) {
	g, err := newGenerator(o)
	if err != nil {
		return Frame{}, err
	}
	if i < 0 || i >= o.TotalFrames() {
		return Frame{}, fmt.Errorf("synth: frame index %d out of range 0..%d", i, o.TotalFrames()-1)
	}
	return g.frameAt(i)
}

// frameAt renders frame i in either mode; i must be in range. Only sky mode can fail (a WCS
// that cannot be built).
func (g *generator) frameAt(i int) (Frame, error) {
	if g.sky == nil {
		return g.frame(i), nil
	}
	w, truth, err := g.sky.frameTruth(i)
	if err != nil {
		return Frame{}, err
	}
	seen := truth
	if g.sites != nil {
		seen = cfaTruth(truth, g.o.Width, g.o.Height, g.sites)
	}
	return g.render(i, seen, g.header(i, wcsToCards(w), w.CRVal)), nil
}

// frame renders frame i of a single-pointing set; i must be in range.
func (g *generator) frame(i int) Frame {
	return g.render(i, g.seen, g.header(i, wcsCards(g.o), [2]float64{g.o.RA, g.o.Dec}))
}

// render adds noise and artefacts to seen, the truth each pixel of frame i sees.
func (g *generator) render(i int, seen []float32, header []Card) Frame {
	o := g.o
	pix := make([]float32, o.Width*o.Height)
	addNoise(pix, seen, o, i)
	if o.Artefacts {
		addArtefacts(pix, o, g.hot, i)
	}
	if g.sites != nil {
		for j, v := range pix {
			pix[j] = quantizeUint16(v)
		}
	}
	return Frame{
		Name:     frameName(i, o.TotalFrames()),
		Width:    o.Width,
		Height:   o.Height,
		Channels: 1,
		Pix:      pix,
		Header:   header,
	}
}

// quantizeUint16 rounds to the nearest integer in 0..65535, the range a BZERO 32768 int16 holds.
// Plain comparisons instead of math.Min/Max: no NaN reaches here, and this runs per pixel.
func quantizeUint16(v float32) float32 {
	switch {
	case v <= 0:
		return 0
	case v >= 65535:
		return 65535
	}
	return float32(math.Round(float64(v)))
}

// frameName numbers files from 1 with at least four digits, so names sort in frame order.
func frameName(i, n int) string {
	return fmt.Sprintf("frame_%0*d.fits", max(4, len(strconv.Itoa(n))), i+1)
}

// dateLayout is how DATE-OBS is written: UTC, milliseconds, no zone suffix (FITS convention).
const dateLayout = "2006-01-02T15:04:05.000"

// frameDate is the UTC start of frame i's exposure: subs taken back to back, panel after panel.
func frameDate(i int) time.Time {
	return sessionStart.Add(time.Duration(i) * exposureSeconds * time.Second)
}

// header returns the cards of frame i: acquisition keys, the WCS cards wcsCards (left out for
// a frame Injected without WCS, which gets SYNNOWCS = T instead), Seestar keys with pointing
// hints around centre (RA, Dec of the frame centre) and, for Bayer frames, the CFA pattern.
func (g *generator) header(i int, wcsCards []Card, centre [2]float64) []Card {
	o := g.o
	cards := []Card{
		{"OBJECT", "SYNTH", "synthetic field"},
		{"CREATOR", "zmosaic synth", "software that made this file"},
		{"IMAGETYP", "LIGHT", ""},
		{"DATE-OBS", frameDate(i).Format(dateLayout), "UTC start of exposure"},
		{"EXPTIME", float64(exposureSeconds), "exposure time, s"},
		{"GAIN", o.Gain, "e-/ADU"},
		{"SYNSEED", strconv.FormatUint(o.Seed, 10), "zmosaic synth seed"},
		{"SYNFRAME", i, "0-based frame index in the synth set"},
	}
	if g.noWCS != nil && g.noWCS[i] {
		cards = append(cards, Card{"SYNNOWCS", true, "zmosaic synth: WCS left out on purpose"})
	} else {
		cards = append(cards, wcsCards...)
	}
	if o.Seestar {
		cards = append(cards, seestarCards(o, i, centre)...)
	}
	if o.isBayer() {
		cards = append(cards,
			Card{"BAYERPAT", o.Bayer, "CFA pattern, row-major from pixel (1,1)"},
			Card{"XBAYROFF", 0, "CFA x offset"},
			Card{"YBAYROFF", 0, "CFA y offset"},
		)
	}
	return cards
}

// wcsCards returns a TAN projection centred on the frame: CRPIX at the centre (FITS pixels are
// 1-based), CRVAL the field centre, and a CD matrix of the pixel scale with a tiny rotation and
// the usual sky parity (east left when north is up).
func wcsCards(o Options) []Card {
	s := o.ScaleArcsec / 3600
	sin, cos := math.Sincos(tinyRotationDeg * math.Pi / 180)
	return []Card{
		{"CTYPE1", "RA---TAN", ""},
		{"CTYPE2", "DEC--TAN", ""},
		{"CUNIT1", "deg", ""},
		{"CUNIT2", "deg", ""},
		{"RADESYS", "ICRS", ""},
		{"EQUINOX", 2000.0, ""},
		{"CRPIX1", float64(o.Width+1) / 2, "reference pixel: frame centre"},
		{"CRPIX2", float64(o.Height+1) / 2, "reference pixel: frame centre"},
		{"CRVAL1", o.RA, "RA of reference pixel, deg"},
		{"CRVAL2", o.Dec, "Dec of reference pixel, deg"},
		{"CD1_1", -s * cos, ""},
		{"CD1_2", s * sin, ""},
		{"CD2_1", s * sin, ""},
		{"CD2_2", s * cos, ""},
	}
}
