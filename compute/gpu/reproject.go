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

// reprojectBindings is the layout of shaders/reproject.wgsl.
var reprojectBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // source rows, f32 bits
	gputypes.BufferBindingTypeReadOnlyStorage, // grid samples with ghosts, (xhi, xlo, yhi, ylo)
	gputypes.BufferBindingTypeStorage,         // output band
	gputypes.BufferBindingTypeUniform,         // params
	gputypes.BufferBindingTypeStorage,         // fault: lowest source row needed outside src
}

// reprojectInterp numbers the kernels as the shader's INTERP constant.
var reprojectInterp = map[cpu.Interp]uint32{cpu.InterpBilinear: 0, cpu.InterpBicubic: 1, cpu.InterpLanczos3: 2}

// Reproject computes on the GPU what cpu.Reproject computes: rows [y0,
// y0+rows) of an outWidth-wide output, resampled from src (srcWidth ×
// srcHeight, or with opt.SrcRow0 the window of rows [opt.SrcRow0,
// opt.SrcRow0 + len(src)/srcWidth) of it, as cpu.ReprojectOptions says) at
// grid.At of each output pixel with opt.Interp (opt.Workers is ignored).
// Arguments are checked as cpu.Reproject checks them (errors wrap
// cpu.ErrShape or cpu.ErrInvalidOptions). Coordinates, footprint and edge
// clamping are those of the whole image; only the row index into the
// uploaded rows is offset (shaders/reproject.wgsl), so a window gives the
// whole image's result bit for bit.
//
// Only the source rows the band can touch are uploaded: the rows between the
// smallest and largest finite Y sample of the grid rows that At reads for the
// band (ghosts included), widened by half their range (Keys' 2-D weights
// overshoot by less than 0.3 of it) and by the kernel's 3 rows, and cut to
// the rows src holds. The shader records the lowest row a pixel needed
// beyond the uploaded ones: should the estimate have been short, the band is
// computed again from every row of src; a row outside src is an error
// wrapping cpu.ErrShape, as on the CPU (the GPU's float32 coordinates can
// reach a neighbouring row where the CPU's do not, within CoordTolerance, so
// windows need a row of margin beyond what the CPU needs). A band needing
// more than one storage binding returns ErrTooLarge; plan smaller bands.
//
// Precision. Coordinates are float32 (float64 on the CPU) but evaluated
// relative to each cell's base sample (see shaders/reproject.wgsl), so their
// error is ~1e-7 × the samples' spread (Step × scale) plus the base's
// rounding to hi+lo, about 1e-5 px for Step 16: the tests bound it by
// CoordTolerance. Fractions within 2^-16 px of an integer are snapped to it,
// so integer positions (an identity grid) copy the input bit for bit as on the
// CPU. Values then agree within
//
//	|Δ| ≤ 1.5·G·CoordTolerance + 1e-5·M
//
// where G is the largest gradient of the source in px⁻¹ along the kernel's
// support and M its largest |value| there: f32 weights (with Newton-refined
// reciprocals and a polynomial sin for Lanczos, ~1e-7 relative) and an f32
// sum of at most 36 taps whose weights sum in absolute value to < 1.3 give
// ~36·2^-24·1.3·M ≈ 3e-6·M. NaN decisions (footprint, or a NaN tap entering
// the support) can differ only where the CPU coordinate lies within
// CoordTolerance of an integer or of the footprint edge, where the tap set
// changes; an Inf grid sample or a sample beyond ±2^24 px gives NaN.
func (d *Device) Reproject(ctx context.Context, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight int, grid *cpu.CoordGrid, opt cpu.ReprojectOptions) error {
	if err := cpu.CheckReproject(dst, outWidth, y0, rows, src, srcWidth, srcHeight, grid, opt); err != nil {
		return fmt.Errorf("gpu: %w", err)
	}
	if rows == 0 {
		return nil
	}
	w0, w1 := opt.SrcRow0, opt.SrcRow0+len(src)/srcWidth // the rows src holds
	if uint64(outWidth)*uint64(rows) >= math.MaxUint32 || srcWidth >= 1<<24 || srcHeight >= 1<<24 ||
		uint64(y0+rows) >= math.MaxUint32 || grid.Step >= 1<<24 {
		return fmt.Errorf("gpu: reproject of %d×%d output rows from %d×%d: %w", outWidth, rows, srcWidth, srcHeight, ErrTooLarge)
	}
	ext := extendGrid(grid)
	r0, r1 := reprojectRows(grid, ext, y0, rows, srcHeight)
	r0 = min(max(r0, w0), w1-1)
	r1 = max(min(r1, w1), r0+1)
	return d.do(ctx, func(ctx context.Context, e *engine) error {
		run := func(r0, r1 int) (int, error) {
			bs := bufSet{e: e}
			fault, err := e.reproject(ctx, &bs, dst, outWidth, y0, rows, src[(r0-w0)*srcWidth:(r1-w0)*srcWidth], srcWidth, srcHeight, r0, grid, ext, opt.Interp)
			bs.done(err)
			return fault, err
		}
		return uploadRetry(run, r0, r1, w0, w1, srcHeight)
	})
}

// uploadRetry runs the kernel with source rows [r0, r1) uploaded, and again with every row the
// caller gave, [w0, w1), should a pixel have needed a row beyond the first upload; a row
// outside [w0, w1) is the caller's error. run returns the lowest row missed, or −1.
func uploadRetry(run func(r0, r1 int) (int, error), r0, r1, w0, w1, srcHeight int) error {
	fault, err := run(r0, r1)
	if err == nil && fault >= 0 && (r0 > w0 || r1 < w1) {
		fault, err = run(w0, w1) // the estimate was short
	}
	if err == nil && fault >= 0 {
		return fmt.Errorf("gpu: %w: a pixel needs source row %d, outside the rows [%d, %d) given of %d",
			cpu.ErrShape, fault, w0, w1, srcHeight)
	}
	return err
}

// CoordTolerance is the coordinate error, in input pixels, that the tests
// allow between Device.Reproject's float32 At and the CPU's float64 At.
const CoordTolerance = 1e-4

// extGrid is a CoordGrid with its ghost samples: (NX+2)·(NY+2) samples,
// sample (i, j), i ∈ [−1, NX], at index (j+1)·(NX+2) + i+1.
type extGrid struct {
	nx, ny int
	x, y   []float64
}

func (g *extGrid) at(a []float64, i, j int) float64 { return a[(j+1)*(g.nx+2)+i+1] }

// extendGrid computes the ghosts exactly as CoordGrid.At does (Keys'
// boundary extrapolation, rows first), in float64.
func extendGrid(g *cpu.CoordGrid) *extGrid {
	e := &extGrid{nx: g.NX, ny: g.NY, x: make([]float64, (g.NX+2)*(g.NY+2)), y: make([]float64, (g.NX+2)*(g.NY+2))}
	for j := -1; j <= g.NY; j++ {
		for i := -1; i <= g.NX; i++ {
			k := (j+1)*(g.NX+2) + i + 1
			e.x[k], e.y[k] = ghostSample(g, g.X, i, j), ghostSample(g, g.Y, i, j)
		}
	}
	return e
}

// ghostSample is cpu.CoordGrid's sample: sample (i, j) of a, i ∈ [−1, NX],
// j ∈ [−1, NY], extrapolated outside the grid.
func ghostSample(g *cpu.CoordGrid, a []float64, i, j int) float64 {
	switch {
	case j < 0:
		return ghost(ghostSample(g, a, i, 0), ghostSample(g, a, i, 1), ghostSample(g, a, i, min(2, g.NY-1)), g.NY)
	case j >= g.NY:
		return ghost(ghostSample(g, a, i, g.NY-1), ghostSample(g, a, i, g.NY-2), ghostSample(g, a, i, max(g.NY-3, 0)), g.NY)
	case i < 0:
		return ghost(a[j*g.NX], a[j*g.NX+1], a[j*g.NX+min(2, g.NX-1)], g.NX)
	case i >= g.NX:
		return ghost(a[j*g.NX+g.NX-1], a[j*g.NX+g.NX-2], a[j*g.NX+max(g.NX-3, 0)], g.NX)
	}
	return a[j*g.NX+i]
}

// ghost is cpu's extrapolate.
func ghost(f0, f1, f2 float64, n int) float64 {
	if n >= 3 {
		return float64(3*f0) - float64(3*f1) + f2
	}
	return float64(2*f0) - f1
}

// reprojectRows returns the source rows [r0, r1) the band can read (see
// Device.Reproject); at least one row.
func reprojectRows(g *cpu.CoordGrid, e *extGrid, y0, rows, srcHeight int) (r0, r1 int) {
	ja := min(y0/g.Step, g.NY-2) - 1
	jb := min((y0+rows-1)/g.Step, g.NY-2) + 2
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := ja; j <= jb; j++ {
		for i := -1; i <= g.NX; i++ {
			if v := e.at(e.y, i, j); !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo > hi { // no finite sample: every pixel is NaN
		return 0, 1
	}
	m := 0.5 * (hi - lo)
	a, b := math.Floor(lo-m)-3, math.Ceil(hi+m)+3
	if math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(m) {
		return 0, srcHeight
	}
	r0 = int(max(min(a, float64(srcHeight-1)), 0))
	r1 = int(max(min(b, float64(srcHeight-1)), 0)) + 1
	return r0, max(r1, r0+1)
}

// reproject runs the kernel on the owner goroutine. src holds source rows
// [r0, r0+len(src)/srcWidth). It returns the lowest source row that a pixel
// needed outside them (those pixels are NaN), or −1.
func (e *engine) reproject(ctx context.Context, bs *bufSet, dst []float32, outWidth, y0, rows int, src []float32, srcWidth, srcHeight, r0 int, g *cpu.CoordGrid, ext *extGrid, interp cpu.Interp) (fault int, err error) {
	if err := e.usable(); err != nil {
		return -1, err
	}
	srcBytes := 4 * uint64(len(src))
	gridBytes := 16 * uint64(len(ext.x))
	outBytes := 4 * uint64(len(dst))
	bindMax := min(e.lim.MaxBufferSize, e.lim.MaxStorageBufferBindingSize)
	if srcBytes > bindMax || gridBytes > bindMax || outBytes > bindMax {
		return -1, fmt.Errorf("gpu: reproject needs %d source, %d grid and %d output bytes, binding limit %d: %w",
			srcBytes, gridBytes, outBytes, bindMax, ErrTooLarge)
	}
	const faultBytes = 4
	wg := e.workgroupSize()
	gx, gy, strideX, err := e.grid(uint32(len(dst)), wg)
	if err != nil {
		return -1, err
	}
	pipe, err := e.pipelineFor("reproject", map[string]any{"WG": wg, "INTERP": reprojectInterp[interp]}, reprojectBindings)
	if err != nil {
		return -1, err
	}
	const in = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst
	srcBuf, err := bs.get("reproject src", srcBytes, in)
	if err != nil {
		return -1, err
	}
	gridBuf, err := bs.get("reproject grid", gridBytes, in)
	if err != nil {
		return -1, err
	}
	dstBuf, err := bs.get("reproject dst", outBytes, wgpu.BufferUsageStorage|wgpu.BufferUsageCopySrc)
	if err != nil {
		return -1, err
	}
	parBuf, err := bs.get("reproject params", 48, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return -1, err
	}
	faultBuf, err := bs.get("reproject fault", faultBytes, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst|wgpu.BufferUsageCopySrc)
	if err != nil {
		return -1, err
	}
	if err := e.ensureStaging(outBytes + faultBytes); err != nil {
		return -1, err
	}
	if err := e.q.WriteBuffer(srcBuf, 0, f32bytes(src)); err != nil {
		return -1, fmt.Errorf("gpu: upload source: %w", err)
	}
	if err := e.q.WriteBuffer(gridBuf, 0, f32bytes(gridHiLo(ext))); err != nil {
		return -1, fmt.Errorf("gpu: upload grid: %w", err)
	}
	// No fault yet: the shader's atomicMin starts from the largest row.
	if err := e.q.WriteBuffer(faultBuf, 0, []byte{0xff, 0xff, 0xff, 0xff}); err != nil {
		return -1, fmt.Errorf("gpu: upload fault flag: %w", err)
	}
	var par [48]byte
	for i, v := range []uint32{
		uint32(outWidth), uint32(rows), uint32(y0), strideX, uint32(g.NX), uint32(g.NY), uint32(g.Step),
		math.Float32bits(float32(1 / float64(g.Step))), uint32(srcWidth), uint32(srcHeight), uint32(r0), uint32(len(src) / srcWidth),
	} {
		binary.LittleEndian.PutUint32(par[4*i:], v)
	}
	if err := e.q.WriteBuffer(parBuf, 0, par[:]); err != nil {
		return -1, fmt.Errorf("gpu: upload params: %w", err)
	}
	bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{
		Label: "reproject", Layout: pipe.bgl,
		Entries: []wgpu.BindGroupEntry{
			{Binding: 0, Buffer: srcBuf, Size: srcBytes},
			{Binding: 1, Buffer: gridBuf, Size: gridBytes},
			{Binding: 2, Buffer: dstBuf, Size: outBytes},
			{Binding: 3, Buffer: parBuf, Size: 48},
			{Binding: 4, Buffer: faultBuf, Size: faultBytes},
		},
	})
	if err != nil {
		return -1, fmt.Errorf("gpu: bind group: %w", err)
	}
	defer bg.Release()
	enc, err := e.dev.CreateCommandEncoder(nil)
	if err != nil {
		return -1, fmt.Errorf("gpu: command encoder: %w", err)
	}
	cp, err := enc.BeginComputePass(nil)
	if err != nil {
		enc.DiscardEncoding()
		return -1, fmt.Errorf("gpu: compute pass: %w", err)
	}
	cp.SetPipeline(pipe.cp)
	cp.SetBindGroup(0, bg, nil)
	cp.Dispatch(gx, gy, 1)
	if err := cp.End(); err != nil {
		enc.DiscardEncoding()
		return -1, fmt.Errorf("gpu: reproject dispatch %d×%d: %w", gx, gy, err)
	}
	enc.CopyBufferToBuffer(dstBuf, 0, e.staging, 0, outBytes)
	enc.CopyBufferToBuffer(faultBuf, 0, e.staging, outBytes, faultBytes)
	cb, err := enc.Finish()
	if err != nil {
		return -1, fmt.Errorf("gpu: encode: %w", err)
	}
	if err := e.submit(cb); err != nil {
		return -1, err
	}
	var row uint32
	err = e.readback(ctx, outBytes+faultBytes, func(b []byte) {
		copy(f32bytes(dst), b[:outBytes])
		row = binary.LittleEndian.Uint32(b[outBytes:])
	})
	if err != nil || row == math.MaxUint32 {
		return -1, err
	}
	return int(row), nil
}

// gridHiLo packs the extended grid as (xhi, xlo, yhi, ylo) float32 quads,
// hi + lo within 2^-48 relative of the float64 sample.
func gridHiLo(e *extGrid) []float32 {
	out := make([]float32, 4*len(e.x))
	for k := range e.x {
		xh, yh := float32(e.x[k]), float32(e.y[k])
		out[4*k], out[4*k+1] = xh, float32(e.x[k]-float64(xh))
		out[4*k+2], out[4*k+3] = yh, float32(e.y[k]-float64(yh))
	}
	return out
}
