// Package gpu is the WebGPU backend of the compute Runner: it opens one
// device through github.com/gogpu/wgpu (Vulkan, Metal or DX12 natively, the
// browser's WebGPU under GOOS=js), compiles the kernels of package shaders and
// runs them on row bands of frames.
//
// It never imports a HAL backend: a native program registers them by
// importing github.com/zmosaic/zmosaic/native/gpu for its side effect. Planning
// chunks, falling back to the CPU and emitting events belong to the Runner in
// package compute; this package only reports what happened through errors.
//
// # Concurrency
//
// A Device owns its wgpu device on one goroutine: every public method sends a
// request over a channel and the owner runs requests one at a time, in order.
// gogpu/wgpu v0.31.5 returned stale readbacks when several goroutines
// submitted and mapped on one device, so this is a correctness rule, not a
// convenience. Methods are safe for concurrent use.
//
// # Errors
//
// Callers branch on sentinels with errors.Is: ErrNoAdapter (no usable
// adapter), ErrOutOfMemory (an allocation failed: shrink the chunk and retry),
// ErrTooLarge (the request exceeds the device limits: plan smaller chunks),
// ErrCompile (shader or pipeline creation failed: use the CPU),
// ErrDeviceLost (a submit failed or a readback timed out: the device is
// unusable and every later call fails fast), ErrUnsupported (no GPU kernel for
// these options) and ErrClosed. Faults injects each of them for tests and
// demonstrations.
//
// # Precision
//
// The CPU reference works in float64; the kernels use float32 with
// error-free transformations (exact products of 12-bit halves, two-sums,
// compensated sums, divisions and square roots corrected by their exact
// residual), so values agree with package cpu within the bound stated on
// StackBand (measured on lavapipe: bit for bit on every tested pixel).
// Rejection statistics are float32, so a sample within ~1e-6 relative of a
// threshold may be judged differently: kept counts then differ, rarely (the
// bound is 1e-3 of pixels; measured 0). The same input on the same device
// gives bit-identical output. Denormal inputs may be flushed to zero by the
// driver.
//
// # Deep stacks
//
// Winsor and kappa over more than MaxFrames (= cpu.MaxSortFrames) frames use
// cpu.StackBand's streamed rule: rejection bounds from a subsample of the
// frames, then every frame streamed against them (StackBand, StackBandBlocks;
// stack_stream.go). The median and the linear fit over that many frames
// return ErrUnsupported, and the Runner runs them on the CPU.
package gpu
