// Package backends registers the native gogpu/wgpu HAL backends (Vulkan and
// the software rasteriser) with a blank import, so that library packages such
// as compute/gpu never import a backend and still build for the browser.
//
// Import it for its side effect from a main package or a test:
//
//	import _ "github.com/zmosaic/zmosaic/native/gpu"
//
// compute/gpu refuses the software backend (an interpreter that gets NaN
// tests, barriers and atomics wrong); it is registered so that a machine
// without a Vulkan loader still reports "only a software adapter" rather than
// "no backend at all".
package backends
