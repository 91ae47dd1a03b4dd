package gpu

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// Info describes the adapter behind a Device, for logs and run reports.
type Info struct {
	Name       string              `json:"name"`
	Vendor     string              `json:"vendor"`
	Driver     string              `json:"driver"`
	DriverInfo string              `json:"driver_info"`
	Backend    gputypes.Backend    `json:"backend"`
	DeviceType gputypes.DeviceType `json:"device_type"`
}

// Software reports whether the adapter emulates a GPU on the CPU
// (lavapipe, SwiftShader): correct, but slower than package cpu.
func (i Info) Software() bool { return i.DeviceType == gputypes.DeviceTypeCPU }

// Stats counts a Device's work and resources since Open.
type Stats struct {
	Allocations int   // buffers created (pool hits are not counted)
	Submits     int   // queue submissions
	Pipelines   int   // compute pipelines compiled (cache misses)
	LiveBuffers int   // buffers created and not yet released (0 after Close)
	PooledBytes int64 // bytes of idle buffers kept for reuse
}

// Device is one WebGPU device owned by one goroutine. Create it with Open and
// release it with Close; methods are safe for concurrent use and run in the
// order they are called.
type Device struct {
	info   Info
	limits wgpu.Limits
	opt    Options

	reqs chan request
	quit chan struct{}
	done chan struct{}
	once sync.Once

	lost  atomic.Bool
	final Stats // set by the owner goroutine when it exits, read after done
}

// request is one unit of work for the owner goroutine.
type request struct {
	ctx context.Context
	fn  func(ctx context.Context, e *engine) error
	res chan error
}

// Open selects an adapter, creates a device with the adapter's full limits and
// starts its owner goroutine. It returns ErrNoAdapter when no backend is
// registered, no adapter exists, or only a refused one does (see
// Options.AllowSoftware).
func Open(ctx context.Context, opt Options) (*Device, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	d := &Device{
		opt:  opt,
		reqs: make(chan request),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	opened := make(chan error, 1)
	go d.own(opened)
	select {
	case err := <-opened:
		if err != nil {
			<-d.done
			return nil, err
		}
		return d, nil
	case <-ctx.Done():
		// The owner finishes opening and then sees quit; Close waits for it.
		_ = d.Close()
		return nil, ctx.Err()
	}
}

// own is the owner goroutine: it opens the engine, serves requests in order
// and releases everything when quit closes.
func (d *Device) own(opened chan<- error) {
	defer close(d.done)
	e, err := openEngine(d.opt)
	if err != nil {
		opened <- err
		return
	}
	d.info, d.limits = e.info, e.lim
	opened <- nil
	defer func() {
		e.release()
		d.final = e.stats()
	}()
	for {
		select {
		case r := <-d.reqs:
			err := e.run(r.ctx, r.fn)
			// Mark the device lost before the caller gets the error: a caller that sees
			// ErrDeviceLost must also see Lost() (and fail fast on its next request).
			if e.lost {
				d.lost.Store(true)
			}
			r.res <- err
		case <-d.quit:
			return
		}
	}
}

// do runs fn on the owner goroutine and returns its error. It fails fast when
// the device is lost or closed; a request already accepted always runs to the
// end, so fn never touches the caller's memory after do returns.
func (d *Device) do(ctx context.Context, fn func(ctx context.Context, e *engine) error) error {
	if d.lost.Load() {
		return fmt.Errorf("gpu: %w (earlier failure)", ErrDeviceLost)
	}
	return d.send(ctx, fn)
}

// send queues fn for the owner goroutine, lost or not.
func (d *Device) send(ctx context.Context, fn func(ctx context.Context, e *engine) error) error {
	r := request{ctx: ctx, fn: fn, res: make(chan error, 1)}
	select {
	case d.reqs <- r:
		return <-r.res
	case <-ctx.Done():
		return ctx.Err()
	case <-d.quit:
		return ErrClosed
	}
}

// Info describes the adapter.
func (d *Device) Info() Info { return d.info }

// Limits returns the limits the device was created with (the adapter's own,
// with Options.MaxBufferSize applied).
func (d *Device) Limits() wgpu.Limits { return d.limits }

// Options returns the options in effect, defaults filled in.
func (d *Device) Options() Options { return d.opt }

// Lost reports whether the device has been marked lost.
func (d *Device) Lost() bool { return d.lost.Load() }

// Stats returns the device's counters. After Close it returns the final
// counts, with LiveBuffers 0 when every buffer was released.
func (d *Device) Stats() Stats {
	select {
	case <-d.done:
		return d.final
	default:
	}
	var s Stats
	if err := d.send(context.Background(), func(_ context.Context, e *engine) error {
		s = e.stats()
		return nil
	}); err != nil {
		<-d.done // only ErrClosed can fail a send without a deadline
		return d.final
	}
	return s
}

// Close releases every wgpu object the device created and stops its owner
// goroutine, after the request in progress (if any) finishes. Later calls
// return ErrClosed. Close is idempotent and always returns nil.
func (d *Device) Close() error {
	d.once.Do(func() { close(d.quit) })
	<-d.done
	return nil
}
