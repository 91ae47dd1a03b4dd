package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Preprocessing (phase 1, spec §1.2) turns every usable frame into a float32 cache entry:
// hot pixels corrected on the raw CFA mosaic (same-colour 5×5 neighbourhoods), then a bilinear
// debayer in float (never a 16-bit round trip) for Bayer frames, giving 3 channels; mono and
// colour frames get the hot-pixel correction per plane. With --background poly1|poly2 the sky
// gradient is then removed: the surface is fitted on the CPU (cpu.FitBackground, on the
// luminance) and subtracted through the Runner; a frame whose fit fails (too little sky) is
// kept without removal and a warning says so. The entry keeps the frame's header
// (its WCS, or the solver's) minus the keys that described the raw data (BAYERPAT, BZERO, …).

// runFrame is one scanned file as the run carries it through the phases.
type runFrame struct {
	scan     *ScanFrame
	in       *RunInput
	skipped  bool
	solution *fits.Header // WCS cards from the solver; nil when the header had a WCS
	solvedBy string
	w        *wcs.WCS // the frame's valid WCS (header or solution)
	key      string   // cache key
	path     string   // cache entry (data file)
}

// rawKeys described the raw samples: they no longer hold for the preprocessed float32 data.
var rawKeys = []string{"BAYERPAT", "BZERO", "BSCALE", "BLANK", "DATAMIN", "DATAMAX", "XBAYROFF", "YBAYROFF", "CHECKSUM", "DATASUM"}

// listInputs records every scanned file in the report and returns the run's frames, with
// unreadable ones (and frames without WCS when no solver is set) already skipped.
func (r *runState) listInputs(scan *ScanResult) []*runFrame {
	r.rep.Inputs = make([]RunInput, len(scan.Frames))
	frames := make([]*runFrame, len(scan.Frames))
	for i := range scan.Frames {
		s := &scan.Frames[i]
		r.rep.Inputs[i] = RunInput{File: s.Path, Status: "used"}
		f := &runFrame{scan: s, in: &r.rep.Inputs[i], w: s.WCS}
		frames[i] = f
		switch {
		case s.Error != "":
			r.skip(f, SkipUnreadable, s.Error)
		case s.WCS == nil && r.opt.Solver == nil:
			r.skip(f, SkipNoWCS, s.WCSError)
		}
	}
	return frames
}

// skip marks a frame as left out, in the report and as an event.
func (r *runState) skip(f *runFrame, kind, reason string) {
	f.skipped = true
	f.in.Status = "skipped"
	r.rep.Skipped = append(r.rep.Skipped, SkippedFrame{File: f.scan.Path, Kind: kind, Reason: reason})
	// The scan already warned about unreadable frames and frames without WCS.
	level := compute.Warn
	if kind == SkipUnreadable || kind == SkipNoWCS {
		level = compute.Debug
	}
	r.events.Emit(level, "run_frame_skipped_"+kind, map[string]any{"file": f.scan.Path, "reason": reason})
}

// solveAll plate-solves, one frame at a time, the readable frames without a valid WCS. A
// solution is kept in OUT/cache/solutions (keyed by the file's path, size and time), so a
// rerun does not solve again; the user's file is never written to.
func (r *runState) solveAll(frames []*runFrame) error {
	var todo []*runFrame
	for _, f := range frames {
		if !f.skipped && f.w == nil {
			todo = append(todo, f)
		}
	}
	dir := filepath.Join(r.cache.Dir(), "solutions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	name := r.opt.Solver.Name()
	for i, f := range todo {
		if err := r.ctx.Err(); err != nil {
			return fmt.Errorf("pipeline: solving stopped at frame %d/%d: %w", i+1, len(todo), err)
		}
		err := r.solveOne(f, dir, name)
		if err != nil {
			if r.ctx.Err() != nil {
				return fmt.Errorf("pipeline: solving %s stopped: %w", f.scan.Path, r.ctx.Err())
			}
			r.skip(f, SkipSolveFailed, err.Error())
		}
		r.hooks.progress(PhaseSolve, i+1, len(todo))
	}
	return nil
}

func (r *runState) solveOne(f *runFrame, dir, solver string) error {
	key, err := CacheKey(CacheSource{Path: absPath(f.scan.Path), Size: f.scan.Size, ModTime: f.scan.ModTime, Options: map[string]string{"solver": solver}})
	if err != nil {
		return err
	}
	file := filepath.Join(dir, key+".fits")
	hdr, err := readHeader(f.scan.Path)
	if err != nil {
		return err
	}
	var sol *fits.Header
	if cached, err := readHeader(file); err == nil {
		sol = cached
		r.events.Emit(compute.Debug, "solve_cached", map[string]any{"file": f.scan.Path, "solver": solver})
	} else {
		r.events.Emit(compute.Info, "solve_start", map[string]any{"file": f.scan.Path, "solver": solver})
		sol, err = r.opt.Solver.Solve(r.ctx, f.scan.Path, hdr)
		if err != nil {
			return err
		}
		if sol == nil {
			return errors.New("the solver returned no solution")
		}
	}
	merged := withWCS(hdr, sol)
	w, err := frameWCS(merged, f.scan.Width, f.scan.Height, wcs.DefaultValidateOptions())
	if err != nil {
		return fmt.Errorf("solution of %s: %w", solver, err)
	}
	// Kept as the header of a 1×1 image: FITS keeps the cards' types as the solver gave them.
	keep := &fits.Image{Width: 1, Height: 1, Channels: 1, Pix: []float32{float32(math.NaN())}, Header: wcsOnly(sol)}
	if err := fits.Write(file, keep, fits.WriteOptions{}); err != nil {
		return err
	}
	f.solution, f.solvedBy, f.w = wcsOnly(sol), solver, w
	f.in.Solved = solver
	ra, dec, err := frameCentre(w, f.scan.Width, f.scan.Height)
	if err != nil {
		return err
	}
	f.scan.RA, f.scan.Dec, f.scan.CentreFrom = ra, dec, CentreFromWCS
	r.events.Emit(compute.Info, "solve_done", map[string]any{"file": f.scan.Path, "solver": solver, "ra": ra, "dec": dec})
	return nil
}

// readHeader returns the header of a file's image HDU.
func readHeader(path string) (*fits.Header, error) {
	f, err := fits.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hdu, err := f.Image("")
	if err != nil {
		return nil, err
	}
	return hdu.Header.Clone(), nil
}

// wcsOnly keeps the WCS cards of h.
func wcsOnly(h *fits.Header) *fits.Header {
	out := fits.NewHeader()
	for _, c := range h.Cards() {
		if wcsKey.MatchString(c.Key) {
			out.Set(c.Key, c.Value, c.Comment)
		}
	}
	return out
}

// withWCS is h with its WCS cards replaced by those of sol.
func withWCS(h, sol *fits.Header) *fits.Header {
	out := h.Clone()
	for _, c := range out.Cards() {
		if wcsKey.MatchString(c.Key) {
			out.Delete(c.Key)
		}
	}
	for _, c := range wcsOnly(sol).Cards() {
		out.Set(c.Key, c.Value, c.Comment)
	}
	return out
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// prepSpec is how one frame is preprocessed; it is also its cache key's options.
func (r *runState) prepSpec(f *runFrame) (preprocessKey, cpu.BayerPattern, error) {
	k := preprocessKey{HotPixels: r.opt.HotPixels, Background: r.opt.Background}
	if r.opt.HotPixels {
		k.Threshold, k.Isolation = r.opt.HotPixelThreshold, r.opt.HotPixelIsolation
	}
	if bg, ok, err := r.opt.backgroundOptions(); err != nil {
		return k, 0, err
	} else if ok {
		fit, err := json.Marshal(bg)
		if err != nil {
			return k, 0, err
		}
		k.BackgroundFit = string(fit)
	}
	var p cpu.BayerPattern
	if f.scan.Channels == 1 && !r.opt.bayerNone() {
		p, _ = r.opt.bayerOverride()
		if p == 0 && f.scan.Bayer != "" {
			var err error
			if p, err = cpu.ParseBayerPattern(f.scan.Bayer); err != nil {
				return k, 0, fmt.Errorf("BAYERPAT: %w (use --bayer to override)", err)
			}
		}
	}
	if p != 0 {
		k.Bayer = p.String()
		if f.scan.Width%2 != 0 || f.scan.Height%2 != 0 || f.scan.Width < 2 || f.scan.Height < 2 {
			return k, 0, fmt.Errorf("a Bayer frame of %d×%d px: both sides must be even", f.scan.Width, f.scan.Height)
		}
	}
	if f.solution != nil {
		sum := sha256.New()
		for _, c := range f.solution.Cards() {
			fmt.Fprintf(sum, "%s=%v\n", c.Key, c.Value)
		}
		k.Solver, k.WCS = f.solvedBy, hex.EncodeToString(sum.Sum(nil))
	}
	return k, p, nil
}

// preprocessAll fills the cache: every frame is looked up by its key and computed only when
// missing. Frames run in parallel within the memory budget (each holds its raw plane and the
// debayered planes); the Runner runs their kernels one at a time, so the gain is the decoding,
// encoding and hashing around them.
func (r *runState) preprocessAll(frames []*runFrame) error {
	var todo []*runFrame
	var perFrame int64
	for _, f := range frames {
		if f.skipped {
			continue
		}
		todo = append(todo, f)
		px := int64(f.scan.Width) * int64(f.scan.Height)
		// raw plane(s) + hot-pixel output + 3 debayered planes + the background fit's
		// luminance plane, float32, plus the encoder's 1 MiB buffer and the decoder's chunk.
		perFrame = max(perFrame, px*4*int64(2*f.scan.Channels+4)+2<<20)
	}
	workers := r.opt.PreprocessWorkers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if perFrame > 0 {
		workers = max(1, min(workers, int(int64(r.opt.MemBudget)/perFrame)))
	}
	errs := make([]error, len(todo))
	var mu sync.Mutex
	done, hits := 0, 0
	err := scanParallel(r.ctx, len(todo), workers, func(i int) {
		hit, err := r.preprocessOne(todo[i])
		errs[i] = err
		mu.Lock()
		done++
		if hit {
			hits++
		}
		r.hooks.progress(PhasePreprocess, done, len(todo))
		mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("pipeline: preprocessing stopped after %d/%d frames: %w", done, len(todo), err)
	}
	failed := 0
	for i, f := range todo {
		if errs[i] != nil {
			if r.ctx.Err() != nil {
				return fmt.Errorf("pipeline: preprocessing stopped: %w", r.ctx.Err())
			}
			r.skip(f, SkipPreprocess, errs[i].Error())
			failed++
		}
	}
	r.events.Emit(compute.Info, "preprocess_done", map[string]any{
		"frames": len(todo) - failed, "cached": hits, "computed": len(todo) - failed - hits, "failed": failed,
	})
	return nil
}

// preprocessOne makes sure f has a verified cache entry, computing it when needed; hit says it
// was already there.
func (r *runState) preprocessOne(f *runFrame) (hit bool, err error) {
	spec, pattern, err := r.prepSpec(f)
	if err != nil {
		return false, err
	}
	src := CacheSource{Path: absPath(f.scan.Path), Size: f.scan.Size, ModTime: f.scan.ModTime, Options: spec}
	if f.key, err = CacheKey(src); err != nil {
		return false, err
	}
	f.in.CacheKey, f.in.Bayer = f.key, spec.Bayer
	if p, ok := r.cache.Lookup(f.key); ok {
		f.path, f.in.Cached = p, true
		return true, nil
	}
	img, n, err := r.preprocessImage(f, pattern)
	if err != nil {
		return false, err
	}
	f.in.HotPix = n
	if f.path, err = r.cache.Put(f.key, img, src); err != nil {
		return false, err
	}
	return false, nil
}

// preprocessImage reads a frame and returns its preprocessed image and the number of hot
// pixels replaced.
func (r *runState) preprocessImage(f *runFrame, pattern cpu.BayerPattern) (*fits.Image, int, error) {
	file, err := fits.Open(f.scan.Path)
	if err != nil {
		return nil, 0, err
	}
	hdu, err := file.Image("")
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	raw, err := hdu.ReadImage()
	file.Close()
	if err != nil {
		return nil, 0, err
	}
	h := raw.Header.Clone()
	if f.solution != nil {
		h = withWCS(h, f.solution)
	}
	for _, k := range rawKeys {
		h.Delete(k)
	}
	w, ht := raw.Width, raw.Height
	hot := 0
	var notes []string
	if r.opt.HotPixels {
		hp := r.opt.hotPixelOptions(pattern != 0)
		out := make([]float32, len(raw.Pix))
		for c := range raw.Channels {
			n, err := r.runner.HotPixels(r.ctx, out[c*w*ht:(c+1)*w*ht], raw.Plane(c), w, ht, hp)
			if err != nil {
				return nil, 0, err
			}
			hot += n
		}
		raw.Pix = out
		notes = append(notes, fmt.Sprintf("hot pixels k=%g isolation=%g cfa=%t: %d replaced", hp.Threshold, hp.Isolation, hp.CFA, hot))
	}
	img := &fits.Image{Width: w, Height: ht, Channels: raw.Channels, Pix: raw.Pix, Header: h}
	if pattern != 0 {
		rgb := make([]float32, 3*w*ht)
		if err := r.runner.Debayer(r.ctx, rgb, raw.Pix, w, ht, pattern); err != nil {
			return nil, 0, err
		}
		img.Channels, img.Pix = 3, rgb
		notes = append(notes, "bilinear debayer "+pattern.String())
	}
	if note, err := r.removeBackground(f, img); err != nil {
		return nil, 0, err
	} else if note != "" {
		notes = append(notes, note)
	}
	for _, n := range notes {
		h.Add("HISTORY", nil, "zmosaic preprocess: "+n)
	}
	h.Set("ZMSOURCE", filepath.Base(f.scan.Path), "zmosaic: raw frame this was made from")
	if f.solvedBy != "" {
		h.Set("ZMSOLVER", f.solvedBy, "zmosaic: WCS solved by")
	}
	return img, hot, nil
}

// removeBackground subtracts the sky gradient from img in place when --background asks for
// it, records the choice in the header (ZMBKG) and returns the HISTORY note. A fit that fails
// for lack of sky (cpu.ErrBackgroundFit) leaves the frame as it is, with a warning: losing the
// frame would be worse than keeping its gradient.
func (r *runState) removeBackground(f *runFrame, img *fits.Image) (string, error) {
	bg, ok, err := r.opt.backgroundOptions()
	if err != nil || !ok {
		return "", err
	}
	m, err := cpu.FitBackground(img.Pix, img.Width, img.Height, img.Channels, bg)
	if errors.Is(err, cpu.ErrBackgroundFit) {
		r.events.Emit(compute.Warn, "preprocess_background_skipped", map[string]any{"file": f.scan.Path, "reason": err.Error()})
		img.Header.Set("ZMBKG", "none", "zmosaic: background fit failed, not removed")
		return "background " + r.opt.Background + " not removed: " + err.Error(), nil
	}
	if err != nil {
		return "", err
	}
	if err := r.runner.SubtractBackground(r.ctx, img.Pix, img.Pix, img.Width, img.Height, img.Channels, m); err != nil {
		return "", err
	}
	img.Header.Set("ZMBKG", r.opt.Background, "zmosaic: sky gradient removed (poly1/poly2)")
	return fmt.Sprintf("background %s (%s): %d/%d boxes kept, level %.6g, range %.6g removed",
		r.opt.Background, map[bool]string{true: "per channel", false: "luminance"}[bg.PerChannel],
		m.Used, m.Boxes, m.Level[0], m.Range[0]), nil
}

// cachedFrame is a frame's cache entry named after the raw frame it was made from, so that
// the stack's events, report and header (HISTORY, ZMREF, ZMALREF) name the user's files rather
// than cache keys; Open reads the cache entry.
type cachedFrame struct{ name, path string }

func (c cachedFrame) Name() string              { return c.name }
func (c cachedFrame) Open() (*fits.File, error) { return fits.Open(c.path) }

// cluster groups the frames that made it through preprocessing.
func (r *runState) cluster(frames []*runFrame) ([]Group, error) {
	var cf []ClusterFrame
	var used []*runFrame
	for _, f := range frames {
		if f.skipped {
			continue
		}
		used = append(used, f)
		cf = append(cf, ClusterFrame{RA: f.scan.RA, Dec: f.scan.Dec, Time: f.scan.DateObs, Key: f.scan.Path})
	}
	if len(cf) == 0 {
		return nil, errors.New("pipeline: no usable frame: every input was skipped (see the report)")
	}
	res, err := ClusterFrames(cf, r.opt.clusterOptions(), Hooks{Events: r.events})
	if err != nil {
		return nil, err
	}
	r.rep.Cluster = res
	// Members index the used frames; the run keeps them as indices into frames.
	pos := make(map[*runFrame]int, len(frames))
	for i, f := range frames {
		pos[f] = i
	}
	for g := range res.Groups {
		for k, m := range res.Groups[g].Members {
			res.Groups[g].Members[k] = pos[used[m]]
		}
	}
	return res.Groups, nil
}

// writeJSONAtomic writes v as indented JSON through a temporary file.
func writeJSONAtomic(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", name, err)
	}
	return writeFileAtomic(name, append(data, '\n'))
}

// tileName is the file name of master tile n (1-based).
func tileName(n int) string { return fmt.Sprintf("master_tile_%03d.fits", n) }

// isTileFile reports whether name is a master tile or its manifest.
func isTileFile(name string) bool {
	return strings.HasPrefix(name, "master_tile_") && (strings.HasSuffix(name, ".fits") || strings.HasSuffix(name, ".json"))
}
