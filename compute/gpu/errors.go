package gpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/gogpu/wgpu"
)

// Sentinel errors; every error of this package wraps at most one of them.
var (
	// ErrNoAdapter: no adapter (or only one refused by Options) exists.
	ErrNoAdapter = errors.New("gpu: no usable adapter")
	// ErrOutOfMemory: a buffer allocation failed; a smaller chunk may fit.
	ErrOutOfMemory = errors.New("gpu: out of memory")
	// ErrTooLarge: the request exceeds a device limit whatever the free memory.
	ErrTooLarge = errors.New("gpu: request exceeds device limits")
	// ErrCompile: a shader module or pipeline could not be created.
	ErrCompile = errors.New("gpu: shader compilation failed")
	// ErrDeviceLost: the device stopped answering; it stays unusable.
	ErrDeviceLost = errors.New("gpu: device lost")
	// ErrUnsupported: no GPU kernel implements the requested options.
	ErrUnsupported = errors.New("gpu: unsupported operation")
	// ErrClosed: the Device was closed.
	ErrClosed = errors.New("gpu: device closed")
)

// allocError classifies an error of CreateBuffer. Allocation failures wrap
// ErrOutOfMemory (and keep the wgpu error for errors.As); others are bugs of
// this package and are returned as they are.
func allocError(label string, size uint64, err error) error {
	if isAllocFailure(err) || errors.Is(err, wgpu.ErrOutOfMemory) {
		return fmt.Errorf("gpu: allocate %s (%d bytes): %w: %w", label, size, ErrOutOfMemory, err)
	}
	return fmt.Errorf("gpu: allocate %s (%d bytes): %w", label, size, err)
}

// submitError classifies an error of Submit or of a readback map.
func submitError(what string, err error) error {
	if errors.Is(err, wgpu.ErrDeviceLost) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("gpu: %s: %w: %w", what, ErrDeviceLost, err)
	}
	return fmt.Errorf("gpu: %s: %w", what, err)
}
