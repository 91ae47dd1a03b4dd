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
// Replacing in place keeps line numbers, so a compiler error points at the
// right line of the .wgsl file. Every declared constant must be given, and
// every given constant must be declared: a typo is an error, not a silently
// ignored setting.
//
// # Rules for kernels
//
//   - NaN and ±Inf are "no data"; test them through the bit pattern
//     (naga emits an ordered compare for x != x, which is always false).
//   - No dynamic indexing into module `const` arrays (naga returns 0).
//   - No unpack2x16float (its .y is 0 on lavapipe).
//   - Error-free transformations (two-sum, compensated sums) need a barrier
//     the compiler cannot see through: OR the value's bits with a 0 read from
//     storage (see opaque in stack_none.wgsl). Multiplying by a 1.0 read from
//     storage is not enough: Mesa still reassociated around it.
package shaders
