//go:build js && wasm

package gpu

import (
	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// preferredBackends is ignored by the browser, which has one WebGPU.
const preferredBackends = wgpu.BackendsAll

func isInterpreter(Info) bool { return false }

// fixBrowserInfo names the backend, which the browser build leaves empty.
func fixBrowserInfo(i *Info) {
	if i.Backend == gputypes.BackendEmpty {
		i.Backend = gputypes.BackendBrowserWebGPU
	}
}
