package compute

import (
	"context"
	"fmt"
	"sync"

	"github.com/gogpu/wgpu"

	"github.com/zmosaic/zmosaic/compute/gpu"
)

// maxOOMRetries is how many times one chunk is retried with half the rows after an allocation
// failure before the CPU takes over.
const maxOOMRetries = 3

// Runner runs heavy operations on the GPU when the Options allow it and one is usable, on the
// cpu package otherwise, and reports every decision as an Event. Create it with NewRunner and
// release it with Close. Its methods are safe for concurrent use; operations run one at a time.
type Runner struct {
	opt    Options
	events Sink

	mu       sync.Mutex
	dev      Device // nil: CPU only
	info     gpu.Info
	limits   wgpu.Limits
	budget   int64             // working-set budget; halves after allocation failures
	bufCap   int64             // per-buffer cap of the device
	off      reason            // why the GPU is off for the whole run; zero while usable
	offKey   string            // the event key that said so
	disabled map[string]reason // kernel → why the GPU is off for it (compile, unsupported)
	once     map[string]bool   // events already emitted, by dedup key
	lastRows int               // rows per chunk last announced by gpu_chunking_rows
	keepLost bool              // the device was lost in a readback timeout: never release it
	ops      []*OpReport
	forced   int
}

// NewRunner opens the GPU when opt asks for one and keeps the CPU otherwise. It never fails: no
// GPU means the CPU, with an event saying why. opt must be valid (see Options.Validate); an
// invalid one gives a CPU-only Runner and a gpu_fallback_unavailable event.
func NewRunner(ctx context.Context, opt Options, events Sink) *Runner {
	return NewRunnerWith(ctx, opt, events, OpenGPU)
}

// NewRunnerWith is NewRunner with another way to open the device (tests inject failures).
func NewRunnerWith(ctx context.Context, opt Options, events Sink, open OpenFunc) *Runner {
	r := &Runner{opt: opt, events: events, disabled: map[string]reason{}, once: map[string]bool{}}
	if err := opt.Validate(); err != nil {
		r.unavailable(reasonInvalidOptions(err))
		return r
	}
	if opt.Backend == BackendCPU {
		r.off, r.offKey = reasonBackendCPU(), "gpu_fallback_unavailable"
		events.Emit(Info, "gpu_fallback_unavailable", r.off.eventParams())
		return r
	}
	gopt := gpu.DefaultOptions()
	gopt.AllowSoftware = true // auto decides below, so that the event can name the adapter
	gopt.Faults = opt.Faults
	dev, err := open(ctx, gopt)
	if err != nil {
		r.unavailable(reasonNoAdapter(err))
		return r
	}
	info := dev.Info()
	if opt.Backend == BackendAuto && info.Software() && !opt.SoftwareInAuto {
		_ = dev.Close()
		r.info = info // reported, not used
		r.off, r.offKey = reasonSoftwareAdapter(info.Name), "gpu_adapter_skipped_software"
		events.Emit(Info, "gpu_adapter_skipped_software", map[string]any{"name": info.Name, "device_type": info.DeviceType.String()})
		return r
	}
	r.dev, r.info, r.limits = dev, info, dev.Limits()
	r.bufCap = BufferCap(r.limits)
	r.budget = opt.GPUBudget
	if r.budget == 0 {
		r.budget = AutoGPUBudget(r.limits)
	}
	events.Emit(Info, "gpu_info_summary", map[string]any{
		"name": info.Name, "backend": info.Backend.String(), "device_type": info.DeviceType.String(),
		"max_buffer_mb": mib(int64(min(r.limits.MaxBufferSize, 1<<62))), "max_binding_mb": mib(int64(min(r.limits.MaxStorageBufferBindingSize, 1<<62))),
		"budget_mb": mib(r.budget),
	})
	return r
}

// unavailable records that no GPU could be opened: a note in auto, a warning when the GPU
// was asked for.
func (r *Runner) unavailable(why reason) {
	r.off, r.offKey = why, "gpu_fallback_unavailable"
	level := Info
	if r.opt.Backend == BackendGPU {
		level = Warn
	}
	r.events.Emit(level, "gpu_fallback_unavailable", why.eventParams())
}

// Close releases the GPU. It is idempotent. A device lost in a readback timeout is not
// released (wgpu may still be polling it; releasing it then crashed wgpu v0.31.5).
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return nil
	}
	var err error
	if !r.keepLost {
		err = r.dev.Close()
	}
	r.dev = nil
	if r.off.text == "" {
		r.off, r.offKey = reasonClosed(), "gpu_fallback_unavailable"
	}
	if err != nil {
		return fmt.Errorf("compute: close gpu: %w", err)
	}
	return nil
}

// Adapter describes the GPU behind a Runner in words, for reports and `zmosaic gpu`.
type Adapter struct {
	Name       string `json:"name"`
	Vendor     string `json:"vendor,omitempty"`
	Driver     string `json:"driver,omitempty"`
	DriverInfo string `json:"driver_info,omitempty"`
	Backend    string `json:"backend"`     // Vulkan, Metal, DX12, BrowserWebGPU
	DeviceType string `json:"device_type"` // DiscreteGPU, IntegratedGPU, CPU, …
	Software   bool   `json:"software"`    // CPU-emulated (lavapipe, SwiftShader)
}

// AdapterOf converts gpu.Info for reports.
func AdapterOf(i gpu.Info) Adapter {
	return Adapter{Name: i.Name, Vendor: i.Vendor, Driver: i.Driver, DriverInfo: i.DriverInfo,
		Backend: i.Backend.String(), DeviceType: i.DeviceType.String(), Software: i.Software()}
}

// GPU returns the adapter and limits of the open device; ok is false when the Runner is
// CPU-only.
func (r *Runner) GPU() (info gpu.Info, lim wgpu.Limits, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.info, r.limits, r.dev != nil
}

// MaxFrames is how many frames the device's sorting kernels (rejection, median) hold per pixel;
// 0 when CPU-only.
func (r *Runner) MaxFrames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return 0
	}
	return r.dev.MaxFrames()
}

// Budget is the GPU working-set budget in effect (after any allocation back-off); 0 when
// CPU-only.
func (r *Runner) Budget() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return 0
	}
	return r.budget
}

// Plan is how a band of frames×width×rows would be cut for the GPU now, for the default
// stacking options (a rejection: no frame blocks). Without a device it has RowsPerChunk 0.
func (r *Runner) Plan(frames, width, rows int) ChunkPlan {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return PlanChunks(frames, width, rows, 0, 0, false)
	}
	return PlanChunks(frames, width, rows, r.budget, r.bufCap, false)
}

// OpReport is what one kind of operation did over a run.
type OpReport struct {
	Op           string     `json:"op"`      // "stack"
	Backend      string     `json:"backend"` // "gpu", "cpu" or "gpu+cpu"
	Calls        int        `json:"calls"`
	ChunksGPU    int        `json:"chunks_gpu"`
	ChunksCPU    int        `json:"chunks_cpu"` // CPU calls (a fallback runs the rest of a band at once)
	RowsPerChunk int        `json:"rows_per_chunk,omitempty"`
	Retries      int        `json:"oom_retries,omitempty"` // chunks retried smaller after an allocation failure
	Fallbacks    []Fallback `json:"fallbacks,omitempty"`
	GPUSeconds   float64    `json:"gpu_seconds"`
	CPUSeconds   float64    `json:"cpu_seconds"`
	Seconds      float64    `json:"seconds"`
}

// Fallback is one decision to run work on the CPU instead of the GPU.
type Fallback struct {
	Key    string `json:"key"`             // the event key, e.g. "gpu_device_lost"
	Reason string `json:"reason"`          // the error or the numbers behind it
	Call   int    `json:"call,omitempty"`  // 1-based call of the operation
	Chunk  int    `json:"chunk,omitempty"` // 1-based chunk of that call
	Forced bool   `json:"forced"`          // --backend gpu was asked for
}

func (o *OpReport) backend() string {
	switch {
	case o.ChunksGPU > 0 && o.ChunksCPU > 0:
		return "gpu+cpu"
	case o.ChunksGPU > 0:
		return "gpu"
	}
	return "cpu"
}

// Report returns, per operation in first-use order, the backends used, chunk counts,
// fallbacks with reasons and timings.
func (r *Runner) Report() []OpReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]OpReport, len(r.ops))
	for i, o := range r.ops {
		out[i] = *o
		out[i].Backend = o.backend()
		out[i].Fallbacks = append([]Fallback(nil), o.Fallbacks...)
	}
	return out
}

// Summary is the "compute" section of a run report.
type Summary struct {
	Requested       Backend    `json:"requested"`
	Adapter         *Adapter   `json:"adapter,omitempty"`
	BudgetBytes     int64      `json:"gpu_budget_bytes,omitempty"`
	GPUOff          string     `json:"gpu_off,omitempty"` // why the GPU was off (at the end of the run)
	ForcedFallbacks int        `json:"forced_fallbacks"`  // fallbacks while --backend gpu was asked for
	Ops             []OpReport `json:"ops"`
}

// Summary returns the Runner's report for a run report.
func (r *Runner) Summary() Summary {
	ops := r.Report()
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Requested: r.opt.Backend, GPUOff: r.off.text, ForcedFallbacks: r.forced, Ops: ops}
	if r.info.Name != "" || r.dev != nil {
		a := AdapterOf(r.info)
		s.Adapter = &a
		s.BudgetBytes = r.budget
	}
	return s
}

// ForcedFallbacks counts the fallbacks to the CPU while --backend gpu was asked for.
func (r *Runner) ForcedFallbacks() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forced
}

// op returns the report of an operation, creating it on first use.
func (r *Runner) op(name string) *OpReport {
	for _, o := range r.ops {
		if o.Op == name {
			return o
		}
	}
	o := &OpReport{Op: name}
	r.ops = append(r.ops, o)
	return o
}

// fallback records a decision to use the CPU: the event (a warning), its report entry and,
// under --backend gpu, the gpu_forced_fallback warning that the CLI counts.
func (r *Runner) fallback(o *OpReport, key string, why reason, chunk int, params map[string]any) {
	forced := r.opt.Backend == BackendGPU
	r.events.Emit(Warn, key, params)
	o.Fallbacks = append(o.Fallbacks, Fallback{Key: key, Reason: why.text, Call: o.Calls, Chunk: chunk, Forced: forced})
	if forced {
		r.forced++
		r.events.Emit(Warn, "gpu_forced_fallback", why.into(map[string]any{"operation": o.Op}))
	}
}

// emitOnce emits an event the first time its dedup key is seen; it reports whether it did.
func (r *Runner) emitOnce(dedup string, level Level, key string, params map[string]any) bool {
	if r.once[dedup] {
		return false
	}
	r.once[dedup] = true
	r.events.Emit(level, key, params)
	return true
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
