package gpu

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// stack runs one band through kernel k on the owner goroutine: upload,
// dispatch, read back dst, kept and (when rej is not nil) the packed
// rejection counts.
func (e *engine) stack(ctx context.Context, k stackKernel, dst []float32, kept, rej []uint32, src [][]float32, norm []cpu.Affine, weights []float32) (err error) {
	if err := e.usable(); err != nil {
		return err
	}
	px, n := uint64(len(dst)), uint64(len(src))
	srcBytes, outBytes := n*px*4, px*4
	bindMax := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	if srcBytes > bindMax || px > math.MaxUint32 {
		return fmt.Errorf("gpu: band of %d frames × %d pixels needs %d bytes, limit %d: %w", n, px, srcBytes, bindMax, ErrTooLarge)
	}
	wg := e.workgroupSize()
	gx, gy, strideX, err := e.grid(uint32(px), wg)
	if err != nil {
		return err
	}
	consts := map[string]any{"WG": wg}
	for c, v := range k.consts {
		consts[c] = v
	}
	pipe, err := e.pipelineFor(k.name, consts, k.bindings)
	if err != nil {
		return err
	}

	// Buffers: acquired from the pool, returned at the end (released instead
	// after an allocation failure, with the idle ones, to free memory).
	type held struct {
		b     *wgpu.Buffer
		usage wgpu.BufferUsage
	}
	var bufs []held
	defer func() {
		oom := errors.Is(err, ErrOutOfMemory)
		for _, h := range bufs {
			if oom || e.lost {
				e.releaseBuffer(h.b)
			} else {
				e.pool.put(e, h.b, h.usage)
			}
		}
		if oom {
			e.pool.drain(e)
		}
	}()
	get := func(label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
		b, err := e.pool.get(e, label, size, usage)
		if err == nil {
			bufs = append(bufs, held{b, usage})
		}
		return b, err
	}
	const in, out = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst, wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc
	const parBytes = 32
	srcBuf, err := get("stack src", srcBytes, in)
	if err != nil {
		return err
	}
	frmBuf, err := get("stack frames", n*16, in)
	if err != nil {
		return err
	}
	outputs := [][]byte{f32bytes(dst), u32bytes(kept)}
	if rej != nil {
		outputs = append(outputs, u32bytes(rej))
	}
	outBufs := make([]*wgpu.Buffer, len(outputs))
	for i := range outputs {
		if outBufs[i], err = get("stack output", outBytes, out); err != nil {
			return err
		}
	}
	parBuf, err := get("stack params", parBytes, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	slot := (outBytes + 7) &^ 7 // MappedRange offsets are 8-aligned
	readBytes := slot*uint64(len(outputs)-1) + outBytes
	if err := e.ensureStaging(readBytes); err != nil {
		return err
	}

	// Upload: frames straight from the caller's slices (WriteBuffer copies).
	for i, f := range src {
		if err := e.q.WriteBuffer(srcBuf, uint64(i)*outBytes, f32bytes(f)); err != nil {
			return fmt.Errorf("gpu: upload frame %d: %w", i, err)
		}
	}
	if err := e.q.WriteBuffer(frmBuf, 0, frameParams(norm, weights, len(src))); err != nil {
		return fmt.Errorf("gpu: upload frame parameters: %w", err)
	}
	if err := e.q.WriteBuffer(parBuf, 0, k.params(uint32(px), uint32(n), strideX)); err != nil {
		return fmt.Errorf("gpu: upload params: %w", err)
	}

	entries := []wgpu.BindGroupEntry{
		{Binding: 0, Buffer: srcBuf, Size: srcBytes},
		{Binding: 1, Buffer: frmBuf, Size: n * 16},
	}
	for i, b := range outBufs {
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(2 + i), Buffer: b, Size: outBytes})
	}
	entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(len(entries)), Buffer: parBuf, Size: parBytes})
	bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: k.name, Layout: pipe.bgl, Entries: entries})
	if err != nil {
		return fmt.Errorf("gpu: bind group: %w", err)
	}
	defer bg.Release()

	enc, err := e.encodeDispatch(pipe, bg, gx, gy)
	if err != nil {
		return err
	}
	for i, b := range outBufs {
		enc.CopyBufferToBuffer(b, 0, e.staging, uint64(i)*slot, outBytes)
	}
	cb, err := enc.Finish()
	if err != nil {
		return fmt.Errorf("gpu: encode: %w", err)
	}
	if err := e.submit(cb); err != nil {
		return err
	}
	return e.readback(ctx, readBytes, func(b []byte) {
		for i, o := range outputs {
			copy(o, b[uint64(i)*slot:uint64(i)*slot+outBytes])
		}
	})
}
