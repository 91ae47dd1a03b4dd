package compute

import (
	"fmt"

	"github.com/zmosaic/zmosaic/compute/gpu"
)

// Backend names where the Runner runs heavy kernels.
type Backend string

// Backend choices; BackendAuto is the default.
const (
	// BackendAuto uses a hardware adapter when one opens and the cpu package otherwise. A
	// CPU-emulated adapter (lavapipe, SwiftShader) is skipped, since our own CPU code is faster,
	// unless Options.SoftwareInAuto is set.
	BackendAuto Backend = "auto"
	// BackendGPU accepts any adapter, CPU-emulated ones included (how CI runs the WGSL on
	// lavapipe). A fallback to the CPU still happens when the GPU cannot do the work, but as a
	// warning that is counted (Summary().ForcedFallbacks), never silently.
	BackendGPU Backend = "gpu"
	// BackendCPU never opens a GPU.
	BackendCPU Backend = "cpu"
)

// Validate reports whether b names a known choice.
func (b Backend) Validate() error {
	switch b {
	case BackendAuto, BackendGPU, BackendCPU:
		return nil
	}
	return fmt.Errorf("compute: unknown backend %q (want auto, gpu or cpu)", string(b))
}

// MinGPUBudget is the smallest explicit GPU budget: below it a 2 MP frame stack would run in
// chunks of a handful of rows, where the per-dispatch overhead dominates.
const MinGPUBudget = 1 << 20

// Options configures a Runner. JSON names are the config keys; flags use '-' for '_'.
type Options struct {
	Backend Backend `json:"backend"` // auto | gpu | cpu
	// GPUBudget bounds the GPU bytes of one chunk (frames, outputs and readback), in bytes.
	// 0 = auto: twice the device's per-buffer cap min(maxBufferSize,
	// maxStorageBufferBindingSize), at most 1 GiB (see AutoGPUBudget).
	GPUBudget int64 `json:"gpu_budget"`
	// SoftwareInAuto makes auto use a CPU-emulated adapter too. The browser sets it: the page
	// promises the browser's WebGPU whenever navigator.gpu offers an adapter, and there the
	// pure-Go path is single-threaded wasm while a fallback adapter such as SwiftShader runs on
	// every core (on small inputs the wasm path measured faster: the page says so and offers
	// the CPU backend). The CLI leaves it off.
	SoftwareInAuto bool `json:"-"`
	// Faults makes the GPU fail on purpose (tests, demonstrations). The library never reads
	// it from the environment; the CLI parses ZMOSAIC_GPU_FAULT.
	Faults gpu.Faults `json:"-"`
}

// DefaultOptions returns the defaults: backend auto, automatic GPU budget, no faults.
func DefaultOptions() Options { return Options{Backend: BackendAuto} }

// Validate checks every field of o.
func (o Options) Validate() error {
	if err := o.Backend.Validate(); err != nil {
		return err
	}
	if o.GPUBudget < 0 || (o.GPUBudget > 0 && o.GPUBudget < MinGPUBudget) {
		return fmt.Errorf("compute: gpu_budget must be 0 (auto) or at least %d bytes (1 MiB), got %d", MinGPUBudget, o.GPUBudget)
	}
	if o.Faults.OOMAt < 0 || o.Faults.LostAt < 0 {
		return fmt.Errorf("compute: fault counts must be >= 0, got %+v", o.Faults)
	}
	return nil
}
