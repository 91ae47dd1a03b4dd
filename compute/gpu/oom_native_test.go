//go:build !(js && wasm)

package gpu

import (
	"context"
	"errors"
	"testing"

	"github.com/gogpu/wgpu"
	"github.com/gogpu/wgpu/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real allocation failure (not an injected one) is classified through
// errors.As on *core.CreateBufferError, keeping the wgpu error reachable.
func TestRealAllocationFailureIsOutOfMemory(t *testing.T) {
	d := sharedDevice(t)
	var err error
	require.NoError(t, d.send(context.Background(), func(_ context.Context, e *engine) error {
		var b *wgpu.Buffer
		b, err = e.createBuffer("huge", e.lim.MaxBufferSize+4, wgpu.BufferUsageStorage)
		e.releaseBuffer(b)
		return nil
	}))
	require.ErrorIs(t, err, ErrOutOfMemory)
	var cbe *core.CreateBufferError
	require.True(t, errors.As(err, &cbe))
	assert.Equal(t, core.CreateBufferErrorMaxBufferSize, cbe.Kind)
	assert.False(t, d.Lost())
}
