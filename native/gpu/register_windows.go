package backends

// DX12 is the native API on Windows (Vulkan is registered too).
import _ "github.com/gogpu/wgpu/hal/dx12"
