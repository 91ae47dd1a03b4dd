package synth

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// writeTruthAndCatalog writes truth.fits on the natural grid and catalog.csv in RA/Dec for a
// sky-mode set, appending their paths to paths.
func (sc *skyScene) writeTruthAndCatalog(dir string, paths []string) ([]string, error) {
	o := sc.o
	nat, w, h, err := NaturalGrid(o)
	if err != nil {
		return paths, err
	}
	rgb := o.isBayer()
	cards := []Card{
		{"OBJECT", "SYNTH", "synthetic field"},
		{"CREATOR", "zmosaic synth", "software that made this file"},
		{"IMAGETYP", "TRUTH", "noise-free, artefact-free sky + stars"},
		{"BUNIT", "ADU", ""},
		{"SYNSEED", strconv.FormatUint(o.Seed, 10), "zmosaic synth seed"},
	}
	cards = append(cards, wcsToCards(nat)...)
	ch := 1
	if rgb {
		ch = 3
		cards = append(cards, Card{"CHANNELS", "RGB", "planes of the CHW cube"})
	}
	img := &fits.Image{Width: w, Height: h, Channels: ch, Pix: sc.render(nat, w, h, rgb), Header: fitsHeader(cards)}
	name := filepath.Join(dir, "truth.fits")
	if err := fits.Write(name, img, fits.WriteOptions{}); err != nil {
		return paths, fmt.Errorf("synth: %w", err)
	}
	paths = append(paths, name)

	stars := make([]star, len(sc.stars))
	for i, s := range sc.stars {
		stars[i] = star{x: s.ra, y: s.dec, flux: s.flux, colour: s.colour}
	}
	name = filepath.Join(dir, "catalog.csv")
	if err := writeCatalogCols(name, "ra,dec", stars, rgb); err != nil {
		return paths, err
	}
	return append(paths, name), nil
}
