package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Master tiles (phase 3, spec §1.4): each group's cache entries are stacked with StackWith,
// aligned by WCS onto the frame nearest the group's centre, and written as
// tiles/master_tile_NNN.fits (float32, WCS, ALPHA from coverage, frame count and options in the
// header). After the tile, a manifest (master_tile_NNN.json) records the cache keys it was
// made from, the options that change its pixels, and the tile's size and SHA-256. Both are
// written through temporary files; the manifest goes last, so a tile without a manifest (or
// with one that does not match) is never reused: it is made again.

// tileFormatVersion changes whenever what a tile holds changes, so old tiles stop matching.
const tileFormatVersion = 1

// tileManifest is master_tile_NNN.json.
type tileManifest struct {
	Version  int             `json:"version"`
	Tile     string          `json:"tile"`
	Inputs   []string        `json:"inputs"`  // cache keys, in stacking order
	Options  json.RawMessage `json:"options"` // tileOptions
	Size     int64           `json:"size"`
	SHA256   string          `json:"sha256"`
	Frames   int             `json:"frames"`
	Width    int             `json:"width"`
	Height   int             `json:"height"`
	Channels int             `json:"channels"`
}

// tileOptions are the settings that change a tile's pixels. Budgets and worker counts do not
// (the stack's result is independent of both); the requested backend does, within the
// cross-backend tolerance, so a tile made on the GPU is not reused for a CPU run.
type tileOptions struct {
	Reject     cpu.Reject      `json:"reject"`
	Combine    cpu.Combine     `json:"combine"`
	KappaLow   float32         `json:"kappa_low"`
	KappaHigh  float32         `json:"kappa_high"`
	Iterations int             `json:"iterations"`
	Weight     cpu.Weight      `json:"weight"`
	Norm       cpu.Norm        `json:"norm"`
	Interp     cpu.Interp      `json:"interp"`
	Align      string          `json:"align"`
	Backend    compute.Backend `json:"backend"`
}

func (r *runState) tileOptionsJSON() json.RawMessage {
	s := r.opt.stackOptions()
	raw, _ := json.Marshal(tileOptions{s.Reject, s.Combine, s.KappaLow, s.KappaHigh, s.Iterations, s.Weight, s.Norm, s.Interp, s.Align, s.Compute.Backend})
	return raw
}

// masterTiles makes (or reuses) one tile per group, in group order, and returns their paths.
func (r *runState) masterTiles(frames []*runFrame, groups []Group) ([]string, error) {
	dir := filepath.Join(r.outDir, TilesDirName)
	units := 1000 * len(groups)
	paths := make([]string, len(groups))
	for g, grp := range groups {
		if err := r.ctx.Err(); err != nil {
			return nil, fmt.Errorf("pipeline: run stopped before master tile %d/%d: %w", g+1, len(groups), err)
		}
		n := g + 1
		paths[g] = filepath.Join(dir, tileName(n))
		keys := make([]string, len(grp.Members))
		srcs := make([]FrameSource, len(grp.Members))
		for k, m := range grp.Members {
			keys[k], srcs[k] = frames[m].key, cachedFrame{frames[m].scan.Path, frames[m].path}
			frames[m].in.Tile = n
		}
		t := RunTile{Number: n, File: paths[g], Frames: len(keys), Center: grp.Center, Split: grp.Split}
		t0 := time.Now()
		if m, ok := r.matchingTile(paths[g], keys); ok {
			t.Reused, t.Width, t.Height = true, m.Width, m.Height
			r.events.Emit(compute.Info, "run_tile_reused", map[string]any{"tile": n, "tiles": len(groups), "frames": len(keys), "file": paths[g]})
		} else {
			hooks := Hooks{Events: r.events, Progress: r.scaled(PhaseTiles, g*1000, units,
				map[string][2]int{"scan": {0, 50}, "measure": {50, 300}, "combine": {300, 1000}})}
			w, h, err := r.makeTile(paths[g], srcs, keys, grp, n, hooks)
			if err != nil {
				return nil, fmt.Errorf("pipeline: master tile %d: %w", n, err)
			}
			t.Width, t.Height = w, h
			t.Seconds = time.Since(t0).Seconds()
			r.events.Emit(compute.Info, "run_tile_done", map[string]any{
				"tile": n, "tiles": len(groups), "frames": len(keys), "file": paths[g], "seconds": t.Seconds,
			})
		}
		r.rep.Tiles = append(r.rep.Tiles, t)
		r.hooks.progress(PhaseTiles, (g+1)*1000, units)
	}
	r.removeStaleTiles(dir, len(groups))
	return paths, nil
}

// matchingTile returns the manifest of a finished tile made from keys with the current options,
// after checking the tile file against it.
func (r *runState) matchingTile(path string, keys []string) (tileManifest, bool) {
	var m tileManifest
	raw, err := os.ReadFile(manifestOf(path))
	if err != nil || json.Unmarshal(raw, &m) != nil {
		return m, false
	}
	// The manifest is indented: compare the options compacted.
	var opts bytes.Buffer
	if json.Compact(&opts, m.Options) != nil {
		return m, false
	}
	if m.Version != tileFormatVersion || !slices.Equal(m.Inputs, keys) || opts.String() != string(r.tileOptionsJSON()) {
		return m, false
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != m.Size {
		return m, false
	}
	if r.opt.CacheVerifyContent {
		if sum, err := hashFile(path); err != nil || sum != m.SHA256 {
			return m, false
		}
	}
	return m, true
}

func manifestOf(tile string) string { return tile[:len(tile)-len(".fits")] + ".json" }

// makeTile stacks one group and writes the tile, then its manifest.
func (r *runState) makeTile(path string, srcs []FrameSource, keys []string, grp Group, n int, hooks Hooks) (int, int, error) {
	// An old manifest must not describe the tile while it is being replaced.
	if err := os.Remove(manifestOf(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, err
	}
	res, err := StackWith(r.ctx, r.runner, srcs, r.opt.stackOptions(), hooks)
	if err != nil {
		return 0, 0, err
	}
	img := res.Image
	h := img.Header
	h.Set("MT_NFRAMES", res.Used, "zmosaic: frames stacked into this master tile")
	h.Set("ZMTILE", n, "zmosaic: master tile number")
	h.Set("ZMTILERA", grp.Center[0], "[deg] zmosaic: group centre RA")
	h.Set("ZMTILEDE", grp.Center[1], "[deg] zmosaic: group centre Dec")
	h.Set("ZMCLDEG", r.opt.ClusterDeg, "[deg] zmosaic: clustering threshold")
	if grp.Split != "" {
		h.Set("ZMSPLIT", grp.Split, "zmosaic: how the group was cut from a larger one")
	}
	for _, k := range rawKeys {
		h.Delete(k)
	}
	if err := fits.Write(path, img, fits.WriteOptions{Alpha: Alpha(img)}); err != nil {
		return 0, 0, err
	}
	sum, err := hashFile(path)
	if err != nil {
		return 0, 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	m := tileManifest{
		Version: tileFormatVersion, Tile: filepath.Base(path), Inputs: keys, Options: r.tileOptionsJSON(),
		Size: st.Size(), SHA256: sum, Frames: res.Used, Width: img.Width, Height: img.Height, Channels: img.Channels,
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, 0, err
	}
	err = writeAtomic(manifestOf(path), "."+filepath.Base(path)+".*.tmp", func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
	return img.Width, img.Height, err
}

// removeStaleTiles deletes tiles numbered beyond this run's count (left by an earlier run with
// other inputs), so tiles/ holds exactly this run's tiles. Only our own names are touched.
func (r *runState) removeStaleTiles(dir string, n int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	keep := map[string]bool{}
	for i := 1; i <= n; i++ {
		keep[tileName(i)] = true
		keep[manifestOf(tileName(i))] = true
	}
	for _, e := range ents {
		if isTileFile(e.Name()) && !keep[e.Name()] {
			os.Remove(filepath.Join(dir, e.Name())) // best effort: a leftover is harmless
		}
	}
}

// mosaic assembles the tiles into mosaic.fits, its coverage map and the preview.
func (r *runState) mosaic(tiles []string) error {
	srcs := make([]FrameSource, len(tiles))
	for i, t := range tiles {
		srcs[i] = DiskFrame(t)
	}
	out := filepath.Join(r.outDir, RunMosaicName)
	sink := &MosaicFileSink{Name: out, Coverage: filepath.Join(r.outDir, RunCoverageName), PreviewSide: DefaultPreviewSide}
	hooks := Hooks{Events: r.events, Progress: r.scaled(PhaseMosaic, 0, 1000,
		map[string][2]int{"scan": {0, 30}, "assemble": {30, 950}})}
	res, err := MosaicTo(r.ctx, r.runner, srcs, r.opt.mosaicOptions(), hooks, sink)
	if err == nil {
		err = sink.Close()
	}
	if err != nil {
		sink.Abort()
		return err
	}
	r.rep.Outputs = append(r.rep.Outputs, tiles...)
	r.rep.Outputs = append(r.rep.Outputs, out, sink.Coverage)
	sx, sy := res.WCS.PixelScale(float64(res.Image.Width)/2, float64(res.Image.Height)/2)
	r.rep.Mosaic = &RunMosaic{Width: res.Image.Width, Height: res.Image.Height, Channels: res.Image.Channels, Tiles: res.Used, ScaleArcsec: (sx + sy) / 2}
	p := filepath.Join(r.outDir, RunPreviewName)
	if err := WritePreviewWith(r.ctx, r.runner, p, sink.Preview(), cpu.DefaultStretchOptions()); err != nil {
		return err
	}
	r.rep.Outputs = append(r.rep.Outputs, p)
	r.hooks.progress(PhaseMosaic, 1000, 1000)
	return nil
}
