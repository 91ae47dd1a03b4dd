//go:build !(js && wasm)

package gpu

import (
	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// preferredBackends: the native compute APIs. GL is left out: its compute
// pipelines fail to compile through naga's GLSL output (v0.18.0).
const preferredBackends = wgpu.BackendsVulkan | wgpu.BackendsMetal | wgpu.BackendsDX12

// isInterpreter reports wgpu's software backend, which registers as
// BackendEmpty and is always offered whatever the mask.
func isInterpreter(i Info) bool { return i.Backend == gputypes.BackendEmpty }

func fixBrowserInfo(*Info) {}
