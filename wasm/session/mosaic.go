package session

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// acquire marks the session busy (one stack or mosaic at a time) and snapshots its files and
// language: files added meanwhile do not join the run. release undoes it.
func (s *Session) acquire() ([]file, *locales.Localizer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil, nil, errors.New(s.loc.T("wasm_busy", nil))
	}
	s.running = true
	return append([]file(nil), s.files...), s.loc, nil
}

func (s *Session) release() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
}

// sources are the files as in-memory frames, in the order they were added.
func sources(files []file) []pipeline.FrameSource {
	srcs := make([]pipeline.FrameSource, len(files))
	for i, f := range files {
		srcs[i] = pipeline.MemoryFrame{FileName: f.name, Data: f.data}
	}
	return srcs
}

// Mosaic reprojects every added file that carries a WCS onto one output grid and blends them,
// with the page's options (see ParseMosaicOptions), and returns the summary the page shows:
// kind "mosaic", width, height, channels, frames (used), skipped, skipped_files ([{name,
// reason, key, params}], reasons localised), backend, backend_reason, adapter, limits, seconds,
// pixel_scale (arcsec/px of the output), projection, bands, matched. Files without a WCS or
// unreadable ones are skipped with an event. Errors are localised, ready to show.
func (s *Session) Mosaic(ctx context.Context, options map[string]any, hooks Hooks) (map[string]any, error) {
	files, loc, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()

	opt, st, err := ParseMosaicOptions(options)
	if err != nil {
		var oe *OptionError
		if errors.As(err, &oe) {
			return nil, errors.New(loc.T("wasm_option_invalid", map[string]any{"key": oe.Key, "error": oe.Err.Error()}))
		}
		return nil, errors.New(loc.T("wasm_options_invalid", map[string]any{"error": err.Error()}))
	}
	if len(files) == 0 {
		return nil, errors.New(loc.T("wasm_mosaic_no_files", nil))
	}
	withWCS := 0
	for _, f := range files {
		if w, _ := f.info["wcs"].(bool); w {
			withWCS++
		}
	}
	if withWCS == 0 {
		return nil, errors.New(loc.T("wasm_mosaic_needs_wcs", nil))
	}
	start := time.Now()
	res, where, err := s.runMosaic(ctx, loc, sources(files), opt, hooks)
	if err != nil {
		return nil, errors.New(loc.T("mosaic_failed", map[string]any{"error": err.Error()}))
	}
	sx, sy := res.WCS.PixelScale(float64(res.Image.Width)/2, float64(res.Image.Height)/2)
	sum := map[string]any{
		"kind":  "mosaic",
		"width": res.Image.Width, "height": res.Image.Height, "channels": res.Image.Channels,
		"frames": res.Used, "skipped": len(res.Frames) - res.Used,
		"skipped_files": skippedFiles(loc, files, res.Frames),
		"seconds":       time.Since(start).Seconds(),
		"pixel_scale":   (sx + sy) / 2,
		"projection":    res.WCS.Projection,
		"bands":         res.Plan.Bands,
		"matched":       res.Corrections != nil,
	}
	maps.Copy(sum, where)
	if hooks.Progress != nil {
		hooks.Progress("write", 1, 1)
	}
	s.mu.Lock()
	s.last = &Result{Mosaic: res, Stretch: st, Summary: sum}
	s.mu.Unlock()
	return clone(sum), nil
}

// runMosaic runs pipeline.MosaicWith through a Runner of the page (WebGPU through
// navigator.gpu when the browser gives an adapter, else the CPU), as Stack does: the
// reprojection runs on the GPU, the coadd on the CPU. A run on the GPU that left WebGPU errors
// behind (the browser reports them only as events) is redone on the CPU. It returns the
// result and the summary keys that say where it ran: backend, backend_reason, adapter, limits.
func (s *Session) runMosaic(ctx context.Context, loc *locales.Localizer, srcs []pipeline.FrameSource, opt pipeline.MosaicOptions, hooks Hooks) (*pipeline.MosaicResult, map[string]any, error) {
	runner, rec, adapter := s.openRunner(ctx, loc, hooks, opt.Compute)
	defer runner.Close()
	res, err := pipeline.MosaicWith(ctx, runner, srcs, opt, pipeline.Hooks{Events: rec.emit, Progress: hooks.Progress})
	if err != nil {
		return nil, nil, err
	}
	backend := browserBackend(runner.Summary(), "reproject")
	if gerrs := s.gpuErrors(backend); len(gerrs) > 0 {
		rec.emit(compute.Event{Key: "gpu_fallback_runtime_error", Level: compute.Warn,
			Params: map[string]any{"error": strings.TrimSpace(gerrs[0])}, Time: time.Now()})
		cpuOpt := opt
		cpuOpt.Compute.Backend = compute.BackendCPU
		cpuRunner := compute.NewRunnerWith(ctx, cpuOpt.Compute, nil, nil) // the CPU opens no device
		defer cpuRunner.Close()
		if res, err = pipeline.MosaicWith(ctx, cpuRunner, srcs, cpuOpt, pipeline.Hooks{Progress: hooks.Progress}); err != nil {
			return nil, nil, err
		}
		backend = "cpu"
	}
	where := map[string]any{"backend": backend, "backend_reason": rec.reason(backend, adapter), "adapter": nil, "limits": nil}
	if _, lim, gpuOpen := runner.GPU(); gpuOpen {
		where["adapter"], where["limits"] = adapterSummary(adapter), limitsSummary(lim, runner.Budget())
	}
	return res, where, nil
}

// skippedFiles lists the inputs the mosaic left out, with a localised reason: the file's
// own read error, "no WCS", or the pipeline's reason. key and params (key "" for a read error,
// already localised when the file was added) let the page say it again in another language.
func skippedFiles(loc *locales.Localizer, files []file, frames []pipeline.FrameInfo) []any {
	out := []any{}
	for i, fr := range frames {
		if fr.Error == "" {
			continue
		}
		key, params := "wasm_mosaic_skip_reason", map[string]any{"reason": fr.Error}
		var reason string
		if i < len(files) {
			switch info := files[i].info; {
			case info["ok"] == false:
				key, params = "", nil
				reason, _ = info["error"].(string)
			case info["wcs"] == false:
				key, params = "wasm_mosaic_skip_no_wcs", map[string]any{}
			}
		}
		if key != "" {
			reason = loc.T(key, params)
		}
		out = append(out, map[string]any{"name": fr.File, "reason": reason, "key": key, "params": params})
	}
	return out
}
