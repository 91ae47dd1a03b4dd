package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// Radix select layout. A "group" is up to maxSlots prefixes of one plane
// counted by one dispatch per piece of that plane; each group owns a
// groupBytes region of the histogram buffer, a 256-byte record of the
// prefix buffer, and each (piece, group) job a 256-byte uniform record
// (256 is the largest offset alignment WebGPU allows).
const (
	histPer     = 16                 // elements per invocation (PER)
	maxSlots    = 16                 // prefixes per dispatch: 16·256·4 = 16 KiB of workgroup memory, WebGPU's guaranteed minimum
	groupBytes  = maxSlots * 256 * 4 // histogram region of one group
	recordBytes = 256                // uniform and prefix record stride
	paramBytes  = 32                 // the kernel's Params struct
)

// histBindings is the layout of shaders/percentile_hist.wgsl.
var histBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // float bits
	gputypes.BufferBindingTypeReadOnlyStorage, // prefixes
	gputypes.BufferBindingTypeStorage,         // histograms
	gputypes.BufferBindingTypeUniform,         // params
}

// piece is a contiguous part of one plane, placed at element offset off of
// its batch's buffer.
type piece struct {
	plane int
	data  []float32
	batch int
	off   uint64
}

// resident is the input left on the device when every plane fitted one
// buffer: plane p starts at element off[p] of buf.
type resident struct {
	buf *wgpu.Buffer
	off []uint64
}

// target is one rank being selected: the key bits found so far and the rank
// among the keys that share them.
type target struct {
	rank   int
	prefix uint32
	resid  uint64
}

// selectGroup is up to maxSlots distinct prefixes of one plane.
type selectGroup struct {
	plane    int
	prefixes []uint32
}

// selectRanks finds, for every plane, its count n of finite samples and the
// exact values of the ranks ranksFor(plane, n) (0-based, each < n). Planes
// are packed into batches of at most chunkBytes; with one batch the data is
// uploaded once and returned as resident (its buffer held by bs), otherwise
// every pass streams every batch again and resident is nil.
func (e *engine) selectRanks(ctx context.Context, bs *bufSet, planes [][]float32, ranksFor func(plane, n int) []int) ([]planeSelection, *resident, error) {
	if err := e.usable(); err != nil {
		return nil, nil, err
	}
	if err := needsAtomics(e.info); err != nil {
		return nil, nil, err
	}
	capElems := e.chunkBytes() / 4
	var pieces []piece
	var batches [][]int // piece indices
	var batchElems []uint64
	for p, x := range planes {
		for a := 0; a < len(x); a += int(capElems) {
			part := x[a:min(a+int(capElems), len(x))]
			size := align64(uint64(len(part)))
			if len(batches) == 0 || batchElems[len(batches)-1]+size > capElems {
				batches = append(batches, nil)
				batchElems = append(batchElems, 0)
			}
			b := len(batches) - 1
			pieces = append(pieces, piece{plane: p, data: part, batch: b, off: batchElems[b]})
			batches[b] = append(batches[b], len(pieces)-1)
			batchElems[b] += size
		}
	}
	sel := make([]planeSelection, len(planes))
	if len(pieces) == 0 {
		return sel, nil, nil
	}
	const in = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst
	dataBuf, err := bs.get("percentile data", 4*slices.Max(batchElems), in)
	if err != nil {
		return nil, nil, err
	}
	targets := make([][]target, len(planes))
	wg := e.workgroupSize()
	for pass := range 4 {
		shift := uint32(24 - 8*pass)
		var groups []selectGroup
		for p, x := range planes {
			if len(x) == 0 {
				continue
			}
			pre := []uint32{0}
			if pass > 0 {
				pre = pre[:0]
				for _, t := range targets[p] {
					pre = append(pre, t.prefix)
				}
				slices.Sort(pre)
				pre = slices.Compact(pre)
			}
			for len(pre) > 0 {
				k := min(len(pre), maxSlots)
				groups = append(groups, selectGroup{plane: p, prefixes: pre[:k]})
				pre = pre[k:]
			}
		}
		if len(groups) == 0 {
			break
		}
		hist, err := e.histogramPass(ctx, bs, dataBuf, pieces, batches, groups, shift, wg, pass == 0 || len(batches) > 1)
		if err != nil {
			return nil, nil, err
		}
		// Per plane, the 256 counts of each prefix.
		counts := make([]map[uint32][]uint32, len(planes))
		for gi, g := range groups {
			if counts[g.plane] == nil {
				counts[g.plane] = map[uint32][]uint32{}
			}
			for s, pre := range g.prefixes {
				o := gi*maxSlots*256 + s*256
				counts[g.plane][pre] = hist[o : o+256]
			}
		}
		for p := range planes {
			if counts[p] == nil {
				continue
			}
			if pass == 0 {
				n := 0
				for _, c := range counts[p][0] {
					n += int(c)
				}
				sel[p].n = n
				for _, r := range ranksFor(p, n) {
					if r < 0 || r >= n {
						return nil, nil, fmt.Errorf("gpu: radix select: rank %d of %d samples", r, n)
					}
					targets[p] = append(targets[p], target{rank: r, resid: uint64(r)})
				}
			}
			for i := range targets[p] {
				t := &targets[p][i]
				if !t.descend(counts[p][t.prefix], shift) {
					// The counts contradict the previous pass: the device
					// returned inconsistent histograms.
					return nil, nil, fmt.Errorf("gpu: radix select pass %d: rank %d not found under prefix %#08x: %w", pass, t.rank, t.prefix, ErrDeviceLost)
				}
			}
		}
	}
	for p := range planes {
		sel[p].values = make(map[int]float32, len(targets[p]))
		for _, t := range targets[p] {
			sel[p].values[t.rank] = keyFloat(t.prefix)
		}
	}
	if len(batches) > 1 {
		return sel, nil, nil
	}
	res := &resident{buf: dataBuf, off: make([]uint64, len(planes))}
	for _, pc := range pieces {
		res.off[pc.plane] = pc.off
	}
	return sel, res, nil
}

// descend picks the bin of h (the 256 counts under t.prefix) that holds
// rank t.resid and moves t into it. It fails when h holds fewer keys.
func (t *target) descend(h []uint32, shift uint32) bool {
	cum := uint64(0)
	for d, c := range h {
		if t.resid < cum+uint64(c) {
			t.prefix |= uint32(d) << shift
			t.resid -= cum
			return true
		}
		cum += uint64(c)
	}
	return false
}

// histogramPass counts, for every group, the keys of its plane under each
// prefix by digit (key >> shift) & 255, and returns the histograms (group gi
// at gi·maxSlots·256, slot s 256 further per slot). upload writes the
// batches before their dispatches; without it the single batch is already on
// the device.
func (e *engine) histogramPass(ctx context.Context, bs *bufSet, dataBuf *wgpu.Buffer, pieces []piece, batches [][]int, groups []selectGroup, shift, wg uint32, upload bool) ([]uint32, error) {
	slots := 1
	for _, g := range groups {
		slots = max(slots, len(g.prefixes))
	}
	switch {
	case slots > 4:
		slots = 16
	case slots > 1:
		slots = 4
	}
	pipe, err := e.pipelineFor("percentile_hist", map[string]any{"WG": wg, "PER": histPer, "BINS": slots * 256}, histBindings)
	if err != nil {
		return nil, err
	}
	byPlane := map[int][]int{} // plane → group indices
	for gi, g := range groups {
		byPlane[g.plane] = append(byPlane[g.plane], gi)
	}
	jobs := 0
	for _, pc := range pieces {
		jobs += len(byPlane[pc.plane])
	}
	ng := uint64(len(groups))
	parBuf, err := bs.get("percentile params", uint64(max(jobs, 1))*recordBytes, wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
	if err != nil {
		return nil, err
	}
	preBuf, err := bs.get("percentile prefixes", ng*recordBytes, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst)
	if err != nil {
		return nil, err
	}
	histBytes := ng * groupBytes
	histBuf, err := bs.get("percentile histograms", histBytes, wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst|wgpu.BufferUsageCopySrc)
	if err != nil {
		return nil, err
	}
	if err := e.ensureStaging(histBytes); err != nil {
		return nil, err
	}

	pre := make([]byte, ng*recordBytes)
	for gi, g := range groups {
		for s, p := range g.prefixes {
			binary.LittleEndian.PutUint32(pre[gi*recordBytes+4*s:], p)
		}
	}
	if err := e.q.WriteBuffer(preBuf, 0, pre); err != nil {
		return nil, fmt.Errorf("gpu: upload prefixes: %w", err)
	}
	// Histograms start at zero each pass (a write, not ClearBuffer: wgpu
	// v0.31.5 records no usage barrier for ClearBuffer).
	if err := e.q.WriteBuffer(histBuf, 0, make([]byte, histBytes)); err != nil {
		return nil, fmt.Errorf("gpu: clear histograms: %w", err)
	}
	mask := ^uint32(0) << (shift + 8) // 0 for the top digit
	par := make([]byte, uint64(max(jobs, 1))*recordBytes)
	type job struct {
		pc, gi     int
		gx, gy     uint32
		paramsByte uint64
	}
	var all [][]job // per batch
	j := 0
	for _, idx := range batches {
		var bj []job
		for _, pi := range idx {
			pc := pieces[pi]
			n := uint32(len(pc.data))
			gx, gy, strideX, err := e.grid((n+histPer-1)/histPer, wg)
			if err != nil {
				return nil, err
			}
			for _, gi := range byPlane[pc.plane] {
				r := par[j*recordBytes:]
				binary.LittleEndian.PutUint32(r[0:], n)
				binary.LittleEndian.PutUint32(r[4:], strideX)
				binary.LittleEndian.PutUint32(r[8:], shift)
				binary.LittleEndian.PutUint32(r[12:], mask)
				binary.LittleEndian.PutUint32(r[16:], uint32(len(groups[gi].prefixes)))
				bj = append(bj, job{pc: pi, gi: gi, gx: gx, gy: gy, paramsByte: uint64(j) * recordBytes})
				j++
			}
		}
		all = append(all, bj)
	}
	if err := e.q.WriteBuffer(parBuf, 0, par); err != nil {
		return nil, fmt.Errorf("gpu: upload params: %w", err)
	}

	var bgs []*wgpu.BindGroup
	defer func() {
		for _, bg := range bgs {
			bg.Release()
		}
	}()
	for bi, idx := range batches {
		if upload {
			for _, pi := range idx {
				pc := pieces[pi]
				if err := e.q.WriteBuffer(dataBuf, 4*pc.off, f32bytes(pc.data)); err != nil {
					return nil, fmt.Errorf("gpu: upload samples: %w", err)
				}
			}
		}
		enc, err := e.dev.CreateCommandEncoder(nil)
		if err != nil {
			return nil, fmt.Errorf("gpu: command encoder: %w", err)
		}
		cp, err := enc.BeginComputePass(nil)
		if err != nil {
			enc.DiscardEncoding()
			return nil, fmt.Errorf("gpu: compute pass: %w", err)
		}
		cp.SetPipeline(pipe.cp)
		for _, jb := range all[bi] {
			pc := pieces[jb.pc]
			bg, err := e.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{
				Label: "percentile_hist", Layout: pipe.bgl,
				Entries: []wgpu.BindGroupEntry{
					{Binding: 0, Buffer: dataBuf, Offset: 4 * pc.off, Size: 4 * uint64(len(pc.data))},
					{Binding: 1, Buffer: preBuf, Offset: uint64(jb.gi) * recordBytes, Size: 4 * maxSlots},
					{Binding: 2, Buffer: histBuf, Offset: uint64(jb.gi) * groupBytes, Size: groupBytes},
					{Binding: 3, Buffer: parBuf, Offset: jb.paramsByte, Size: paramBytes},
				},
			})
			if err != nil {
				_ = cp.End()
				enc.DiscardEncoding()
				return nil, fmt.Errorf("gpu: bind group: %w", err)
			}
			bgs = append(bgs, bg)
			cp.SetBindGroup(0, bg, nil)
			cp.Dispatch(jb.gx, jb.gy, 1)
		}
		if err := cp.End(); err != nil {
			enc.DiscardEncoding()
			return nil, fmt.Errorf("gpu: histogram dispatch: %w", err)
		}
		if bi == len(batches)-1 {
			enc.CopyBufferToBuffer(histBuf, 0, e.staging, 0, histBytes)
		}
		cb, err := enc.Finish()
		if err != nil {
			return nil, fmt.Errorf("gpu: encode: %w", err)
		}
		if err := e.submit(cb); err != nil {
			return nil, err
		}
	}
	hist := make([]uint32, histBytes/4)
	if err := e.readback(ctx, histBytes, func(b []byte) { copy(u32bytes(hist), b) }); err != nil {
		return nil, err
	}
	return hist, nil
}
