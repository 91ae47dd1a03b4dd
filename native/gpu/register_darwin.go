package backends

// Metal is the native API on Apple platforms.
import _ "github.com/gogpu/wgpu/hal/metal"
