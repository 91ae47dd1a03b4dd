package gpu

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// accBytes is the size of one pixel's accumulators (struct Acc of
// shaders/stack_none_blocks.wgsl: four vec2<f32>, three f32 and a u32).
const accBytes = 48

// stackBlocksBindings is the layout of shaders/stack_none_blocks.wgsl.
var stackBlocksBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // src block, frame-major
	gputypes.BufferBindingTypeReadOnlyStorage, // per-frame gain, offset, weight (all frames)
	gputypes.BufferBindingTypeStorage,         // per-pixel accumulators
	gputypes.BufferBindingTypeStorage,         // dst
	gputypes.BufferBindingTypeStorage,         // kept
	gputypes.BufferBindingTypeUniform,         // params
}

// stackBoundedBindings is the layout of shaders/stack_bounded_blocks.wgsl:
// stack_none_blocks' with the bounds and the rejection counts before params.
var stackBoundedBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // src block, frame-major
	gputypes.BufferBindingTypeReadOnlyStorage, // per-frame gain, offset, weight (all frames)
	gputypes.BufferBindingTypeStorage,         // per-pixel accumulators
	gputypes.BufferBindingTypeStorage,         // dst
	gputypes.BufferBindingTypeStorage,         // kept
	gputypes.BufferBindingTypeReadOnlyStorage, // per-pixel (lo, hi) bounds
	gputypes.BufferBindingTypeStorage,         // per-pixel (low, high) rejection counts
	gputypes.BufferBindingTypeUniform,         // params
}

// Flags of the blocks kernel's Params.flags.
const (
	firstBlock = 1 // start from empty accumulators
	lastBlock  = 2 // write dst and kept instead of the accumulators
)

// StackBandBlocks is StackBand for Reject none and Combine mean, min or max
// (and for winsor or kappa with mean, min or max over more than MaxFrames
// frames, the streamed rule) with the frames uploaded framesPerBlock at a
// time into one reused input buffer, for bands whose frames do not fit one
// buffer together. The streamed rule first runs its bounds pass on the
// MaxFrames subsample frames (in pixel chunks when those do not fit one
// binding) and keeps the bounds (8 bytes a pixel) and the rejection counts
// (8 more) on the device. Per-pixel
// accumulators (stack_none's compensated sums of Σw·v, Σw and Σv in frame
// order, the count, min and max: 48 bytes a pixel) stay on the device
// between blocks, and the last block writes dst and kept. The output is
// bit-identical to StackBand's, whatever framesPerBlock: each pixel makes
// the same floating-point operations in the same order (so the precision
// stated on StackBand applies). The returned stats are StackBand's.
//
// framesPerBlock must be >= 1 (larger than len(src) means one block); other
// options (the median, the linear fit, winsor or kappa over at most
// MaxFrames frames) return ErrUnsupported.
// framesPerBlock·len(dst)·4 bytes, and the accumulators' len(dst)·48, must
// each fit one binding (see MaxBlockFrames), else ErrTooLarge. Cancelling
// ctx stops between blocks. Arguments are checked as StackBand checks them.
func (d *Device) StackBandBlocks(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions, framesPerBlock int) (cpu.StackStats, error) {
	if err := opt.Validate(); err != nil {
		return cpu.StackStats{}, fmt.Errorf("gpu: %w", err)
	}
	if err := cpu.CheckBand(dst, kept, src, norm, weights, width); err != nil {
		return cpu.StackStats{}, fmt.Errorf("gpu: %w", err)
	}
	streamed := streams(opt, len(src))
	if (opt.Reject != cpu.RejectNone || opt.Combine == cpu.CombineMedian) && !streamed {
		return cpu.StackStats{}, fmt.Errorf("gpu: %s/%s of %d frames in frame blocks (only none with mean, min or max, and winsor or kappa above %d frames, stream): %w",
			opt.Reject, opt.Combine, len(src), largeMaxN, ErrUnsupported)
	}
	if framesPerBlock < 1 {
		return cpu.StackStats{}, fmt.Errorf("gpu: %w: frames per block must be >= 1, got %d", cpu.ErrInvalidOptions, framesPerBlock)
	}
	st := cpu.StackStats{Pixels: int64(len(dst))}
	if len(dst) == 0 {
		return st, nil
	}
	if len(src) == 0 {
		for j := range dst {
			dst[j] = float32(math.NaN())
		}
		clear(kept)
		return st, nil
	}
	fpb := min(framesPerBlock, len(src))
	if streamed {
		return d.stackStreamed(ctx, dst, kept, src, norm, weights, opt, fpb)
	}
	keptOut := kept
	if keptOut == nil {
		keptOut = make([]uint32, len(dst)) // the Samples total needs it
	}
	combine := combineCode[opt.Combine]
	err := d.do(ctx, func(ctx context.Context, e *engine) error {
		return e.stackBlocks(ctx, combine, dst, keptOut, src, norm, weights, fpb, nil)
	})
	if err != nil {
		return cpu.StackStats{}, err
	}
	for _, c := range keptOut {
		st.Samples += int64(c)
	}
	return st, nil
}

// MaxBlockFrames returns the largest framesPerBlock StackBandBlocks accepts
// for a band of pixels pixels: the frames whose samples fit one binding
// (min(maxBufferSize, maxStorageBufferBindingSize)), or 0 when not even one
// frame, or the band's accumulators, fit.
func (d *Device) MaxBlockFrames(pixels int) int {
	return maxBlockFrames(d.limits, pixels)
}

func maxBlockFrames(lim wgpu.Limits, pixels int) int {
	if pixels <= 0 {
		return math.MaxInt32
	}
	bindMax := min(lim.MaxBufferSize, lim.MaxStorageBufferBindingSize)
	px := uint64(pixels)
	if px > math.MaxUint32 || px*accBytes > bindMax {
		return 0
	}
	return int(min(bindMax/(px*4), math.MaxInt32))
}

// blockBounds is stackBlocks' optional bound test (stack_bounded_blocks):
// the per-pixel (lo, hi) float32 pairs, already on the device, and the
// slice (2 per pixel) that receives the (low, high) rejection counts.
type blockBounds struct {
	buf *wgpu.Buffer
	rej []uint32
}

// stackBlocks runs stack_none_blocks (stack_bounded_blocks when bd is not
// nil) over src, fpb frames per dispatch, on the owner goroutine: one submit
// per block (the input buffer is rewritten between them; queue writes are
// ordered after earlier submits), one readback at the end.
func (e *engine) stackBlocks(ctx context.Context, combine uint32, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, fpb int, bd *blockBounds) (err error) {
	if err := e.usable(); err != nil {
		return err
	}
	px, n := uint64(len(dst)), len(src)
	blockBytes, outBytes, accSize := uint64(fpb)*px*4, px*4, px*accBytes
	bindMax := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	if px > math.MaxUint32 || blockBytes > bindMax || accSize > bindMax {
		return fmt.Errorf("gpu: block of %d frames × %d pixels needs %d bytes of input and %d of accumulators, limit %d: %w",
			fpb, px, blockBytes, accSize, bindMax, ErrTooLarge)
	}
	wg := e.workgroupSize()
	gx, gy, strideX, err := e.grid(uint32(px), wg)
	if err != nil {
		return err
	}
	name, bindings := "stack_none_blocks", stackBlocksBindings
	if bd != nil {
		name, bindings = "stack_bounded_blocks", stackBoundedBindings
	}
	pipe, err := e.pipelineFor(name, map[string]any{"WG": wg, "COMBINE": combine}, bindings)
	if err != nil {
		return err
	}

	bufs := heldBuffers{e: e}
	defer func() { bufs.finish(err) }()
	const in, out = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst, wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc
	const parBytes = 32
	srcBuf, err := bufs.get("stack blocks src", blockBytes, in)
	if err != nil {
		return err
	}
	frmBuf, err := bufs.get("stack frames", uint64(n)*16, in)
	if err != nil {
		return err
	}
	accBuf, err := bufs.get("stack blocks accumulators", accSize, wgpu.BufferUsageStorage)
	if err != nil {
		return err
	}
	dstBuf, err := bufs.get("stack output", outBytes, out)
	if err != nil {
		return err
	}
	keptBuf, err := bufs.get("stack output", outBytes, out)
	if err != nil {
		return err
	}
	parBuf, err := bufs.get("stack params", parBytes, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	entries := []wgpu.BindGroupEntry{
		{Binding: 0, Buffer: srcBuf, Size: blockBytes},
		{Binding: 1, Buffer: frmBuf, Size: uint64(n) * 16},
		{Binding: 2, Buffer: accBuf, Size: accSize},
		{Binding: 3, Buffer: dstBuf, Size: outBytes},
		{Binding: 4, Buffer: keptBuf, Size: outBytes},
	}
	slot := (outBytes + 7) &^ 7 // MappedRange offsets are 8-aligned
	readBytes := slot + outBytes
	var rejBuf *wgpu.Buffer
	if bd != nil {
		if rejBuf, err = bufs.get("stack rejected counts", 2*outBytes, out); err != nil {
			return err
		}
		entries = append(entries,
			wgpu.BindGroupEntry{Binding: 5, Buffer: bd.buf, Size: 2 * outBytes},
			wgpu.BindGroupEntry{Binding: 6, Buffer: rejBuf, Size: 2 * outBytes})
		readBytes = 2*slot + 2*outBytes
	}
	entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(len(entries)), Buffer: parBuf, Size: parBytes})
	if err := e.ensureStaging(readBytes); err != nil {
		return err
	}
	if err := e.q.WriteBuffer(frmBuf, 0, frameParams(norm, weights, n)); err != nil {
		return writeError("frame parameters", err)
	}
	bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: name, Layout: pipe.bgl, Entries: entries})
	if err != nil {
		return fmt.Errorf("gpu: bind group: %w", err)
	}
	defer bg.Release()

	for f0 := 0; f0 < n; f0 += fpb {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gpu: stack blocks: %w", err)
		}
		nb := min(fpb, n-f0)
		for k := range nb {
			if err := e.q.WriteBuffer(srcBuf, uint64(k)*outBytes, f32bytes(src[f0+k])); err != nil {
				return writeError(fmt.Sprintf("frame %d", f0+k), err)
			}
		}
		flags := uint32(0)
		if f0 == 0 {
			flags |= firstBlock
		}
		last := f0+nb == n
		if last {
			flags |= lastBlock
		}
		if err := e.q.WriteBuffer(parBuf, 0, blockParams(uint32(px), uint32(nb), strideX, uint32(f0), flags)); err != nil {
			return writeError("params", err)
		}
		enc, err := e.encodeDispatch(pipe, bg, gx, gy)
		if err != nil {
			return err
		}
		if last {
			enc.CopyBufferToBuffer(dstBuf, 0, e.staging, 0, outBytes)
			enc.CopyBufferToBuffer(keptBuf, 0, e.staging, slot, outBytes)
			if rejBuf != nil {
				enc.CopyBufferToBuffer(rejBuf, 0, e.staging, 2*slot, 2*outBytes)
			}
		}
		cb, err := enc.Finish()
		if err != nil {
			return fmt.Errorf("gpu: encode: %w", err)
		}
		if err := e.submit(cb); err != nil {
			return err
		}
	}
	return e.readback(ctx, readBytes, func(b []byte) {
		copy(f32bytes(dst), b[:outBytes])
		copy(u32bytes(kept), b[slot:slot+outBytes])
		if bd != nil {
			copy(u32bytes(bd.rej), b[2*slot:2*slot+2*outBytes])
		}
	})
}

// blockParams packs stack_none_blocks' uniform Params (32 bytes).
func blockParams(px, frames, strideX, first, flags uint32) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], px)
	binary.LittleEndian.PutUint32(b[4:], frames)
	binary.LittleEndian.PutUint32(b[8:], strideX)
	binary.LittleEndian.PutUint32(b[12:], first)
	binary.LittleEndian.PutUint32(b[16:], flags)
	return b
}

// writeError wraps a failed queue write: the staging memory of a write is
// allocated, so it can fail for lack of memory like a buffer.
func writeError(what string, err error) error {
	if isAllocFailure(err) || errors.Is(err, wgpu.ErrOutOfMemory) {
		return fmt.Errorf("gpu: upload %s: %w: %w", what, ErrOutOfMemory, err)
	}
	return fmt.Errorf("gpu: upload %s: %w", what, err)
}

// heldBuffers acquires buffers from the pool for one request and gives them
// back at its end: to the pool, or released (with the pool's idle buffers,
// to free memory) after an allocation failure or when the device is lost.
type heldBuffers struct {
	e    *engine
	held []heldBuffer
}

type heldBuffer struct {
	b     *wgpu.Buffer
	usage wgpu.BufferUsage
}

func (h *heldBuffers) get(label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
	b, err := h.e.pool.get(h.e, label, size, usage)
	if err == nil {
		h.held = append(h.held, heldBuffer{b, usage})
	}
	return b, err
}

// finish returns the buffers; err is the request's result.
func (h *heldBuffers) finish(err error) {
	oom := errors.Is(err, ErrOutOfMemory)
	for _, b := range h.held {
		if oom || h.e.lost {
			h.e.releaseBuffer(b.b)
		} else {
			h.e.pool.put(h.e, b.b, b.usage)
		}
	}
	h.held = nil
	if oom {
		h.e.pool.drain(h.e)
	}
}
