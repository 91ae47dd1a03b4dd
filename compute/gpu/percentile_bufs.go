package gpu

import (
	"errors"
	"sync/atomic"

	"github.com/gogpu/wgpu"
)

// testChunkBytes, when non-zero, caps the bytes of one data chunk below the
// device limit, so that tests exercise the multi-chunk paths on small
// inputs. Only tests set it.
var testChunkBytes atomic.Uint64

// chunkBytes is the largest data buffer one dispatch binds:
// min(maxBufferSize, maxStorageBufferBindingSize), a multiple of 256.
func (e *engine) chunkBytes() uint64 {
	c := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	if t := testChunkBytes.Load(); t > 0 {
		c = min(c, t)
	}
	return max(c&^255, 256)
}

// bufSet holds the pooled buffers of one request and gives them back at
// the end (releasing them instead after an allocation failure or a lost
// device, with the idle ones, to free memory).
type bufSet struct {
	e    *engine
	bufs []heldBuf
}

type heldBuf struct {
	b     *wgpu.Buffer
	usage wgpu.BufferUsage
}

// get returns a pooled buffer of at least size bytes.
func (s *bufSet) get(label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
	b, err := s.e.pool.get(s.e, label, max(size, 4), usage)
	if err == nil {
		s.bufs = append(s.bufs, heldBuf{b, usage})
	}
	return b, err
}

// done returns every buffer; err is the request's result.
func (s *bufSet) done(err error) {
	oom := errors.Is(err, ErrOutOfMemory)
	for _, h := range s.bufs {
		if oom || s.e.lost {
			s.e.releaseBuffer(h.b)
		} else {
			s.e.pool.put(s.e, h.b, h.usage)
		}
	}
	s.bufs = nil
	if oom {
		s.e.pool.drain(s.e)
	}
}

// align64 rounds n elements up to 64 (256 bytes: every storage and uniform
// offset alignment WebGPU allows).
func align64(n uint64) uint64 { return (n + 63) &^ 63 }
