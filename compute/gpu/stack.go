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

// stackNoneBindings is the layout of shaders/stack_none.wgsl.
var stackNoneBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // src, frame-major
	gputypes.BufferBindingTypeReadOnlyStorage, // per-frame gain, offset, weight
	gputypes.BufferBindingTypeStorage,         // dst
	gputypes.BufferBindingTypeStorage,         // kept
	gputypes.BufferBindingTypeUniform,         // params
}

// combineCode maps a Combine to the kernel's COMBINE constant.
var combineCode = map[cpu.Combine]uint32{cpu.CombineMean: 0, cpu.CombineMin: 1, cpu.CombineMax: 2}

// StackMean is StackBand with the mean combination.
func (d *Device) StackMean(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int) error {
	return d.StackBand(ctx, dst, kept, src, norm, weights, width, cpu.CombineMean)
}

// StackBand computes on the GPU what cpu.StackBand computes with Reject
// "none" and the given Combine (mean, min or max; median returns
// ErrUnsupported): per pixel, v_i = Gain_i·x_i + Offset_i over the finite x_i,
// combined; kept receives the count of finite samples (kept may be nil); a
// pixel without one is NaN with kept 0. Arguments are checked with
// cpu.CheckBand; inputs are not modified.
//
// Precision against cpu.StackBand (float64 accumulation): kept is equal;
// min and max differ by at most 1 ulp (near ties of Gain·x+Offset); the mean
// m satisfies |m_gpu − m_cpu| ≤ 2⁻²²·|m_cpu| + 2⁻³⁶·S with
// S = Σw_i·(|Gain_i·x_i| + |Offset_i|)/Σw_i: about 2 ulp, the second term
// covering cancellation (between gain·x and offset, or between samples) (measured on lavapipe: at most 1 ulp, about one pixel in five off by
// 1 ulp). Values whose normalisation overflows float32 (|Gain·x+Offset| >
// 3.4e38) are outside this contract.
//
// A band must fit the device: N·len(dst)·4 bytes at most
// min(maxBufferSize, maxStorageBufferBindingSize), else ErrTooLarge.
func (d *Device) StackBand(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, combine cpu.Combine) error {
	if err := cpu.CheckBand(dst, kept, src, norm, weights, width); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	code, ok := combineCode[combine]
	if !ok {
		if err := combine.Validate(); err != nil {
			return fmt.Errorf("gpu: %w", err)
		}
		return fmt.Errorf("gpu: combine %q: %w", combine, ErrUnsupported)
	}
	if len(dst) == 0 {
		return nil
	}
	if len(src) == 0 {
		// No frames: nothing to bind (a binding cannot be empty). Same result
		// as the kernel: no data anywhere.
		for j := range dst {
			dst[j] = float32(math.NaN())
		}
		clear(kept)
		return nil
	}
	return d.do(ctx, func(ctx context.Context, e *engine) error {
		return e.stackNone(ctx, dst, kept, src, norm, weights, code)
	})
}

// stackNone runs one band on the owner goroutine: upload, dispatch, read back.
func (e *engine) stackNone(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, combine uint32) (err error) {
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
	pipe, err := e.pipelineFor("stack_none", map[string]any{"WG": wg, "COMBINE": combine}, stackNoneBindings)
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
	srcBuf, err := get("stack src", srcBytes, in)
	if err != nil {
		return err
	}
	frmBuf, err := get("stack frames", n*16, in)
	if err != nil {
		return err
	}
	dstBuf, err := get("stack dst", outBytes, out)
	if err != nil {
		return err
	}
	keptBuf, err := get("stack kept", outBytes, out)
	if err != nil {
		return err
	}
	parBuf, err := get("stack params", 16, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	keptOff := (outBytes + 7) &^ 7 // MappedRange offsets are 8-aligned
	readBytes := keptOff + outBytes
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
	var par [16]byte
	binary.LittleEndian.PutUint32(par[0:], uint32(px))
	binary.LittleEndian.PutUint32(par[4:], uint32(n))
	binary.LittleEndian.PutUint32(par[8:], strideX)
	if err := e.q.WriteBuffer(parBuf, 0, par[:]); err != nil {
		return fmt.Errorf("gpu: upload params: %w", err)
	}

	bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{
		Label: "stack_none", Layout: pipe.bgl,
		Entries: []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: srcBuf, Size: srcBytes},
			{Binding: 1, Buffer: frmBuf, Size: n * 16},
			{Binding: 2, Buffer: dstBuf, Size: outBytes},
			{Binding: 3, Buffer: keptBuf, Size: outBytes},
			{Binding: 4, Buffer: parBuf, Size: 16},
		},
	})
	if err != nil {
		return fmt.Errorf("gpu: bind group: %w", err)
	}
	defer bg.Release()

	enc, err := e.dev.CreateCommandEncoder(nil)
	if err != nil {
		return fmt.Errorf("gpu: command encoder: %w", err)
	}
	pass, err := enc.BeginComputePass(nil)
	if err != nil {
		enc.DiscardEncoding()
		return fmt.Errorf("gpu: compute pass: %w", err)
	}
	pass.SetPipeline(pipe.cp)
	pass.SetBindGroup(0, bg, nil)
	pass.Dispatch(gx, gy, 1)
	if err := pass.End(); err != nil {
		enc.DiscardEncoding()
		return fmt.Errorf("gpu: dispatch %d×%d: %w", gx, gy, err)
	}
	enc.CopyBufferToBuffer(dstBuf, 0, e.staging, 0, outBytes)
	enc.CopyBufferToBuffer(keptBuf, 0, e.staging, keptOff, outBytes)
	cb, err := enc.Finish()
	if err != nil {
		return fmt.Errorf("gpu: encode: %w", err)
	}
	if err := e.submit(cb); err != nil {
		return err
	}
	return e.readback(ctx, readBytes, func(b []byte) {
		copy(f32bytes(dst), b[:outBytes])
		if kept != nil {
			copy(u32bytes(kept), b[keptOff:keptOff+outBytes])
		}
	})
}

// frameParams packs per-frame (gain, offset, weight, 1.0) as the kernel's
// Frame struct; nil norm is the identity and nil weights are all 1.
func frameParams(norm []cpu.Affine, weights []float32, n int) []byte {
	b := make([]byte, 16*n)
	for i := range n {
		a, w := cpu.Identity, float32(1)
		if norm != nil {
			a = norm[i]
		}
		if weights != nil {
			w = weights[i]
		}
		binary.LittleEndian.PutUint32(b[16*i:], math.Float32bits(a.Gain))
		binary.LittleEndian.PutUint32(b[16*i+4:], math.Float32bits(a.Offset))
		binary.LittleEndian.PutUint32(b[16*i+8:], math.Float32bits(w))
		binary.LittleEndian.PutUint32(b[16*i+12:], math.Float32bits(1)) // Frame.one
	}
	return b
}
