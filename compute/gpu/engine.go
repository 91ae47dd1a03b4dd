package gpu

import (
	"context"
	"fmt"

	"github.com/gogpu/wgpu"
)

// engine holds every wgpu object of a Device. Only the owner goroutine
// touches it.
type engine struct {
	opt  Options
	inst *wgpu.Instance
	ad   *wgpu.Adapter
	dev  *wgpu.Device
	q    *wgpu.Queue
	info Info
	lim  wgpu.Limits

	pipes   map[pipeKey]*pipeline
	pool    pool
	staging *wgpu.Buffer // MapRead readback buffer, grown on demand

	allocs, submits, compiled, live int
	lost                            bool
}

// openEngine creates the instance, adapter and device. On failure everything
// created so far is released.
func openEngine(opt Options) (_ *engine, err error) {
	e := &engine{opt: opt, pipes: map[pipeKey]*pipeline{}}
	defer func() {
		if err != nil {
			e.release()
		}
	}()
	e.inst, err = wgpu.CreateInstance(&wgpu.InstanceDescriptor{Backends: preferredBackends})
	if err != nil {
		return nil, fmt.Errorf("%w: create instance: %w", ErrNoAdapter, err)
	}
	// nil options: wgpu picks the first non-CPU adapter, else the first one
	// in the order Vulkan > Metal > DX12 > GL > software. ForceFallbackAdapter
	// is not used: it selects lavapipe, not wgpu's software backend.
	e.ad, err = e.inst.RequestAdapter(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoAdapter, err)
	}
	ai := e.ad.Info()
	e.info = Info{
		Name: ai.Name, Vendor: ai.Vendor, Driver: ai.Driver, DriverInfo: ai.DriverInfo,
		Backend: ai.Backend, DeviceType: ai.DeviceType,
	}
	fixBrowserInfo(&e.info)
	if isInterpreter(e.info) {
		return nil, fmt.Errorf("%w: only wgpu's software interpreter is available (it evaluates NaN tests wrongly)", ErrNoAdapter)
	}
	if e.info.Software() && !opt.AllowSoftware {
		return nil, fmt.Errorf("%w: only a CPU-emulated adapter (%s) is available and software adapters are not allowed", ErrNoAdapter, e.info.Name)
	}
	// Pass the adapter's FULL limits: a partial struct leaves the rest at 0
	// and then every bind group fails validation.
	lim := e.ad.Limits()
	if opt.MaxBufferSize > 0 {
		lim.MaxBufferSize = opt.MaxBufferSize
	}
	e.dev, err = e.ad.RequestDevice(&wgpu.DeviceDescriptor{Label: "zmosaic", RequiredLimits: lim})
	if err != nil {
		return nil, fmt.Errorf("%w: request device on %s: %w", ErrNoAdapter, e.info.Name, err)
	}
	e.lim = e.dev.Limits()
	e.q = e.dev.Queue()
	return e, nil
}

// run calls fn, turning a panic inside wgpu into a lost device: the objects
// it was using may be in any state.
func (e *engine) run(ctx context.Context, fn func(context.Context, *engine) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			e.lost = true
			err = fmt.Errorf("gpu: %w: panic in wgpu: %v", ErrDeviceLost, p)
		}
	}()
	return fn(ctx, e)
}

// usable fails when the device was lost by an earlier request.
func (e *engine) usable() error {
	if e.lost {
		return fmt.Errorf("gpu: %w (earlier failure)", ErrDeviceLost)
	}
	return nil
}

// createBuffer allocates a buffer, counting it and applying Faults.OOMAt.
func (e *engine) createBuffer(label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
	e.allocs++
	if e.opt.Faults.OOMAt == e.allocs {
		return nil, fmt.Errorf("gpu: allocate %s (%d bytes): %w (injected fault at allocation %d)", label, size, ErrOutOfMemory, e.allocs)
	}
	b, err := e.dev.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
	if err != nil {
		return nil, allocError(label, size, err)
	}
	e.live++
	return b, nil
}

// releaseBuffer releases a buffer created by createBuffer.
func (e *engine) releaseBuffer(b *wgpu.Buffer) {
	if b != nil {
		b.Release()
		e.live--
	}
}

// submit submits cb, applying Faults.LostAt. cb is always consumed.
func (e *engine) submit(cb *wgpu.CommandBuffer) error {
	e.submits++
	if e.opt.Faults.LostAt == e.submits {
		cb.Release()
		e.lost = true
		return fmt.Errorf("gpu: submit: %w (injected fault at submit %d)", ErrDeviceLost, e.submits)
	}
	if _, err := e.q.Submit(cb); err != nil {
		cb.Release()
		e.lost = true
		return fmt.Errorf("gpu: submit: %w: %w", ErrDeviceLost, err)
	}
	return nil
}

// readback copies size bytes from the staging buffer into out once the GPU
// has finished, waiting at most Options.MapTimeout. A timeout marks the device
// lost; a cancelled ctx only drops the staging buffer (its map stays pending).
func (e *engine) readback(ctx context.Context, size uint64, out func([]byte)) error {
	mctx, cancel := context.WithTimeout(ctx, e.opt.MapTimeout)
	defer cancel()
	if err := e.staging.Map(mctx, wgpu.MapModeRead, 0, size); err != nil {
		if ctx.Err() != nil {
			// The caller gave up, not the device: a pending map cannot be
			// reused, so forget this staging buffer.
			e.releaseBuffer(e.staging)
			e.staging = nil
			return fmt.Errorf("gpu: readback: %w", ctx.Err())
		}
		e.lost = true
		return fmt.Errorf("gpu: readback after %v: %w: %w", e.opt.MapTimeout, ErrDeviceLost, err)
	}
	rng, err := e.staging.MappedRange(0, size)
	if err != nil {
		_ = e.staging.Unmap()
		return fmt.Errorf("gpu: readback: %w", err)
	}
	out(rng.Bytes())
	rng.Release()
	if err := e.staging.Unmap(); err != nil {
		return fmt.Errorf("gpu: readback unmap: %w", err)
	}
	return nil
}

// ensureStaging makes the staging buffer hold at least size bytes.
func (e *engine) ensureStaging(size uint64) error {
	if e.staging != nil && e.staging.Size() >= size {
		return nil
	}
	e.releaseBuffer(e.staging)
	e.staging = nil
	b, err := e.createBuffer("readback", sizeClass(size, e.lim.MaxBufferSize), wgpu.BufferUsageMapRead|wgpu.BufferUsageCopyDst)
	if err != nil {
		return err
	}
	e.staging = b
	return nil
}

// stats snapshots the counters.
func (e *engine) stats() Stats {
	return Stats{
		Allocations: e.allocs, Submits: e.submits, Pipelines: e.compiled,
		LiveBuffers: e.live, PooledBytes: e.pool.bytes,
	}
}

// release releases every object, children before parents.
func (e *engine) release() {
	for k, p := range e.pipes {
		p.release()
		delete(e.pipes, k)
	}
	e.pool.drain(e)
	e.releaseBuffer(e.staging)
	e.staging = nil
	if e.dev != nil {
		e.dev.Release()
		e.dev = nil
	}
	if e.ad != nil {
		e.ad.Release()
		e.ad = nil
	}
	if e.inst != nil {
		e.inst.Release()
		e.inst = nil
	}
}

// workgroupSize is Options.WorkgroupSize clamped to the device limits.
func (e *engine) workgroupSize() uint32 {
	wg := uint32(e.opt.WorkgroupSize)
	wg = min(wg, e.lim.MaxComputeInvocationsPerWorkgroup, e.lim.MaxComputeWorkgroupSizeX)
	return max(wg, 1)
}

// grid returns the dispatch size covering n invocations of wg, as a 2-D grid
// when one dimension cannot hold them, and the invocations per grid row.
func (e *engine) grid(n, wg uint32) (gx, gy, strideX uint32, err error) {
	maxDim := e.lim.MaxComputeWorkgroupsPerDimension
	if e.opt.MaxWorkgroupsPerDim > 0 {
		maxDim = min(maxDim, uint32(e.opt.MaxWorkgroupsPerDim))
	}
	groups := (uint64(n) + uint64(wg) - 1) / uint64(wg)
	if groups <= uint64(maxDim) {
		return uint32(max(groups, 1)), 1, uint32(max(groups, 1)) * wg, nil
	}
	gx = maxDim
	gyy := (groups + uint64(gx) - 1) / uint64(gx)
	if gyy > uint64(maxDim) {
		return 0, 0, 0, fmt.Errorf("gpu: %d workgroups exceed a %d×%d grid: %w", groups, maxDim, maxDim, ErrTooLarge)
	}
	return gx, uint32(gyy), gx * wg, nil
}
