package gpu

import (
	"fmt"
	"time"
)

// Options configures Open. The zero value of each field means its default;
// DefaultOptions returns them spelled out.
type Options struct {
	// AllowSoftware accepts a CPU-emulated adapter (lavapipe, SwiftShader,
	// DeviceType CPU). Such adapters run the kernels correctly but slower than
	// package cpu, so the default refuses them; tests and CI set it. wgpu's own
	// software interpreter is always refused: it gets NaN tests wrong.
	AllowSoftware bool `json:"allow_software"`
	// WorkgroupSize is the invocations per workgroup of the per-pixel kernels,
	// clamped to the device limits. 0 = 256.
	WorkgroupSize int `json:"workgroup_size"`
	// MaxWorkgroupsPerDim caps the workgroup count of one dispatch dimension
	// below the device limit (65535 on every current adapter); larger
	// dispatches use a 2-D grid. 0 = the device limit. Tests set it small to
	// exercise the 2-D path on small bands.
	MaxWorkgroupsPerDim int `json:"max_workgroups_per_dim"`
	// MaxBufferSize raises the device's maxBufferSize (wgpu reports the
	// WebGPU default of 256 MiB on Vulkan whatever the hardware allows).
	// 0 = keep the adapter's value. Bindings stay capped by
	// maxStorageBufferBindingSize.
	MaxBufferSize uint64 `json:"max_buffer_size"`
	// PoolBytes caps the bytes of idle buffers kept for reuse between calls.
	// 0 = 256 MiB; a negative value keeps none.
	PoolBytes int64 `json:"pool_bytes"`
	// MapTimeout bounds one readback. A readback that does not finish in time
	// marks the device lost (a lost device never resolves a map). 0 = 60 s.
	MapTimeout time.Duration `json:"map_timeout"`
	// Faults injects failures; the zero value injects none.
	Faults Faults `json:"-"`
}

// Faults makes the device fail on purpose, to test and demonstrate the
// Runner's fallbacks. Counts are 1-based and cover the Device's whole life; 0
// disables a fault. The library never reads them from the environment: the
// CLI parses ZMOSAIC_GPU_FAULT and fills this struct.
type Faults struct {
	// OOMAt makes the N-th buffer allocation fail with ErrOutOfMemory.
	// Buffers reused from the pool are not allocations.
	OOMAt int
	// LostAt makes the N-th queue submission fail with ErrDeviceLost (the
	// work is not submitted), after which the device stays lost.
	LostAt int
	// Compile makes every shader compilation fail with ErrCompile, by
	// handing the compiler invalid WGSL.
	Compile bool
}

// DefaultOptions returns the defaults: hardware adapters only, 256-wide
// workgroups, device limits, a 256 MiB pool and a 60 s readback timeout.
func DefaultOptions() Options {
	return Options{
		WorkgroupSize: 256,
		PoolBytes:     256 << 20,
		MapTimeout:    60 * time.Second,
	}
}

// Validate reports options that are out of range.
func (o Options) Validate() error {
	switch {
	case o.WorkgroupSize < 0:
		return fmt.Errorf("gpu: workgroup_size must be >= 0, got %d", o.WorkgroupSize)
	case o.MaxWorkgroupsPerDim < 0:
		return fmt.Errorf("gpu: max_workgroups_per_dim must be >= 0, got %d", o.MaxWorkgroupsPerDim)
	case o.MapTimeout < 0:
		return fmt.Errorf("gpu: map_timeout must be >= 0, got %v", o.MapTimeout)
	case o.Faults.OOMAt < 0 || o.Faults.LostAt < 0:
		return fmt.Errorf("gpu: fault counts must be >= 0, got %+v", o.Faults)
	}
	return nil
}

// withDefaults fills zero fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.WorkgroupSize == 0 {
		o.WorkgroupSize = d.WorkgroupSize
	}
	if o.PoolBytes == 0 {
		o.PoolBytes = d.PoolBytes
	}
	if o.PoolBytes < 0 {
		o.PoolBytes = 0
	}
	if o.MapTimeout == 0 {
		o.MapTimeout = d.MapTimeout
	}
	return o
}
