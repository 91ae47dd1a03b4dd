package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// debayerBindings is the layout of shaders/debayer.wgsl.
var debayerBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // source rows, f32 bits
	gputypes.BufferBindingTypeStorage,         // output band, f32 bits
	gputypes.BufferBindingTypeUniform,         // params
}

// Debayer computes on the GPU what cpu.Debayer computes, bit for bit: the
// bilinear demosaic of the W×H sensor image src (pattern p) into the three
// CHW planes of dst. Arguments are checked as cpu.Debayer checks them (errors
// wrap cpu.ErrShape or cpu.ErrInvalidOptions).
//
// The image runs in bands of rows sized so that the band's output (3 planes)
// fits one storage binding; each band uploads its rows plus 2 rows of halo.
// The result does not depend on the banding: every pixel reads the same
// source pixels and runs the same operations (see shaders/debayer.wgsl).
func (d *Device) Debayer(ctx context.Context, dst, src []float32, width, height int, p cpu.BayerPattern) error {
	if p < cpu.BayerRGGB || p > cpu.BayerGBRG {
		return fmt.Errorf("gpu: %w: debayer: invalid %v", cpu.ErrInvalidOptions, p)
	}
	if width <= 0 || height <= 0 || len(src) != width*height || len(dst) != 3*width*height {
		return fmt.Errorf("gpu: %w: debayer: %d×%d needs %d source and %d output samples, got %d and %d",
			cpu.ErrShape, width, height, width*height, 3*width*height, len(src), len(dst))
	}
	if width >= 1<<24 || height >= 1<<24 {
		return fmt.Errorf("gpu: debayer of %d×%d: %w", width, height, ErrTooLarge)
	}
	var cells uint32
	for k := range 4 {
		cells |= uint32(p.ColourAt(k&1, k>>1)) << (2 * k)
	}
	job := stencilJob{
		name: "debayer", bindings: debayerBindings, halo: 2, planes: 3,
		params: []uint32{cells},
	}
	return d.do(ctx, func(ctx context.Context, e *engine) error {
		bs := bufSet{e: e}
		err := e.stencil(ctx, &bs, job, dst, src, width, height)
		bs.done(err)
		return err
	})
}

// stencilJob describes a kernel that reads a neighbourhood of rows of one
// W×H plane and writes planes output planes for each pixel: debayer and
// hotpixel. The kernel's params start with width, height, y0, rows, r0 and
// stride_x (u32), followed by params (at most 6 words); its bindings are
// source rows, output band, params, then aux when aux is not nil.
type stencilJob struct {
	name     string
	bindings []gputypes.BufferBindingType
	halo     int // rows read above and below an output row
	planes   int // output planes
	params   []uint32
	aux      []float32
}

// stencilParamBytes is the size of every stencil kernel's Params struct.
const stencilParamBytes = 48

// stencil runs job over the whole image in bands of rows, on the owner
// goroutine, writing plane c of the output to dst[c·W·H:].
func (e *engine) stencil(ctx context.Context, bs *bufSet, job stencilJob, dst, src []float32, width, height int) error {
	if err := e.usable(); err != nil {
		return err
	}
	rowBytes := 4 * uint64(width)
	chunk := e.chunkBytes()
	rows := int(min(chunk/(rowBytes*uint64(job.planes)), uint64(height)))
	if srcRows := int(chunk/rowBytes) - 2*job.halo; srcRows < rows {
		rows = srcRows
	}
	if rows < 1 {
		return fmt.Errorf("gpu: %s of %d-pixel rows needs more than the %d-byte binding limit: %w", job.name, width, chunk, ErrTooLarge)
	}
	wg := e.workgroupSize()
	pipe, err := e.pipelineFor(job.name, map[string]any{"WG": wg}, job.bindings)
	if err != nil {
		return err
	}
	const in = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst
	srcRowsMax := min(rows+2*job.halo, height)
	srcBuf, err := bs.get(job.name+" src", rowBytes*uint64(srcRowsMax), in)
	if err != nil {
		return err
	}
	outMax := rowBytes * uint64(rows) * uint64(job.planes)
	dstBuf, err := bs.get(job.name+" dst", outMax, wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc)
	if err != nil {
		return err
	}
	parBuf, err := bs.get(job.name+" params", stencilParamBytes, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	var auxBuf *wgpu.Buffer
	if job.aux != nil {
		if auxBuf, err = bs.get(job.name+" aux", 4*uint64(len(job.aux)), in); err != nil {
			return err
		}
		if err := e.q.WriteBuffer(auxBuf, 0, f32bytes(job.aux)); err != nil {
			return fmt.Errorf("gpu: upload %s table: %w", job.name, err)
		}
	}
	if err := e.ensureStaging(outMax); err != nil {
		return err
	}
	plane := width * height
	for y0 := 0; y0 < height; y0 += rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(rows, height-y0)
		r0, r1 := max(y0-job.halo, 0), min(y0+n+job.halo, height)
		if err := e.q.WriteBuffer(srcBuf, 0, f32bytes(src[r0*width:r1*width])); err != nil {
			return fmt.Errorf("gpu: upload %s rows: %w", job.name, err)
		}
		px := n * width
		gx, gy, strideX, err := e.grid(uint32(px), wg)
		if err != nil {
			return err
		}
		var par [stencilParamBytes]byte
		for i, v := range append([]uint32{uint32(width), uint32(height), uint32(y0), uint32(n), uint32(r0), strideX}, job.params...) {
			binary.LittleEndian.PutUint32(par[4*i:], v)
		}
		if err := e.q.WriteBuffer(parBuf, 0, par[:]); err != nil {
			return fmt.Errorf("gpu: upload params: %w", err)
		}
		outBytes := 4 * uint64(px) * uint64(job.planes)
		entries := []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: srcBuf, Size: rowBytes * uint64(r1-r0)},
			{Binding: 1, Buffer: dstBuf, Size: outBytes},
			{Binding: 2, Buffer: parBuf, Size: stencilParamBytes},
		}
		if auxBuf != nil {
			entries = append(entries, wgpu.BindGroupEntry{Binding: 3, Buffer: auxBuf, Size: 4 * uint64(len(job.aux))})
		}
		bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: job.name, Layout: pipe.bgl, Entries: entries})
		if err != nil {
			return fmt.Errorf("gpu: bind group: %w", err)
		}
		enc, err := e.encodeDispatch(pipe, bg, gx, gy)
		if err != nil {
			bg.Release()
			return err
		}
		enc.CopyBufferToBuffer(dstBuf, 0, e.staging, 0, outBytes)
		cb, err := enc.Finish()
		if err != nil {
			bg.Release()
			return fmt.Errorf("gpu: encode: %w", err)
		}
		err = e.submit(cb)
		if err == nil {
			err = e.readback(ctx, outBytes, func(b []byte) {
				for c := range job.planes {
					copy(f32bytes(dst[c*plane+y0*width:][:px]), b[4*c*px:4*(c+1)*px])
				}
			})
		}
		bg.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// floatWord returns the bits of x as a params word.
func floatWord(x float32) uint32 { return math.Float32bits(x) }
