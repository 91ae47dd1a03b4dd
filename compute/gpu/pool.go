package gpu

import (
	"math/bits"

	"github.com/gogpu/wgpu"
)

// pool keeps idle buffers between calls so that a run of equal-sized chunks
// allocates once. Buffers are rounded up to size classes (steps of 1/4 of a
// power of two, so at most 25 % is wasted) and keyed by usage and class.
type pool struct {
	free  map[poolKey][]*wgpu.Buffer
	bytes int64
}

type poolKey struct {
	usage wgpu.BufferUsage
	size  uint64
}

// sizeClass rounds size up to 4·2^k·{1, 1.25, 1.5, 1.75} bytes (at least
// 256), or to a multiple of 4 when the class would exceed maxBuffer.
func sizeClass(size, maxBuffer uint64) uint64 {
	const minClass = 256
	if size <= minClass {
		return minClass
	}
	k := 63 - bits.LeadingZeros64(size-1) // 2^k < size <= 2^(k+1)
	step := uint64(1) << (k - 2)          // quarter of 2^k
	c := (size + step - 1) / step * step
	if maxBuffer > 0 && c > maxBuffer {
		c = (size + 3) &^ 3
	}
	return c
}

// get returns an idle buffer of size's class or allocates one.
func (p *pool) get(e *engine, label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
	key := poolKey{usage, sizeClass(size, e.lim.MaxBufferSize)}
	if l := p.free[key]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[key] = l[:len(l)-1]
		p.bytes -= int64(key.size)
		return b, nil
	}
	return e.createBuffer(label, key.size, usage)
}

// put returns b for reuse, or releases it when the pool is full.
func (p *pool) put(e *engine, b *wgpu.Buffer, usage wgpu.BufferUsage) {
	if b == nil {
		return
	}
	size := b.Size()
	if p.bytes+int64(size) > e.opt.PoolBytes {
		e.releaseBuffer(b)
		return
	}
	if p.free == nil {
		p.free = map[poolKey][]*wgpu.Buffer{}
	}
	key := poolKey{usage, size}
	p.free[key] = append(p.free[key], b)
	p.bytes += int64(size)
}

// drain releases every idle buffer (after an allocation failure, and on Close).
func (p *pool) drain(e *engine) {
	for k, l := range p.free {
		for _, b := range l {
			e.releaseBuffer(b)
		}
		delete(p.free, k)
	}
	p.bytes = 0
}
