//go:build js && wasm

package gpu

// isAllocFailure: the browser's createBuffer never fails synchronously (an
// allocation failure surfaces as a console validation error and a lost
// readback), so only wgpu.ErrOutOfMemory, checked by the caller, applies.
func isAllocFailure(error) bool { return false }
