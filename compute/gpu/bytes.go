package gpu

import "unsafe"

// f32bytes views s as bytes without copying. WebGPU buffers are
// little-endian and so is every platform wgpu runs on (amd64, arm64, wasm).
func f32bytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

// u32bytes views s as bytes without copying.
func u32bytes(s []uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}
