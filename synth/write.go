package synth

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// LightsDir is the sub-folder of a set that holds its frames, so that `zmosaic stack DIR/lights`
// takes the frames and not truth.fits.
const LightsDir = "lights"

// Write generates the set o describes into dir (created if needed): DIR/lights/frame_0001.fits … as
// float32 (mono) or uint16 CFA with BAYERPAT (Bayer), then DIR/truth.fits (float32; an RGB CHW
// cube for Bayer) and DIR/catalog.csv. Frames are generated and written one at a time, so
// memory stays at a few frames whatever o.Frames is. progress (nil allowed) is called after
// each frame with (done, o.Frames). Every file is written to a temporary name and renamed.
//
// With a mosaic, dithers or field rotation (see Options.Mosaic) there are TotalFrames frames, truth.fits is
// on NaturalGrid and catalog.csv lists ra,dec,flux (degrees, integrated ADU) instead of x,y.
//
// With Options.Seestar, DIR/frames.csv (FramesCSV) lists every frame's true centre, rotation,
// DATE-OBS and injection. Frames listed by Injected are written without WCS keys, or written
// then truncated (Corrupt): GenerateFrame gives the frame before truncation.
//
// It returns the paths written, frames first, then frames.csv, truth.fits and catalog.csv; on error
// (invalid options, I/O, ctx cancelled between frames) it returns the paths completed so far
// with the error.
func Write(ctx context.Context, dir string, o Options, progress func(done, total int)) ([]string, error) {
	g, err := newGenerator(o)
	if err != nil {
		return nil, err
	}
	lights := filepath.Join(dir, LightsDir)
	if err := os.MkdirAll(lights, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	total := o.TotalFrames()
	paths := make([]string, 0, total+3)
	var rows []frameRow // frames.csv of a Seestar set
	corrupted := 0
	for i := range total {
		if err := ctx.Err(); err != nil {
			return paths, fmt.Errorf("synth: stopped before frame %d/%d: %w", i+1, total, err)
		}
		f, err := g.frameAt(i)
		if err != nil {
			return paths, err
		}
		name := filepath.Join(lights, f.Name)
		if err := writeFrame(name, f, g.sites != nil); err != nil {
			return paths, err
		}
		if g.corrupt != nil && g.corrupt[i] {
			if err := corruptFile(name, corrupted); err != nil {
				return paths, err
			}
			corrupted++
		}
		if o.Seestar {
			r, err := g.frameRowAt(i)
			if err != nil {
				return paths, err
			}
			rows = append(rows, r)
		}
		paths = append(paths, name)
		if progress != nil {
			progress(i+1, total)
		}
	}

	if o.Seestar {
		name := filepath.Join(dir, FramesCSV)
		if err := writeFramesCSV(name, rows); err != nil {
			return paths, err
		}
		paths = append(paths, name)
	}
	if g.sky != nil {
		return g.sky.writeTruthAndCatalog(dir, paths)
	}
	name := filepath.Join(dir, "truth.fits")
	if err := fits.Write(name, g.truthImage(), fits.WriteOptions{}); err != nil {
		return paths, fmt.Errorf("synth: %w", err)
	}
	paths = append(paths, name)

	name = filepath.Join(dir, "catalog.csv")
	if err := writeCatalog(name, g.stars, o.isBayer()); err != nil {
		return paths, err
	}
	return append(paths, name), nil
}

// writeFrame writes float32 for mono frames and uint16 (BITPIX 16, BZERO 32768) for CFA
// frames, whose pixels are already quantised to 0..65535: fits.Write refuses rather than
// clamps anything else, so a quantisation bug surfaces as an error.
func writeFrame(name string, f Frame, cfa bool) error {
	img := &fits.Image{Width: f.Width, Height: f.Height, Channels: 1, Pix: f.Pix, Header: fitsHeader(f.Header)}
	opt := fits.WriteOptions{}
	if cfa {
		opt.Bitpix = 16
	}
	if err := fits.Write(name, img, opt); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

func fitsHeader(cards []Card) *fits.Header {
	h := fits.NewHeader()
	for _, c := range cards {
		h.Set(c.Key, c.Value, c.Comment)
	}
	return h
}

// truthImage wraps the truth with the frames' WCS, so it overlays any frame of the set.
func (g *generator) truthImage() *fits.Image {
	o := g.o
	cards := []Card{
		{"OBJECT", "SYNTH", "synthetic field"},
		{"CREATOR", "zmosaic synth", "software that made this file"},
		{"IMAGETYP", "TRUTH", "noise-free, artefact-free sky + stars"},
		{"BUNIT", "ADU", ""},
		{"SYNSEED", strconv.FormatUint(o.Seed, 10), "zmosaic synth seed"},
	}
	cards = append(cards, wcsCards(o)...)
	ch := 1
	if g.sites != nil {
		ch = 3
		cards = append(cards, Card{"CHANNELS", "RGB", "planes of the CHW cube"})
	}
	return &fits.Image{Width: o.Width, Height: o.Height, Channels: ch, Pix: g.truth, Header: fitsHeader(cards)}
}

// writeCatalog writes one line per star: x,y (0-based pixel coordinates of the centre, pixel
// (0,0) spanning -0.5..0.5) and flux (integrated ADU); Bayer sets add the per-channel fluxes.
// Numbers are written in their shortest exact form so tests can compare against them.
func writeCatalog(name string, stars []star, rgb bool) error {
	return writeCatalogCols(name, "x,y", stars, rgb)
}

// writeCatalogCols is writeCatalog with the names of the two position columns (x,y or
// ra,dec), which stars carry in their x and y fields.
func writeCatalogCols(name, pos string, stars []star, rgb bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".synth-*.tmp")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if rgb {
		bw.WriteString(pos + ",flux,flux_r,flux_g,flux_b\n")
	} else {
		bw.WriteString(pos + ",flux\n")
	}
	for _, s := range stars {
		bw.WriteString(num(s.x) + "," + num(s.y) + "," + num(s.flux))
		if rgb {
			for _, c := range s.colour {
				bw.WriteString("," + num(s.flux*c))
			}
		}
		bw.WriteByte('\n')
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600; outputs are shared files
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err = os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}
