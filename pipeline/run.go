package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zmosaic/zmosaic/compute"
)

// A hierarchical run (`zmosaic run`, spec §1): a folder of raw frames becomes master tiles and
// one mosaic.
//
//	scan → solve (optional) → preprocess (into OUT/cache) → cluster → master tiles → mosaic
//
// Every phase works from files in OUT_DIR, so a rerun of the same command resumes: a verified
// cache entry is never recomputed, a master tile whose manifest names the same cache entries
// and options is reused, and only the mosaic (cheap next to the tiles) is always redone.
// Inputs are only read; OUT_DIR is left out of the scan when it lies inside IN_DIR.
//
// # Determinism
//
// Frames are handled in path order, groups in ClusterFrames' canonical order, tiles are
// numbered by group, and every kernel reduces in a fixed order: the same inputs give
// bit-identical pixels whatever the order files were written in or the worker counts.
// Headers differ only in their DATE card.

// Names of a run's outputs inside OUT_DIR.
const (
	RunMosaicName   = "mosaic.fits"
	RunCoverageName = "mosaic_coverage.fits"
	RunPreviewName  = "mosaic_preview.png"
	RunReportName   = "report.json"
	RunLogName      = "zmosaic.log"
	TilesDirName    = "tiles"
)

// Phases of a run, as Hooks.Progress and the report name them.
const (
	PhaseScan       = "scan"
	PhaseSolve      = "solve"
	PhasePreprocess = "preprocess"
	PhaseCluster    = "cluster"
	PhaseTiles      = "tiles"
	PhaseMosaic     = "mosaic"
)

// RunReport is report.json: what went in, what was skipped and why, the groups, how long each
// phase took on which backend with which fallbacks, and every event.
type RunReport struct {
	Software     string           `json:"software"`
	Command      string           `json:"command"`
	Args         []string         `json:"args,omitempty"`
	InDir        string           `json:"in_dir"`
	OutDir       string           `json:"out_dir"`
	Started      time.Time        `json:"started"`
	Seconds      float64          `json:"seconds"`
	Options      RunOptions       `json:"options"`
	Inputs       []RunInput       `json:"inputs"`
	Skipped      []SkippedFrame   `json:"skipped"`
	Cluster      *ClusterResult   `json:"cluster,omitempty"`
	Tiles        []RunTile        `json:"tiles"`
	Mosaic       *RunMosaic       `json:"mosaic,omitempty"`
	Outputs      []string         `json:"outputs"`
	Phases       []RunPhase       `json:"phases"`
	Compute      *compute.Summary `json:"compute,omitempty"`
	PeakRSSBytes int64            `json:"peak_rss_bytes,omitempty"` // set by the caller, from the OS
	Events       []compute.Event  `json:"events"`
	Stopped      bool             `json:"stopped,omitempty"` // the run was cancelled (Ctrl-C)
	Error        string           `json:"error,omitempty"`
}

// RunInput is one file the scan listed.
type RunInput struct {
	File     string `json:"file"`
	Status   string `json:"status"`              // used | skipped
	Solved   string `json:"solved_by,omitempty"` // solver name when the WCS came from one
	CacheKey string `json:"cache_key,omitempty"`
	Cached   bool   `json:"cache_hit,omitempty"` // preprocessing reused from the cache
	Bayer    string `json:"bayer,omitempty"`     // pattern debayered, "" for mono
	HotPix   int    `json:"hot_pixels,omitempty"`
	Tile     int    `json:"tile,omitempty"` // 1-based master tile number
}

// Reasons a frame is skipped (SkippedFrame.Kind).
const (
	SkipUnreadable  = "unreadable"
	SkipNoWCS       = "no_wcs"
	SkipSolveFailed = "solve_failed"
	SkipPreprocess  = "preprocess_failed"
)

// SkippedFrame is a frame left out, with why.
type SkippedFrame struct {
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// RunTile is one master tile.
type RunTile struct {
	Number  int        `json:"number"` // 1-based, as in the file name
	File    string     `json:"file"`
	Frames  int        `json:"frames"`
	Center  [2]float64 `json:"center"`
	Split   string     `json:"split,omitempty"`
	Reused  bool       `json:"reused"` // taken from an earlier run (manifest matched)
	Width   int        `json:"width"`
	Height  int        `json:"height"`
	Seconds float64    `json:"seconds"`
}

// RunMosaic describes the final mosaic.
type RunMosaic struct {
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Channels    int     `json:"channels"`
	Tiles       int     `json:"tiles"`
	ScaleArcsec float64 `json:"scale_arcsec"`
}

// RunPhase is one phase's wall time, backend, fallbacks and memory.
type RunPhase struct {
	Name      string             `json:"name"`
	Seconds   float64            `json:"seconds"`
	Backend   string             `json:"backend"`             // cpu, gpu or gpu+cpu (what its kernels ran on)
	Fallbacks []compute.Fallback `json:"fallbacks,omitempty"` // GPU → CPU decisions during the phase
	// GoSysBytes is the memory the Go runtime held from the OS at the end of the phase (a lower
	// bound of the resident size; the CLI adds the process's peak RSS to the report).
	GoSysBytes uint64 `json:"go_sys_bytes"`
}

// Run runs the whole pipeline on the frames under inDir and writes its outputs to outDir
// (created if needed): tiles/master_tile_NNN.fits, mosaic.fits, mosaic_coverage.fits,
// mosaic_preview.png, report.json, with the preprocessed frames in outDir/cache. It stops
// between frames and bands when ctx is cancelled, leaving only complete, verifiable files;
// rerunning resumes. The report is written (and returned) also when the run fails; frames that
// cannot be used are reported, not errors.
func Run(ctx context.Context, inDir, outDir string, opt RunOptions, hooks Hooks) (*RunReport, error) {
	rep := &RunReport{Software: "zmosaic " + Version, Command: "run", InDir: inDir, OutDir: outDir, Started: time.Now(), Options: opt}
	if err := opt.Validate(); err != nil {
		return rep, err
	}
	r := &runState{ctx: ctx, opt: opt, rep: rep, hooks: hooks, outDir: outDir}
	r.events = func(e compute.Event) {
		r.mu.Lock()
		rep.Events = append(rep.Events, e)
		r.mu.Unlock()
		if hooks.Events != nil {
			hooks.Events(e)
		}
	}
	err := r.run(inDir)
	rep.Seconds = time.Since(rep.Started).Seconds()
	if err != nil {
		rep.Error = err.Error()
		rep.Stopped = ctx.Err() != nil
	}
	if werr := r.writeReport(); werr != nil && err == nil {
		err = werr
	}
	return rep, err
}

// runState is one Run in progress.
type runState struct {
	ctx    context.Context
	opt    RunOptions
	rep    *RunReport
	hooks  Hooks
	events compute.Sink
	outDir string
	runner *compute.Runner
	cache  *Cache
	mu     sync.Mutex // guards rep.Events
}

// WriteRunReport writes a run report as indented JSON, atomically.
func WriteRunReport(name string, rep *RunReport) error { return writeJSONAtomic(name, rep) }

func (r *runState) writeReport() error {
	if _, err := os.Stat(r.outDir); err != nil {
		return nil // nothing was created: the run failed before its first output
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return writeJSONAtomic(filepath.Join(r.outDir, RunReportName), r.rep)
}

func (r *runState) run(inDir string) error {
	absIn, err := filepath.Abs(inDir)
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", inDir, err)
	}
	absOut, err := filepath.Abs(r.outDir)
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", r.outDir, err)
	}
	if absIn == absOut {
		return fmt.Errorf("pipeline: the output folder %s is the input folder: choose another one", r.outDir)
	}
	if rel, err := filepath.Rel(absOut, absIn); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("pipeline: the input folder %s lies inside the output folder %s", inDir, r.outDir)
	}
	if st, err := os.Stat(inDir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return fmt.Errorf("pipeline: input %s: %w", inDir, err)
	}
	if err := os.MkdirAll(filepath.Join(r.outDir, TilesDirName), 0o755); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if r.cache, err = OpenCache(filepath.Join(r.outDir, CacheDirName), CacheOptions{VerifyContent: r.opt.CacheVerifyContent}); err != nil {
		return err
	}
	r.events.Emit(compute.Info, "run_start", map[string]any{"in": inDir, "out": r.outDir, "budget": FormatSize(int64(r.opt.MemBudget))})
	r.runner = compute.NewRunner(r.ctx, r.opt.computeOptions(), r.events)
	defer func() {
		_ = r.runner.Close() // releases the device; the results are on disk
		sum := r.runner.Summary()
		r.rep.Compute = &sum
	}()

	var scan *ScanResult
	err = r.phase(PhaseScan, func() error {
		var err error
		scan, err = ScanDir(r.ctx, inDir, r.opt.scanOptions([]string{r.outDir}), Hooks{Events: r.events, Progress: r.hooks.Progress})
		return err
	})
	if err != nil {
		return err
	}
	frames := r.listInputs(scan)
	if r.opt.Solver != nil {
		if err := r.phase(PhaseSolve, func() error { return r.solveAll(frames) }); err != nil {
			return err
		}
	}
	if err := r.phase(PhasePreprocess, func() error { return r.preprocessAll(frames) }); err != nil {
		return err
	}
	var groups []Group
	err = r.phase(PhaseCluster, func() error {
		var err error
		groups, err = r.cluster(frames)
		return err
	})
	if err != nil {
		return err
	}
	var tiles []string
	if err := r.phase(PhaseTiles, func() error {
		var err error
		tiles, err = r.masterTiles(frames, groups)
		return err
	}); err != nil {
		return err
	}
	if err := r.phase(PhaseMosaic, func() error { return r.mosaic(tiles) }); err != nil {
		return err
	}
	// Debug: front ends say the outcome themselves (the CLI's summary adds peak memory and
	// reused tiles); the log keeps this line.
	r.events.Emit(compute.Debug, "run_done", map[string]any{
		"frames": len(frames) - len(r.rep.Skipped), "skipped": len(r.rep.Skipped), "tiles": len(tiles),
		"out": filepath.Join(r.outDir, RunMosaicName), "seconds": time.Since(r.rep.Started).Seconds(),
	})
	return nil
}

// phase runs fn as one named phase: timing, the backends and fallbacks of the kernels it ran
// (from the Runner's report before and after), memory, and a clean error when ctx stopped it.
func (r *runState) phase(name string, fn func() error) error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("pipeline: run stopped before %s: %w", name, err)
	}
	before := r.runner.Report()
	t0 := time.Now()
	err := fn()
	p := RunPhase{Name: name, Seconds: time.Since(t0).Seconds()}
	p.Backend, p.Fallbacks = phaseCompute(before, r.runner.Report())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.GoSysBytes = ms.Sys
	r.rep.Phases = append(r.rep.Phases, p)
	if err != nil && r.ctx.Err() != nil {
		r.events.Emit(compute.Warn, "run_stopped", map[string]any{"phase": name})
	}
	return err
}

// phaseCompute compares two Runner reports: where the operations run in between ran, and the
// fallbacks they took.
func phaseCompute(before, after []compute.OpReport) (backend string, fallbacks []compute.Fallback) {
	prev := map[string]compute.OpReport{}
	for _, o := range before {
		prev[o.Op] = o
	}
	var gpuChunks, cpuChunks int
	for _, o := range after {
		b := prev[o.Op]
		gpuChunks += o.ChunksGPU - b.ChunksGPU
		cpuChunks += o.ChunksCPU - b.ChunksCPU
		if len(o.Fallbacks) > len(b.Fallbacks) {
			fallbacks = append(fallbacks, o.Fallbacks[len(b.Fallbacks):]...)
		}
	}
	switch {
	case gpuChunks > 0 && cpuChunks > 0:
		return "gpu+cpu", fallbacks
	case gpuChunks > 0:
		return "gpu", fallbacks
	}
	return "cpu", fallbacks
}

// scaled forwards an inner job's progress as part of a phase: inner phase p's done/total maps
// onto [base+from, base+to) of the phase's units.
func (r *runState) scaled(phase string, base, total int, spans map[string][2]int) func(string, int, int) {
	return func(inner string, done, n int) {
		s, ok := spans[inner]
		if !ok || n <= 0 {
			return
		}
		r.hooks.progress(phase, base+s[0]+(s[1]-s[0])*done/n, total)
	}
}
