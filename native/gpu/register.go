//go:build !(js && wasm)

package backends

import (
	// Vulkan: hardware GPUs on Linux and Windows, and lavapipe/SwiftShader
	// (Vulkan on the CPU), which is how CI runs the WGSL kernels.
	_ "github.com/gogpu/wgpu/hal/vulkan"
	// Software: always available; refused by compute/gpu for real work.
	_ "github.com/gogpu/wgpu/hal/software"
)
