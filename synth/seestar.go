package synth

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Seestar-like sets: what a hierarchical run (`zmosaic run`) is fed in practice. A Seestar S50
// frame is 1080×1920 (portrait) Bayer GRBG uint16 with BZERO 32768 at 2.39"/px (2.9 µm pixels
// behind 250 mm), 10 s subs, on an alt-az mount whose field turns during a session. Besides
// the WCS its header holds the mount's pointing (RA/DEC, OBJCTRA/OBJCTDEC), which a pipeline
// uses as a hint when the WCS is missing. The bad inputs a real folder contains (truncated
// copies, frames the camera failed to solve) are injected on request.

// Streams of the Seestar extras, separate from the image streams so that hints and injections
// never change pixels.
const (
	streamHints  = 6
	streamInject = 7
)

// Seestar S50 optics: focal length in mm; the pixel size written follows the pixel scale.
const seestarFocalMM = 250

// hintErrorArcsec bounds the mount's pointing error per axis: the RA/DEC hints are the true
// frame centre moved by up to this much, as a mount reports where it thinks it points.
const hintErrorArcsec = 30

// maxFieldRotationDeg bounds Options.FieldRotationDeg; an alt-az session near the zenith can
// turn faster, but a panel's frames then no longer stack sensibly anyway.
const maxFieldRotationDeg = 90

// corruptHeaderBytes is where every second corrupted file is cut: inside its first header
// block, so the file is not FITS at all; the others are cut in the middle of their data.
const corruptHeaderBytes = 1000

// FramesCSV is the per-frame truth file of a Seestar set (Options.Seestar).
const FramesCSV = "frames.csv"

// SeestarOptions returns the Seestar S50 preset: DefaultOptions with 1080×1920 GRBG frames at
// 2.39"/px (FOV 0.72°×1.28°), 600 stars per frame area and Seestar header keys. Mosaic, field
// rotation and injections stay off; set them on the result.
func SeestarOptions() Options {
	o := DefaultOptions()
	o.Width, o.Height = 1080, 1920
	o.Bayer = "GRBG"
	o.ScaleArcsec = 2.39
	o.Stars = 600
	o.Frames = 20
	o.Seestar = true
	return o
}

// fieldRotation returns frame i's position-angle offset from RotateDeg, in degrees, spread
// linearly over its panel's frames and centred on 0.
func fieldRotation(o Options, i int) float64 {
	if o.FieldRotationDeg == 0 || o.Frames == 1 {
		return 0
	}
	j := i % o.Frames
	return o.FieldRotationDeg * (float64(j)/float64(o.Frames-1) - 0.5)
}

// rotationMargin is how far, in pixels, the corners of a frame turned by half the field
// rotation reach beyond the unturned frame: the catalogue must cover them too.
func rotationMargin(o Options) float64 {
	a := math.Abs(o.FieldRotationDeg) / 2 * math.Pi / 180
	if a == 0 {
		return 0
	}
	s, c := math.Sincos(a)
	w, h := float64(o.Width), float64(o.Height)
	return math.Max(w*c+h*s-w, w*s+h*c-h) / 2
}

// Injected returns the frame indices (0-based, ascending) that Write corrupts and those it
// writes without WCS keys: the first Corrupt, then the next NoWCS entries of a permutation of
// the frames drawn from the seed alone.
func Injected(o Options) (corrupt, noWCS []int, err error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	corrupt, noWCS = injected(o)
	return corrupt, noWCS, nil
}

// injected is Injected for valid options.
func injected(o Options) (corrupt, noWCS []int) {
	if o.Corrupt == 0 && o.NoWCS == 0 {
		return nil, nil
	}
	perm := newRand(o.Seed, streamInject, 0, 0).Perm(o.TotalFrames())
	corrupt = slices.Clone(perm[:o.Corrupt])
	noWCS = slices.Clone(perm[o.Corrupt : o.Corrupt+o.NoWCS])
	slices.Sort(corrupt)
	slices.Sort(noWCS)
	return corrupt, noWCS
}

// indexSet turns a list of frame indices into a membership table of n frames.
func indexSet(idx []int, n int) []bool {
	if len(idx) == 0 {
		return nil
	}
	set := make([]bool, n)
	for _, i := range idx {
		set[i] = true
	}
	return set
}

// seestarCards are the acquisition keys of a Seestar frame i whose true centre is centre.
func seestarCards(o Options, i int, centre [2]float64) []Card {
	rng := newRand(o.Seed, streamHints, uint64(i), 0)
	ddec := (2*rng.Float64() - 1) * hintErrorArcsec / 3600
	dra := (2*rng.Float64() - 1) * hintErrorArcsec / 3600 / math.Max(math.Cos(centre[1]*math.Pi/180), 1e-3)
	ra := math.Mod(centre[0]+dra+360, 360)
	dec := math.Max(-90, math.Min(90, centre[1]+ddec))
	eq := 1
	if o.FieldRotationDeg != 0 {
		eq = 0
	}
	return []Card{
		{"TELESCOP", "Seestar S50", "synthetic, zmosaic synth --seestar"},
		{"RA", ra, "mount pointing RA, deg (hint)"},
		{"DEC", dec, "mount pointing Dec, deg (hint)"},
		{"OBJCTRA", sexagesimal(ra/15, false), "mount pointing RA, hours (hint)"},
		{"OBJCTDEC", sexagesimal(dec, true), "mount pointing Dec, deg (hint)"},
		{"EQMODE", eq, "1 equatorial, 0 alt-az"},
		{"FOCALLEN", float64(seestarFocalMM), "focal length, mm"},
		{"XPIXSZ", o.ScaleArcsec * seestarFocalMM / 206.265, "pixel size, um"},
		{"YPIXSZ", o.ScaleArcsec * seestarFocalMM / 206.265, "pixel size, um"},
	}
}

// sexagesimal formats v (hours or degrees) as "HH MM SS.ss", or "+DD MM SS.s" when signed.
func sexagesimal(v float64, signed bool) string {
	sign := "+"
	if v < 0 {
		sign, v = "-", -v
	}
	prec, scale := 2, 100.0
	if signed {
		prec, scale = 1, 10.0
	}
	// Round once in the smallest unit so 59.999 s never prints as 60.00.
	units := int64(math.Round(v * 3600 * scale))
	d := units / (3600 * int64(scale))
	m := units / (60 * int64(scale)) % 60
	s := float64(units%(60*int64(scale))) / scale
	out := fmt.Sprintf("%02d %02d %0*.*f", d, m, prec+3, prec, s)
	if signed {
		out = sign + out
	}
	return out
}

// corruptFile truncates a written frame: the k-th corrupted file (k from 0) loses everything
// after corruptHeaderBytes when k is odd, else the second half of the file.
func corruptFile(name string, k int) error {
	st, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	size := st.Size() / 2
	if k%2 == 1 {
		size = min(size, corruptHeaderBytes)
	}
	if err := os.Truncate(name, size); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// frameRow is one line of frames.csv.
type frameRow struct {
	name            string
	panel           int
	ra, dec, rotDeg float64
	date            time.Time
	corrupt, noWCS  bool
}

// frameRowAt describes frame i as written.
func (g *generator) frameRowAt(i int) (frameRow, error) {
	o := g.o
	r := frameRow{
		name: frameName(i, o.TotalFrames()), panel: i / o.Frames,
		ra: o.RA, dec: o.Dec, rotDeg: tinyRotationDeg,
		date:    frameDate(i),
		corrupt: g.corrupt != nil && g.corrupt[i],
		noWCS:   g.noWCS != nil && g.noWCS[i],
	}
	if g.sky != nil {
		w, err := g.sky.layout.frameWCS(o, g.sky.master, i)
		if err != nil {
			return r, err
		}
		r.ra, r.dec, r.rotDeg = w.CRVal[0], w.CRVal[1], o.RotateDeg+fieldRotation(o, i)
	}
	return r, nil
}

// writeFramesCSV writes frames.csv: per frame its file name, panel, true centre (deg), camera
// position angle (deg), DATE-OBS and whether it was corrupted or written without WCS.
func writeFramesCSV(name string, rows []frameRow) error {
	var b strings.Builder
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	b.WriteString("file,panel,ra,dec,rotation_deg,date_obs,corrupt,no_wcs\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%d,%s,%s,%s,%s,%t,%t\n", filepath.Join(LightsDir, r.name), r.panel,
			num(r.ra), num(r.dec), num(r.rotDeg), r.date.Format(dateLayout), r.corrupt, r.noWCS)
	}
	return writeTextAtomic(name, b.String())
}

// writeTextAtomic writes a text file through a temporary name renamed at the end.
func writeTextAtomic(name, text string) (err error) {
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
	if _, err = tmp.WriteString(text); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
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
