package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gogpu/wgpu"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/locales"
	"github.com/zmosaic/zmosaic/pipeline"
)

// Result is the last finished stack or mosaic, kept for re-stretching and downloads. Exactly
// one of Stack and Mosaic is set.
type Result struct {
	Stack   *pipeline.StackResult
	Mosaic  *pipeline.MosaicResult
	Stretch cpu.StretchOptions // asked for with the run; previews may use others
	Summary map[string]any     // what Stack or Mosaic returned
}

// Image is the result's image (CHW float32 with its header).
func (r *Result) Image() *fits.Image {
	if r.Mosaic != nil {
		return r.Mosaic.Image
	}
	return r.Stack.Image
}

// Alpha is the result's ALPHA plane: 255 where every channel has data.
func (r *Result) Alpha() []uint8 {
	if r.Mosaic != nil {
		return r.Mosaic.Alpha
	}
	return pipeline.Alpha(r.Stack.Image)
}

// browserAdapterName is what gogpu/wgpu calls every browser adapter; the page's own
// description (Env.Adapter) replaces it in messages.
const browserAdapterName = "WebGPU Adapter"

// Stack stacks every added file with the page's options (see ParseOptions) and returns the
// summary the page shows: width, height, channels, frames, skipped, backend ("webgpu", "cpu" or
// "webgpu+cpu"), backend_reason, adapter, limits, seconds, rejected_low_pct,
// rejected_high_pct. Errors are localised, ready to show.
func (s *Session) Stack(ctx context.Context, options map[string]any, hooks Hooks) (map[string]any, error) {
	files, loc, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	srcs := sources(files)

	opt, st, err := ParseOptions(options)
	if err != nil {
		var oe *OptionError
		if errors.As(err, &oe) {
			return nil, errors.New(loc.T("wasm_option_invalid", map[string]any{"key": oe.Key, "error": oe.Err.Error()}))
		}
		return nil, errors.New(loc.T("wasm_options_invalid", map[string]any{"error": err.Error()}))
	}
	if len(srcs) == 0 {
		return nil, errors.New(loc.T("wasm_no_files", nil))
	}
	start := time.Now()
	runner, rec, adapter := s.openRunner(ctx, loc, hooks, opt.Compute)
	defer runner.Close()
	phooks := pipeline.Hooks{Events: rec.emit, Progress: hooks.Progress}
	res, err := pipeline.StackWith(ctx, runner, srcs, opt, phooks)
	if err != nil {
		return nil, errors.New(loc.T("stack_failed", map[string]any{"error": err.Error()}))
	}
	_, lim, gpuOpen := runner.GPU()
	backend := browserBackend(res.Compute, "stack")
	if gerrs := s.gpuErrors(backend); len(gerrs) > 0 {
		// The browser reports WGSL and validation errors only as uncaptured-error events, and
		// gogpu/wgpu returns nil errors meanwhile: the numbers are garbage. Redo it on the CPU,
		// as the Runner does for a GPU error it sees.
		rec.emit(compute.Event{Key: "gpu_fallback_runtime_error", Level: compute.Warn,
			Params: map[string]any{"error": strings.TrimSpace(gerrs[0])}, Time: time.Now()}) // the others follow from it
		cpuOpt := opt
		cpuOpt.Compute.Backend = compute.BackendCPU
		cpuRunner := compute.NewRunnerWith(ctx, cpuOpt.Compute, nil, nil) // the CPU opens no device
		defer cpuRunner.Close()
		if res, err = pipeline.StackWith(ctx, cpuRunner, srcs, cpuOpt, pipeline.Hooks{Progress: hooks.Progress}); err != nil {
			return nil, errors.New(loc.T("stack_failed", map[string]any{"error": err.Error()}))
		}
		backend = "cpu"
	}
	sum := map[string]any{
		"kind":  "stack",
		"width": res.Image.Width, "height": res.Image.Height, "channels": res.Image.Channels,
		"frames": res.Used, "skipped": len(res.Frames) - res.Used,
		"backend": backend, "backend_reason": rec.reason(backend, adapter),
		"adapter": nil, "limits": nil,
		"seconds":          time.Since(start).Seconds(),
		"rejected_low_pct": pct(res.Stats.RejectedLow, res.Stats.Samples), "rejected_high_pct": pct(res.Stats.RejectedHigh, res.Stats.Samples),
	}
	if gpuOpen {
		sum["adapter"], sum["limits"] = adapterSummary(adapter), limitsSummary(lim, runner.Budget())
	}
	if hooks.Progress != nil {
		hooks.Progress("write", 1, 1)
	}
	s.mu.Lock()
	s.last = &Result{Stack: res, Stretch: st, Summary: sum}
	s.mu.Unlock()
	return clone(sum), nil
}

// adapterSummary is the adapter as a summary shows it (wgpu's generic name when the page
// could not describe it).
func adapterSummary(adapter map[string]any) map[string]any {
	if adapter == nil {
		return map[string]any{"name": browserAdapterName, "vendor": "", "architecture": "", "description": "", "fallback": false}
	}
	return clone(adapter)
}

// limitsSummary is the device limits a summary shows, with the Runner's GPU budget.
func limitsSummary(lim wgpu.Limits, budget int64) map[string]any {
	return map[string]any{
		"maxBufferSize":                     float64(lim.MaxBufferSize),
		"maxStorageBufferBindingSize":       float64(lim.MaxStorageBufferBindingSize),
		"maxStorageBuffersPerShaderStage":   int(lim.MaxStorageBuffersPerShaderStage),
		"maxComputeWorkgroupStorageSize":    int(lim.MaxComputeWorkgroupStorageSize),
		"maxComputeInvocationsPerWorkgroup": int(lim.MaxComputeInvocationsPerWorkgroup),
		"maxComputeWorkgroupsPerDimension":  int(lim.MaxComputeWorkgroupsPerDimension),
		"gpu_budget":                        float64(budget),
	}
}

// gpuErrors drains the browser's WebGPU errors after a run that used the GPU.
func (s *Session) gpuErrors(backend string) []string {
	if backend == "cpu" || s.env.GPUErrors == nil {
		return nil
	}
	return s.env.GPUErrors()
}

// probeAdapter asks Env.Adapter once per Session: the browser's adapter does not change.
func (s *Session) probeAdapter(ctx context.Context) map[string]any {
	s.mu.Lock()
	if s.probed || s.env.Adapter == nil {
		a := s.adapter
		s.mu.Unlock()
		return a
	}
	s.mu.Unlock()
	a := s.env.Adapter(ctx)
	s.mu.Lock()
	s.adapter, s.probed = a, true
	s.mu.Unlock()
	return a
}

// adapterName is how messages name the adapter: its description, else vendor and
// architecture ("google swiftshader"), else "" (keep wgpu's name).
func adapterName(a map[string]any) string {
	if a == nil {
		return ""
	}
	str := func(k string) string { v, _ := a[k].(string); return strings.TrimSpace(v) }
	if d := str("description"); d != "" {
		return d
	}
	if n := strings.TrimSpace(str("vendor") + " " + str("architecture")); n != "" {
		return n
	}
	return str("name")
}

// browserBackend names where op (stack, reproject) ran, in the page's words.
func browserBackend(s compute.Summary, op string) string {
	for _, o := range s.Ops {
		if o.Op == op {
			switch o.Backend {
			case "gpu":
				return "webgpu"
			case "gpu+cpu":
				return "webgpu+cpu"
			}
		}
	}
	return "cpu"
}

func pct(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// recorder turns the Runner's and pipeline's events into the page's shape and remembers the
// ones that explain the backend.
type recorder struct {
	loc interface {
		T(string, map[string]any) string
		Event(string, map[string]any) string
	}
	hook    func(map[string]any)
	adapter string // the page's name of the adapter; "" = keep wgpu's

	mu     sync.Mutex
	cpuWhy string   // message of stack_using_cpu or reproject_using_cpu
	falls  []string // messages of fallbacks to the CPU
}

// fallbackKeys are the events that move work from the GPU to the CPU.
var fallbackKeys = map[string]bool{
	"gpu_fallback_insufficient_memory": true, "gpu_fallback_runtime_error": true, "gpu_device_lost": true,
}

func (r *recorder) emit(e compute.Event) {
	params := map[string]any{}
	for k, v := range e.Params {
		params[k] = jsSafe(v)
	}
	if r.adapter != "" {
		// gogpu/wgpu names every browser adapter "WebGPU Adapter": say which one it is.
		for _, k := range []string{"adapter", "name"} {
			if params[k] == browserAdapterName {
				params[k] = r.adapter
			}
		}
	}
	msg := r.loc.Event(e.Key, params)
	r.mu.Lock()
	switch {
	case e.Key == "stack_using_cpu", e.Key == "reproject_using_cpu":
		r.cpuWhy = msg
	case fallbackKeys[e.Key]:
		r.falls = append(r.falls, msg)
	}
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(map[string]any{"key": e.Key, "level": e.Level.String(), "message": msg, "params": params})
	}
}

// reason explains the backend in the current language.
func (r *recorder) reason(backend string, adapter map[string]any) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if backend == "cpu" {
		if len(r.falls) > 0 {
			return strings.Join(r.falls, "; ")
		}
		return r.cpuWhy
	}
	name := r.adapter
	if name == "" {
		name = browserAdapterName
	}
	key := "wasm_reason_webgpu"
	if fb, _ := adapter["fallback"].(bool); fb {
		key = "wasm_reason_webgpu_fallback"
	}
	msg := r.loc.T(key, map[string]any{"adapter": name})
	if backend == "webgpu+cpu" && len(r.falls) > 0 {
		msg += "; " + strings.Join(r.falls, "; ")
	}
	return msg
}

// jsSafe converts a value to one js.ValueOf accepts (numbers, strings, bools, nil, []any,
// map[string]any); anything else becomes its fmt text.
func jsSafe(v any) any {
	switch x := v.(type) {
	case nil, bool, string, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsSafe(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsSafe(e)
		}
		return out
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// openRunner opens the Runner of one stack or mosaic: WebGPU through navigator.gpu unless copt
// asks for the CPU (the adapter is probed first, for the page's badge), with a recorder that
// turns its events into the page's localised messages. Stale WebGPU errors of an earlier
// device are dropped: they say nothing about this run.
func (s *Session) openRunner(ctx context.Context, loc *locales.Localizer, hooks Hooks, copt compute.Options) (*compute.Runner, *recorder, map[string]any) {
	var adapter map[string]any
	if copt.Backend != compute.BackendCPU {
		adapter = s.probeAdapter(ctx)
	}
	rec := &recorder{loc: loc, hook: hooks.Event, adapter: adapterName(adapter)}
	open := s.env.Open
	if open == nil {
		open = compute.OpenGPU
	}
	if s.env.GPUErrors != nil {
		s.env.GPUErrors()
	}
	return compute.NewRunnerWith(ctx, copt, rec.emit, open), rec, adapter
}
