package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/cpu"
)

// stretchBindings is the layout of shaders/stretch.wgsl.
var stretchBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // float bits, channel planes
	gputypes.BufferBindingTypeReadOnlyStorage, // thresholds
	gputypes.BufferBindingTypeStorage,         // RGBA
	gputypes.BufferBindingTypeUniform,         // params
}

// StretchNRGBA computes on the GPU what cpu.StretchNRGBA computes, byte for
// byte: the 8-bit asinh preview of the CHW float image pix (channels 1 or 3),
// each channel stretched between its opt.PLow and opt.PHigh percentiles,
// alpha 0 where any channel is NaN or ±Inf. pix is not modified.
//
// The limits come from the GPU's exact percentiles (Percentiles). The
// per-pixel mapping is not recomputed in float32: since cpu.StretchChannel's
// level is a non-decreasing function of the sample, the 255 smallest samples
// reaching each level are found on the CPU by bisection over float32 values,
// calling cpu.StretchChannel itself (about 8 000 calls), and the kernel only
// counts the thresholds at or below each sample. The output is therefore
// identical to the CPU's, not merely close, as long as cpu.StretchChannel is
// monotone in x (its float64 steps are; math.Asinh is monotone in practice,
// and the tests compare every pixel).
//
// Invalid options, channels other than 1 or 3, a dimension ≤ 0 or
// len(pix) != width·height·channels are errors (cpu.StretchNRGBA returns nil
// for them). When the image fits one device buffer it is uploaded once for
// both the percentiles and the mapping; otherwise it is streamed in chunks.
// wgpu's software interpreter: ErrUnsupported.
func (d *Device) StretchNRGBA(ctx context.Context, pix []float32, width, height, channels int, opt cpu.StretchOptions) (*image.NRGBA, error) {
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("gpu: stretch needs 1 or 3 channels, got %d", channels)
	}
	if width <= 0 || height <= 0 || len(pix) != width*height*channels {
		return nil, fmt.Errorf("gpu: stretch of %d×%d×%d needs that many samples, got %d", width, height, channels, len(pix))
	}
	plane := width * height
	if uint64(plane) >= math.MaxUint32 {
		return nil, fmt.Errorf("gpu: stretch of %d pixels per channel: %w", plane, ErrTooLarge)
	}
	planes := make([][]float32, channels)
	for c := range planes {
		planes[c] = pix[c*plane : (c+1)*plane]
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	err := d.do(ctx, func(ctx context.Context, e *engine) error {
		bs := bufSet{e: e}
		err := e.stretch(ctx, &bs, img.Pix, planes, opt)
		bs.done(err)
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// stretch fills out (4 bytes per pixel) from planes on the owner goroutine.
func (e *engine) stretch(ctx context.Context, bs *bufSet, out []uint8, planes [][]float32, opt cpu.StretchOptions) error {
	ps := []float64{opt.PLow, opt.PHigh}
	sel, res, err := e.selectRanks(ctx, bs, planes, func(_, n int) []int { return percentileRanks(n, ps) })
	if err != nil {
		return err
	}
	thr := make([]uint32, 256*len(planes))
	for c := range planes {
		lim := interpolate(sel[c], ps)
		stretchThresholds(thr[256*c:256*(c+1)], lim[0], lim[1], opt.Asinh)
	}
	wg := e.workgroupSize()
	ch := len(planes)
	pipe, err := e.pipelineFor("stretch", map[string]any{"WG": wg, "CHANNELS": ch}, stretchBindings)
	if err != nil {
		return err
	}
	thrBuf, err := bs.get("stretch thresholds", uint64(len(thr))*4, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	if err := e.q.WriteBuffer(thrBuf, 0, u32bytes(thr)); err != nil {
		return fmt.Errorf("gpu: upload thresholds: %w", err)
	}
	parBuf, err := bs.get("stretch params", 16, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	n := len(planes[0])
	// Pixels per chunk: every channel of a chunk in one buffer, 64-aligned.
	step := max(int((e.chunkBytes()/4/uint64(ch))&^63), 64)
	if res != nil {
		step = n // already on the device, at res.off
	}
	var src *wgpu.Buffer
	if res != nil {
		src = res.buf
	} else if src, err = bs.get("stretch data", 4*uint64(step*ch), wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst); err != nil {
		return err
	}
	dstBuf, err := bs.get("stretch rgba", 4*uint64(min(step, n)), wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc)
	if err != nil {
		return err
	}
	if err := e.ensureStaging(4 * uint64(min(step, n))); err != nil {
		return err
	}
	for a := 0; a < n; a += step {
		m := min(step, n-a)
		off := make([]uint64, ch)
		base := uint64(0)
		if res != nil {
			base = res.off[0]
			for c := range ch {
				off[c] = res.off[c] - base
			}
		} else {
			for c := range ch {
				off[c] = uint64(c) * uint64(step)
				if err := e.q.WriteBuffer(src, 4*off[c], f32bytes(planes[c][a:a+m])); err != nil {
					return fmt.Errorf("gpu: upload samples: %w", err)
				}
			}
		}
		if err := e.stretchChunk(ctx, pipe, src, base, thrBuf, parBuf, dstBuf, off, m, ch, wg, out[4*a:4*(a+m)]); err != nil {
			return err
		}
	}
	return nil
}

// stretchChunk maps m pixels whose channel c starts at element base+off[c]
// of src, and reads the RGBA result into out.
func (e *engine) stretchChunk(ctx context.Context, pipe *pipeline, src *wgpu.Buffer, base uint64, thrBuf, parBuf, dstBuf *wgpu.Buffer, off []uint64, m, ch int, wg uint32, out []uint8) error {
	gx, gy, strideX, err := e.grid(uint32(m), wg)
	if err != nil {
		return err
	}
	var par [16]byte
	binary.LittleEndian.PutUint32(par[0:], uint32(m))
	binary.LittleEndian.PutUint32(par[4:], strideX)
	if ch == 3 {
		binary.LittleEndian.PutUint32(par[8:], uint32(off[1]))
		binary.LittleEndian.PutUint32(par[12:], uint32(off[2]))
	}
	if err := e.q.WriteBuffer(parBuf, 0, par[:]); err != nil {
		return fmt.Errorf("gpu: upload params: %w", err)
	}
	srcLen := off[ch-1] + uint64(m)
	bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{
		Label: "stretch", Layout: pipe.bgl,
		Entries: []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: src, Offset: 4 * base, Size: 4 * srcLen},
			{Binding: 1, Buffer: thrBuf, Size: 4 * 256 * uint64(ch)},
			{Binding: 2, Buffer: dstBuf, Size: 4 * uint64(m)},
			{Binding: 3, Buffer: parBuf, Size: 16},
		},
	})
	if err != nil {
		return fmt.Errorf("gpu: bind group: %w", err)
	}
	defer bg.Release()
	enc, err := e.encodeDispatch(pipe, bg, gx, gy)
	if err != nil {
		return err
	}
	enc.CopyBufferToBuffer(dstBuf, 0, e.staging, 0, 4*uint64(m))
	cb, err := enc.Finish()
	if err != nil {
		return fmt.Errorf("gpu: encode: %w", err)
	}
	if err := e.submit(cb); err != nil {
		return err
	}
	return e.readback(ctx, 4*uint64(m), func(b []byte) { copy(out, b) })
}

// Keys of the largest and smallest finite float32, and a key above them all.
const (
	keyMinFinite = 0x00800000 // floatKey(bits(−MaxFloat32))
	keyMaxFinite = 0xff7fffff // floatKey(bits(+MaxFloat32))
	keyNone      = 0xffffffff // no finite sample reaches the level
)

// stretchThresholds fills thr[v−1] (v = 1…255) with the key of the smallest
// float32 whose cpu.StretchChannel level is at least v, and thr[255] with
// keyNone, by bisection over keys (32 steps per level). It relies on the
// level being non-decreasing in x; the thresholds are non-decreasing in v
// whatever the function.
func stretchThresholds(thr []uint32, vmin, vmax, a float64) {
	var in [1]float32
	var lv [1]uint8
	level := func(k uint32) uint8 {
		in[0] = keyFloat(k)
		cpu.StretchChannel(lv[:], in[:], vmin, vmax, a)
		return lv[0]
	}
	thr[255] = keyNone
	top, bottom := level(keyMaxFinite), level(keyMinFinite)
	for v := 1; v <= 255; v++ {
		switch {
		case top < uint8(v):
			thr[v-1] = keyNone
			continue
		case bottom >= uint8(v):
			thr[v-1] = 0 // every finite key
			continue
		}
		lo, hi := uint32(keyMinFinite), uint32(keyMaxFinite) // level(lo) < v <= level(hi)
		if v > 1 && thr[v-2] > lo {
			lo = thr[v-2] - 1 // level(thr[v-2]-1) < v-1 < v
		}
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if level(mid) >= uint8(v) {
				hi = mid
			} else {
				lo = mid
			}
		}
		thr[v-1] = hi
	}
}
