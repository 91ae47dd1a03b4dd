package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/pipeline"
)

// `zmosaic run IN_DIR -o OUT_DIR`: the hierarchical pipeline (pipeline.Run). Every option of
// pipeline.RunOptions is a flag named like its config key with '-' for '_'; --config reads a
// JSON file of those keys, and a flag given on the command line overrides the file.

// solverFactories maps --solve names to plate-solver constructors. Native solver adapters
// register here from an init function (registerSolver); it is written once at start-up and
// only read afterwards.
var solverFactories = map[string]func(timeout time.Duration) (pipeline.Solver, error){}

// registerSolver adds a --solve choice; a duplicate name is a programming error.
func registerSolver(name string, f func(timeout time.Duration) (pipeline.Solver, error)) {
	if _, dup := solverFactories[name]; dup {
		panic("zmosaic: solver " + name + " registered twice")
	}
	solverFactories[name] = f
}

// typedString is a pflag.Value for the string kinds of the options (cpu.Reject, …).
type typedString[T ~string] struct{ p *T }

func (v typedString[T]) String() string     { return string(*v.p) }
func (v typedString[T]) Set(s string) error { *v.p = T(strings.TrimSpace(s)); return nil }
func (v typedString[T]) Type() string       { return "string" }

// sizeValue is a pflag.Value for a byte size ("512MiB"); auto means 0 when allowed.
type sizeValue struct {
	p    *pipeline.Size
	auto bool
}

func (v sizeValue) String() string {
	if v.auto && *v.p == 0 {
		return "auto"
	}
	return pipeline.FormatSizeFlag(int64(*v.p))
}

func (v sizeValue) Set(s string) error {
	if v.auto && strings.EqualFold(strings.TrimSpace(s), "auto") {
		*v.p = 0
		return nil
	}
	n, err := pipeline.ParseSize(s)
	if err != nil {
		return err
	}
	*v.p = pipeline.Size(n)
	return nil
}

func (v sizeValue) Type() string { return "size" }

// addRunFlags declares one flag per RunOptions field, bound to o, with o's values as defaults.
func addRunFlags(a *app, fs *pflag.FlagSet, o *pipeline.RunOptions) {
	fs.IntVar(&o.ScanWorkers, "scan-workers", o.ScanWorkers, a.t("flag_run_scan_workers", nil))
	fs.Var(typedString[string]{&o.Bayer}, "bayer", a.t("flag_run_bayer", nil))
	fs.BoolVar(&o.HotPixels, "hot-pixels", o.HotPixels, a.t("flag_run_hot_pixels", nil))
	fs.Float64Var(&o.HotPixelThreshold, "hot-pixel-threshold", o.HotPixelThreshold, a.t("flag_run_hot_pixel_threshold", nil))
	fs.Float64Var(&o.HotPixelIsolation, "hot-pixel-isolation", o.HotPixelIsolation, a.t("flag_run_hot_pixel_isolation", nil))
	fs.StringVar(&o.Background, "background", o.Background, a.t("flag_run_background_fit", nil))
	fs.IntVar(&o.PreprocessWorkers, "preprocess-workers", o.PreprocessWorkers, a.t("flag_run_preprocess_workers", nil))
	fs.BoolVar(&o.CacheVerifyContent, "cache-verify", o.CacheVerifyContent, a.t("flag_run_cache_verify", nil))
	fs.Float64Var(&o.ClusterDeg, "cluster-deg", o.ClusterDeg, a.t("flag_run_cluster_deg", nil))
	fs.BoolVar(&o.ClusterAutoRelax, "cluster-auto-relax", o.ClusterAutoRelax, a.t("flag_run_cluster_auto_relax", nil))
	fs.IntVar(&o.MaxFramesPerTile, "max-frames-per-tile", o.MaxFramesPerTile, a.t("flag_run_max_frames_per_tile", nil))
	fs.Var(typedString[cpu.Reject]{&o.Reject}, "reject", a.t("flag_reject", nil))
	fs.Var(typedString[cpu.Combine]{&o.Combine}, "combine", a.t("flag_combine", nil))
	fs.Float32Var(&o.KappaLow, "kappa-low", o.KappaLow, a.t("flag_kappa_low", nil))
	fs.Float32Var(&o.KappaHigh, "kappa-high", o.KappaHigh, a.t("flag_kappa_high", nil))
	fs.IntVar(&o.Iterations, "iterations", o.Iterations, a.t("flag_iterations", nil))
	fs.Var(typedString[cpu.Weight]{&o.Weight}, "weight", a.t("flag_weight", nil))
	fs.Var(typedString[cpu.Norm]{&o.Norm}, "norm", a.t("flag_norm", nil))
	fs.Var(typedString[cpu.Interp]{&o.Interp}, "interp", a.t("flag_run_interp", nil))
	fs.Var(typedString[cpu.Interp]{&o.MosaicInterp}, "mosaic-interp", a.t("flag_interp", nil))
	fs.IntVar(&o.Feather, "feather", o.Feather, a.t("flag_feather", nil))
	fs.StringVar(&o.Match, "match", o.Match, a.t("flag_match", nil))
	fs.StringVar(&o.MosaicCombine, "mosaic-combine", o.MosaicCombine, a.t("flag_mosaic_combine", nil))
	fs.StringVar(&o.InputWeights, "input-weights", o.InputWeights, a.t("flag_input_weights", nil))
	fs.Float32Var(&o.MosaicKappaLow, "mosaic-kappa-low", o.MosaicKappaLow, a.t("flag_run_mosaic_kappa_low", nil))
	fs.Float32Var(&o.MosaicKappaHigh, "mosaic-kappa-high", o.MosaicKappaHigh, a.t("flag_run_mosaic_kappa_high", nil))
	fs.StringVar(&o.Projection, "projection", o.Projection, a.t("flag_projection", nil))
	fs.Float64Var(&o.PixelScaleArcsec, "pixel-scale", o.PixelScaleArcsec, a.t("flag_pixel_scale", nil))
	fs.BoolVar(&o.NorthUp, "north-up", o.NorthUp, a.t("flag_north_up", nil))
	fs.Var(sizeValue{&o.MemBudget, false}, "mem-budget", a.t("flag_mem_budget", nil))
	fs.Var(sizeValue{&o.GPUBudget, true}, "gpu-budget", a.t("flag_gpu_budget", nil))
	fs.Var(typedString[compute.Backend]{&o.Backend}, "backend", a.t("flag_backend", nil))
	fs.IntVar(&o.Workers, "workers", o.Workers, a.t("flag_workers", nil))
}

func runCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	flagged := pipeline.DefaultRunOptions()
	addRunFlags(a, fs, &flagged)
	out := fs.StringP("output", "o", "", a.t("flag_run_output", nil))
	config := fs.String("config", "", a.t("flag_run_config", nil))
	report := fs.String("report", "", a.t("flag_run_report", nil))
	solve := fs.String("solve", "", a.t("flag_run_solve", map[string]any{"solvers": solverNames()}))
	solveTimeout := fs.Duration("solve-timeout", 2*time.Minute, a.t("flag_run_solve_timeout", nil))
	return func(args []string) int {
		if *out == "" || len(args) != 1 {
			a.errorf("usage_run_needs", nil)
			return exitUsage
		}
		opt, err := runOptions(fs, *config, a)
		if err != nil {
			a.errorf("usage_error", map[string]any{"command": "run", "error": err.Error()})
			return exitUsage
		}
		faults, err := parseFaults(os.Getenv(faultEnv))
		if err != nil {
			a.errorf("fault_env_invalid", map[string]any{"value": os.Getenv(faultEnv), "error": err.Error()})
			return exitUsage
		}
		opt.Compute.Faults = faults
		if *solve != "" {
			f, ok := solverFactories[*solve]
			if !ok {
				a.errorf("usage_error", map[string]any{"command": "run", "error": fmt.Sprintf("unknown solver %q (available: %s)", *solve, solverNames())})
				return exitUsage
			}
			if opt.Solver, err = f(*solveTimeout); err != nil {
				a.errorf("solver_unavailable", map[string]any{"solver": *solve, "error": err.Error()})
				return exitFailure
			}
		}
		if err := opt.Validate(); err != nil {
			a.errorf("usage_error", map[string]any{"command": "run", "error": err.Error()})
			return exitUsage
		}
		return a.runPipeline(args[0], *out, opt, *report, os.Args)
	}
}

func solverNames() string {
	names := make([]string, 0, len(solverFactories))
	for n := range solverFactories {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}

// runOptions builds the options: defaults, then the config file, then every flag given on the
// command line (replayed onto the result, so an explicit flag wins over the file).
func runOptions(fs *pflag.FlagSet, config string, a *app) (pipeline.RunOptions, error) {
	opt := pipeline.DefaultRunOptions()
	if config != "" {
		data, err := os.ReadFile(config)
		if err != nil {
			return opt, err
		}
		if err := pipeline.DecodeRunOptions(data, &opt); err != nil {
			return opt, fmt.Errorf("%s: %w", config, err)
		}
	}
	replay := pflag.NewFlagSet("run", pflag.ContinueOnError)
	replay.SetNormalizeFunc(fs.GetNormalizeFunc())
	addRunFlags(a, replay, &opt)
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if replay.Lookup(f.Name) != nil && err == nil {
			err = replay.Set(f.Name, f.Value.String())
		}
	})
	return opt, err
}

// runPipeline runs pipeline.Run with the progress bar, the log file and the report.
func (a *app) runPipeline(in, out string, opt pipeline.RunOptions, reportPath string, args []string) int {
	debug.SetMemoryLimit(int64(opt.MemBudget) + 16<<20) // see (*app).stack
	if err := os.MkdirAll(out, 0o755); err != nil {
		a.errorf("write_failed", map[string]any{"file": out, "error": err.Error()})
		return exitFailure
	}
	logf, err := os.OpenFile(filepath.Join(out, pipeline.RunLogName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		a.errorf("write_failed", map[string]any{"file": pipeline.RunLogName, "error": err.Error()})
		return exitFailure
	}
	defer logf.Close()
	lg := &runLog{w: logf, a: a}
	lg.line("info", a.t("run_log_start", map[string]any{"args": strings.Join(args, " ")}))
	p := &runProgress{a: a, log: lg, solve: opt.Solver != nil}
	hooks := pipeline.Hooks{
		Events:   func(e compute.Event) { lg.event(e); a.event(e) },
		Progress: p.update,
	}
	rep, err := pipeline.Run(a.ctx, in, out, opt, hooks)
	p.finish()
	a.takeEvents() // already in rep.Events
	rep.Args = args
	rep.PeakRSSBytes = peakRSS()
	if werr := pipeline.WriteRunReport(filepath.Join(out, pipeline.RunReportName), rep); werr != nil && err == nil {
		err = werr
	}
	if reportPath != "" {
		if werr := pipeline.WriteRunReport(reportPath, rep); werr != nil {
			a.errorf("write_failed", map[string]any{"file": reportPath, "error": werr.Error()})
			if err == nil {
				return exitFailure
			}
		}
	}
	if err != nil {
		key := "run_failed"
		if a.ctx.Err() != nil {
			key = "run_interrupted"
		}
		msg := a.t(key, map[string]any{"error": err.Error(), "out": out})
		lg.line("error", msg)
		a.clearBar()
		fmt.Fprintln(a.stderr, "zmosaic: "+msg)
		return exitFailure
	}
	reused := 0
	for _, t := range rep.Tiles {
		if t.Reused {
			reused++
		}
	}
	params := map[string]any{
		"frames": len(rep.Inputs) - len(rep.Skipped), "tiles": len(rep.Tiles), "reused": reused,
		"output": filepath.Join(out, pipeline.RunMosaicName), "width": rep.Mosaic.Width, "height": rep.Mosaic.Height,
		"seconds": rep.Seconds, "peak_mb": float64(rep.PeakRSSBytes) / (1 << 20),
	}
	lg.line("info", a.t("run_summary", params))
	a.infof("run_summary", params)
	if n := rep.Compute.ForcedFallbacks; n > 0 {
		a.warnf("gpu_forced_fallback_summary", map[string]any{"count": n})
	}
	if n := len(rep.Skipped); n > 0 {
		msg := a.t("run_skipped_summary", map[string]any{"skipped": n, "report": filepath.Join(out, pipeline.RunReportName)})
		lg.line("warn", msg)
		a.clearBar()
		fmt.Fprintln(a.stderr, a.t("level_warn", nil)+": "+msg)
	}
	return exitOK
}

// runLog appends localised, timestamped lines to OUT_DIR/zmosaic.log: every event of the run
// (debug ones included, which the terminal never shows) and the phases' start and end.
type runLog struct {
	mu sync.Mutex
	w  *os.File
	a  *app
}

func (l *runLog) line(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %-5s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), level, strings.ReplaceAll(msg, "\n", "\n    "))
}

func (l *runLog) event(e compute.Event) { l.line(e.Level.String(), l.a.loc.Event(e.Key, e.Params)) }

// runPhaseWeights share the overall bar between the phases: rough shares of a typical run's
// time (preprocessing and the master tiles dominate), so the ETA is meaningful early on.
var runPhaseWeights = map[string]float64{
	pipeline.PhaseScan: 2, pipeline.PhaseSolve: 8, pipeline.PhasePreprocess: 35, pipeline.PhaseTiles: 45, pipeline.PhaseMosaic: 10,
}

// runProgress shows one overall bar on a terminal (phase name, percentage, ETA) and one line per
// phase otherwise; phases also go to the log.
type runProgress struct {
	a     *app
	log   *runLog
	solve bool

	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	phase  string
	total  int
	start  time.Time
	doneW  float64 // weights of finished phases
	totalW float64
}

func (p *runProgress) update(phase string, done, total int) {
	w, known := runPhaseWeights[phase]
	if !known || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.totalW == 0 {
		for k, v := range runPhaseWeights {
			if k != pipeline.PhaseSolve || p.solve {
				p.totalW += v
			}
		}
	}
	label := p.a.t("progress_"+phase, nil)
	if phase != p.phase {
		p.endPhase()
		p.phase, p.total, p.start = phase, total, time.Now()
		p.log.line("info", p.a.t("progress_start", map[string]any{"phase": label, "total": total}))
		if !p.a.quiet && !p.a.tty {
			fmt.Fprintln(p.a.stderr, p.a.t("progress_start", map[string]any{"phase": label, "total": total}))
		}
	}
	if p.a.quiet || !p.a.tty {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(p.a.stderr),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		p.a.mu.Lock()
		p.a.bar = &progress{phase: "run", bar: p.bar}
		p.a.mu.Unlock()
	}
	p.bar.Describe(label)
	frac := (p.doneW + w*float64(min(done, total))/float64(total)) / p.totalW
	_ = p.bar.Set(int(1000 * min(frac, 1)))
}

// endPhase closes the current phase (with the mutex held).
func (p *runProgress) endPhase() {
	if p.phase == "" {
		return
	}
	label := p.a.t("progress_"+p.phase, nil)
	msg := p.a.t("progress_done", map[string]any{"phase": label, "total": p.total, "seconds": time.Since(p.start).Seconds()})
	p.log.line("info", msg)
	if !p.a.quiet && !p.a.tty {
		fmt.Fprintln(p.a.stderr, msg)
	}
	p.doneW += runPhaseWeights[p.phase]
	p.phase = ""
}

func (p *runProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPhase()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.a.stderr)
		p.a.mu.Lock()
		p.a.bar = nil
		p.a.mu.Unlock()
	}
}
