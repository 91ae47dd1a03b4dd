package gpu

import (
	"context"
	"fmt"
	"math"

	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// This file runs the streamed-rejection rule of cpu.StackBand: winsor or
// kappa over more than cpu.MaxSortFrames frames, combined by mean, min or
// max. The sorting kernel holds at most MaxSortFrames samples a pixel, so
// the rejection runs on the cpu.SubsampleFrames subsample only, in
// stack_reject's BOUNDS mode, which leaves each pixel's final bounds
// (lo, hi) on the device; stack_bounded_blocks then streams ALL frames,
// block after block, rejecting the samples outside the bounds and combining
// the others as stack_none does.

// streams reports whether StackBand runs opt on n frames by the streamed
// rule (the same test as package cpu's).
func streams(opt cpu.StackOptions, n int) bool {
	return n > cpu.MaxSortFrames &&
		(opt.Reject == cpu.RejectWinsor || opt.Reject == cpu.RejectKappa) &&
		opt.Combine != cpu.CombineMedian
}

// stackStreamed stacks a band by the streamed rule with fpb frames per block
// (fpb >= len(src): one block). Arguments are checked by the caller; src
// holds more than MaxSortFrames frames and dst at least one pixel.
func (d *Device) stackStreamed(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, opt cpu.StackOptions, fpb int) (cpu.StackStats, error) {
	st := cpu.StackStats{Pixels: int64(len(dst))}
	keptOut := kept
	if keptOut == nil {
		keptOut = make([]uint32, len(dst)) // the Samples total needs it
	}
	rej := make([]uint32, 2*len(dst))
	err := d.do(ctx, func(ctx context.Context, e *engine) error {
		return e.stackStreamed(ctx, dst, keptOut, rej, src, norm, weights, opt, fpb)
	})
	if err != nil {
		return cpu.StackStats{}, err
	}
	for j, c := range keptOut {
		lo, hi := rej[2*j], rej[2*j+1]
		st.RejectedLow += int64(lo)
		st.RejectedHigh += int64(hi)
		st.Samples += int64(c) + int64(lo) + int64(hi)
	}
	return st, nil
}

// stackStreamed runs both passes on the owner goroutine and then applies
// winsor's rule for an emptied kept set. rej receives (low, high) per pixel.
func (e *engine) stackStreamed(ctx context.Context, dst []float32, kept, rej []uint32, src [][]float32, norm []cpu.Affine, weights []float32, opt cpu.StackOptions, fpb int) (err error) {
	if err := e.usable(); err != nil {
		return err
	}
	px := uint64(len(dst))
	bindMax := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	if px > math.MaxUint32 || 2*px*4 > bindMax {
		return fmt.Errorf("gpu: bounds of %d pixels need %d bytes, limit %d: %w", px, 2*px*4, bindMax, ErrTooLarge)
	}
	bufs := heldBuffers{e: e}
	defer func() { bufs.finish(err) }()
	boundsBuf, err := bufs.get("stack bounds", 2*px*4, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	if err := e.rejectBounds(ctx, boundsBuf, src, norm, opt, px); err != nil {
		return err
	}
	combine := combineCode[opt.Combine]
	if err := e.stackBlocks(ctx, combine, dst, kept, src, norm, weights, fpb, &blockBounds{buf: boundsBuf, rej: rej}); err != nil {
		return err
	}
	if opt.Reject == cpu.RejectWinsor {
		return e.unrejectEmptied(ctx, combine, dst, kept, rej, src, norm, weights, fpb)
	}
	return nil
}

// unrejectEmptied applies winsor's rule to the pixels whose every valid
// sample fell outside the bounds: a test that would empty the kept set is
// not applied, so all valid samples are combined, none rejected (as
// cpu.StackBand). Bounds taken from a kept run of the subsample keep its
// samples, so such pixels are rare (a float32 bound a rounding away from
// them); they are gathered into a small band and stacked without rejection,
// which is what the bounded kernel computes with bounds ±Inf.
func (e *engine) unrejectEmptied(ctx context.Context, combine uint32, dst []float32, kept, rej []uint32, src [][]float32, norm []cpu.Affine, weights []float32, fpb int) error {
	var idx []int
	for j, c := range kept {
		if c == 0 && rej[2*j]+rej[2*j+1] > 0 {
			idx = append(idx, j)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	sub := make([][]float32, len(src))
	for i, f := range src {
		sub[i] = make([]float32, len(idx))
		for k, j := range idx {
			sub[i][k] = f[j]
		}
	}
	sd, sk := make([]float32, len(idx)), make([]uint32, len(idx))
	if err := e.stackBlocks(ctx, combine, sd, sk, sub, norm, weights, fpb, nil); err != nil {
		return err
	}
	for k, j := range idx {
		dst[j], kept[j] = sd[k], sk[k]
		rej[2*j], rej[2*j+1] = 0, 0
	}
	return nil
}

// rejectBounds runs stack_reject in BOUNDS mode on the cpu.SubsampleFrames
// of src and leaves the (lo, hi) pairs of the px pixels in out. The
// subsample's samples of a pixel must fit one binding; when those of the
// whole band do not, the pixels go in chunks (one submit each, copied into
// out at their offset).
func (e *engine) rejectBounds(ctx context.Context, out *wgpu.Buffer, src [][]float32, norm []cpu.Affine, opt cpu.StackOptions, px uint64) (err error) {
	subIdx := cpu.SubsampleFrames(len(src))
	s := uint64(len(subIdx))
	bindMax := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	chunk := min(px, bindMax/(s*4))
	if chunk == 0 {
		return fmt.Errorf("gpu: one pixel of a %d-frame subsample needs %d bytes, limit %d: %w", s, s*4, bindMax, ErrTooLarge)
	}
	k := kernelFor(opt, int(s))
	k.consts["BOUNDS"] = true
	k.consts["COMBINE"] = combineCode[cpu.CombineMean] // unused: one pipeline for every combine
	wg := e.workgroupSize()
	consts := map[string]any{"WG": wg}
	for c, v := range k.consts {
		consts[c] = v
	}
	pipe, err := e.pipelineFor(k.name, consts, k.bindings)
	if err != nil {
		return err
	}
	var subNorm []cpu.Affine
	if norm != nil {
		subNorm = make([]cpu.Affine, s)
		for k, i := range subIdx {
			subNorm[k] = norm[i]
		}
	}

	bufs := heldBuffers{e: e}
	defer func() { bufs.finish(err) }()
	const in, outUse = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst, wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc
	const parBytes = 32
	srcBuf, err := bufs.get("stack bounds src", s*chunk*4, in)
	if err != nil {
		return err
	}
	frmBuf, err := bufs.get("stack frames", s*16, in)
	if err != nil {
		return err
	}
	pairBuf, err := bufs.get("stack bounds chunk", 2*chunk*4, outUse)
	if err != nil {
		return err
	}
	// kept and rej are declared by the kernel but not written in BOUNDS
	// mode: one element each.
	unused, err := bufs.get("stack bounds unused", 8, wgpu.BufferUsageStorage)
	if err != nil {
		return err
	}
	parBuf, err := bufs.get("stack params", parBytes, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	if err := e.q.WriteBuffer(frmBuf, 0, frameParams(subNorm, nil, int(s))); err != nil {
		return writeError("frame parameters", err)
	}

	var row []float32 // a chunk's samples of one frame, when chunked
	if chunk < px {
		row = make([]float32, chunk)
	}
	for a := uint64(0); a < px; a += chunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gpu: stack bounds: %w", err)
		}
		c := min(chunk, px-a)
		gx, gy, strideX, err := e.grid(uint32(c), wg)
		if err != nil {
			return err
		}
		for k, i := range subIdx {
			b := f32bytes(src[i][a : a+c])
			if c < px {
				copy(row, src[i][a:a+c])
				b = f32bytes(row[:c])
			}
			if err := e.q.WriteBuffer(srcBuf, uint64(k)*c*4, b); err != nil {
				return writeError(fmt.Sprintf("frame %d", i), err)
			}
		}
		if err := e.q.WriteBuffer(parBuf, 0, k.params(uint32(c), uint32(s), strideX)); err != nil {
			return writeError("params", err)
		}
		bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: "stack_reject bounds", Layout: pipe.bgl, Entries: []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: srcBuf, Size: s * c * 4},
			{Binding: 1, Buffer: frmBuf, Size: s * 16},
			{Binding: 2, Buffer: pairBuf, Size: 2 * c * 4},
			{Binding: 3, Buffer: unused, Size: 4},
			{Binding: 4, Buffer: unused, Size: 4},
			{Binding: 5, Buffer: parBuf, Size: parBytes},
		}})
		if err != nil {
			return fmt.Errorf("gpu: bind group: %w", err)
		}
		err = e.dispatchCopy(pipe, bg, gx, gy, pairBuf, out, a*8, 2*c*4)
		bg.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// dispatchCopy submits one dispatch of pipe over a gx×gy grid followed by a
// copy of size bytes from the start of from to to at offset at.
func (e *engine) dispatchCopy(pipe *pipeline, bg *wgpu.BindGroup, gx, gy uint32, from, to *wgpu.Buffer, at, size uint64) error {
	enc, err := e.encodeDispatch(pipe, bg, gx, gy)
	if err != nil {
		return err
	}
	enc.CopyBufferToBuffer(from, 0, to, at, size)
	cb, err := enc.Finish()
	if err != nil {
		return fmt.Errorf("gpu: encode: %w", err)
	}
	return e.submit(cb)
}
