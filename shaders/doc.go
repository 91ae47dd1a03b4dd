// Package shaders holds the WGSL compute kernels of zmosaic, embedded in the
// binary, and the tiny templating that specialises them.
//
// Running the kernels (devices, buffers, pipelines) belongs to compute/gpu;
// the meaning of every kernel is defined by the matching function of package
// cpu, and a difference between the two is a bug in one of them.
//
// # Constants
//
// WGSL `override` constants are broken in gogpu/wgpu v0.31.5 (the Vulkan path
// rejects them, `@workgroup_size(override)` silently runs one invocation), so
// kernels declare their compile-time constants with a directive line
//
//	// @const WG: u32
//
// and [Source] replaces that line, in place, with `const WG: u32 = 256u;`.
// Replacing in place keeps line numbers of the expanded text. Every declared constant must be given, and
// every given constant must be declared: a typo is an error, not a silently
// ignored setting.
//
// # Includes
//
// WGSL has no imports. A line `// @include NAME` is replaced by include/NAME.wgsl (see
// [Expanded]); the stacking kernels share their error-free arithmetic (include/exact_f32.wgsl)
// this way, so that it exists once and every kernel rounds the same. Line numbers in compiler
// messages refer to the expanded text.
//
// # Rules for kernels
//
//   - NaN and ±Inf are "no data"; test them through the bit pattern
//     (naga emits an ordered compare for x != x, which is always false).
//   - No dynamic indexing into module `const` arrays (naga returns 0).
//   - No unpack2x16float (its .y is 0 on lavapipe).
//   - Error-free transformations (two-sum, compensated sums) need a barrier
//     the compiler cannot see through: OR the value's bits with a 0 read from
//     storage (see opaque in include/exact_f32.wgsl). Multiplying by a 1.0 read from
//     storage is not enough: Mesa still reassociated around it.
package shaders
