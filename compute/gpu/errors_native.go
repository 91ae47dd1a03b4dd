//go:build !(js && wasm)

package gpu

import (
	"errors"

	"github.com/gogpu/wgpu/core"
)

// isAllocFailure reports whether err is a failed buffer allocation: the HAL
// could not allocate, or the size exceeds maxBufferSize. wgpu v0.31.5 returns
// *core.CreateBufferError for both and never wraps wgpu.ErrOutOfMemory, so
// this must use errors.As (error texts are not an API).
func isAllocFailure(err error) bool {
	var cbe *core.CreateBufferError
	if !errors.As(err, &cbe) {
		return false
	}
	return cbe.Kind == core.CreateBufferErrorHAL || cbe.Kind == core.CreateBufferErrorMaxBufferSize
}
