package session

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// Band is one stacking problem at the kernel level, as raw little-endian bytes (the layout of
// a JavaScript Float32Array on every engine): what compute.Runner.StackBand takes, without
// files, measuring or normalisation estimates in between.
type Band struct {
	Frames  []byte // NFrames × pixels float32, frame-major
	NFrames int
	Width   int    // pixels per row; pixels must be a multiple of it
	Norm    []byte // NFrames × (gain, offset) float32; empty = identity
	Weights []byte // NFrames float32; empty = equal weights
}

// BandResult is what StackBand computed.
type BandResult struct {
	Value   []float32
	Kept    []uint32
	Stats   cpu.StackStats
	Backend string  // where the combine ran: "webgpu", "webgpu+cpu" or "cpu"
	Seconds float64 // opening the device included, as a page pays it on every stack
	// GPUErrors are the WebGPU errors the browser reported during a GPU run; the band was
	// then computed again on the CPU (Backend "cpu"), as Stack does.
	GPUErrors []string
}

// JS is the result in the shape zmosaic.stackBand resolves to: valueBytes and keptBytes are
// the little-endian bytes of the float32 values and uint32 kept counts (JSON and js.ValueOf
// carry neither NaN nor ±Inf reliably, bytes do), the rest plain numbers and strings.
func (r *BandResult) JS() map[string]any {
	errs := make([]any, len(r.GPUErrors))
	for i, e := range r.GPUErrors {
		errs[i] = e
	}
	return map[string]any{
		"valueBytes": float32Bytes(r.Value), "keptBytes": uint32Bytes(r.Kept),
		"rejected_low": r.Stats.RejectedLow, "rejected_high": r.Stats.RejectedHigh, "samples": r.Stats.Samples,
		"backend": r.Backend, "gpu_errors": errs, "seconds": r.Seconds,
	}
}

// bandKeys are the options StackBand accepts: the kernel's, and where it runs.
var bandKeys = []string{"backend", "combine", "gpu_budget", "iterations", "kappa_high", "kappa_low", "reject"}

// StackBand stacks one band through the Runner the page's stacks use (WebGPU when the options
// and the browser allow it, else the CPU) and returns values, kept counts and totals. It is a
// test and diagnostic entry: the cross-backend golden suite feeds it the bands the native
// backends are checked on, so that the browser's WebGPU is held to the same tolerance table.
// Options are those of Stack that concern the kernel (reject, combine, kappa_low, kappa_high,
// iterations, backend, gpu_budget); any other key is an error. It shares Stack's lock
// (ErrBusy's message while either runs), since both drain the same browser error queue.
func (s *Session) StackBand(ctx context.Context, in Band, options map[string]any) (*BandResult, error) {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return nil, errors.New(s.T("wasm_busy", nil))
	}
	s.running = true
	loc := s.loc
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	opt, copt, err := parseBandOptions(options)
	if err != nil {
		var oe *OptionError
		if errors.As(err, &oe) {
			return nil, errors.New(loc.T("wasm_option_invalid", map[string]any{"key": oe.Key, "error": oe.Err.Error()}))
		}
		return nil, errors.New(loc.T("wasm_options_invalid", map[string]any{"error": err.Error()}))
	}
	src, norm, weights, err := in.decode()
	if err != nil {
		return nil, errors.New(loc.T("stack_failed", map[string]any{"error": err.Error()}))
	}
	start := time.Now()
	n := len(src[0])
	res := &BandResult{Value: make([]float32, n), Kept: make([]uint32, n)}

	open := s.env.Open
	if open == nil {
		open = compute.OpenGPU
	}
	if s.env.GPUErrors != nil {
		s.env.GPUErrors() // stale errors of an earlier device say nothing about this run
	}
	runner := compute.NewRunnerWith(ctx, copt, nil, open)
	defer runner.Close()
	if res.Stats, err = runner.StackBand(ctx, res.Value, res.Kept, src, norm, weights, in.Width, opt); err != nil {
		return nil, errors.New(loc.T("stack_failed", map[string]any{"error": err.Error()}))
	}
	res.Backend = browserBackend(runner.Summary(), "stack")
	if res.GPUErrors = s.gpuErrors(res.Backend); len(res.GPUErrors) > 0 {
		// As in Stack: the browser's errors mean the GPU's numbers are garbage.
		res.Stats = cpu.StackBand(res.Value, res.Kept, src, norm, weights, in.Width, opt)
		res.Backend = "cpu"
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// parseBandOptions reads StackBand's options over the page's defaults (SoftwareInAuto
// included, so that auto takes SwiftShader as Stack does).
func parseBandOptions(m map[string]any) (cpu.StackOptions, compute.Options, error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != nil && !slices.Contains(bandKeys, k) {
			return cpu.StackOptions{}, compute.Options{}, &OptionError{Key: k,
				Err: fmt.Errorf("unknown option (known: %s)", strings.Join(bandKeys, ", "))}
		}
	}
	po, _, err := ParseOptions(m)
	if err != nil {
		return cpu.StackOptions{}, compute.Options{}, err
	}
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = po.Reject, po.Combine
	opt.KappaLow, opt.KappaHigh, opt.Iterations = po.KappaLow, po.KappaHigh, po.Iterations
	if err := opt.Validate(); err != nil {
		return opt, po.Compute, err
	}
	return opt, po.Compute, nil
}

// decode checks the shape of the band and converts its bytes. Width and row multiples are
// left to cpu.CheckBand (through the Runner), which says it in the kernel's words.
func (b Band) decode() (src [][]float32, norm []cpu.Affine, weights []float32, err error) {
	switch {
	case b.NFrames < 1:
		return nil, nil, nil, fmt.Errorf("session: stackBand needs at least one frame, got %d", b.NFrames)
	case b.Width < 1:
		return nil, nil, nil, fmt.Errorf("session: stackBand width must be > 0, got %d", b.Width)
	case len(b.Frames) == 0 || len(b.Frames)%(4*b.NFrames) != 0:
		return nil, nil, nil, fmt.Errorf("session: stackBand got %d bytes of frames, not a positive multiple of %d frames × 4 bytes", len(b.Frames), b.NFrames)
	case len(b.Norm) != 0 && len(b.Norm) != 8*b.NFrames:
		return nil, nil, nil, fmt.Errorf("session: stackBand got %d bytes of normalisation, want %d (gain, offset float32 per frame) or none", len(b.Norm), 8*b.NFrames)
	case len(b.Weights) != 0 && len(b.Weights) != 4*b.NFrames:
		return nil, nil, nil, fmt.Errorf("session: stackBand got %d bytes of weights, want %d (one float32 per frame) or none", len(b.Weights), 4*b.NFrames)
	}
	all := bytesFloat32(b.Frames)
	n := len(all) / b.NFrames
	src = make([][]float32, b.NFrames)
	for f := range src {
		src[f] = all[f*n : (f+1)*n : (f+1)*n]
	}
	if len(b.Norm) > 0 {
		g := bytesFloat32(b.Norm)
		norm = make([]cpu.Affine, b.NFrames)
		for f := range norm {
			norm[f] = cpu.Affine{Gain: g[2*f], Offset: g[2*f+1]}
		}
	}
	if len(b.Weights) > 0 {
		weights = bytesFloat32(b.Weights)
	}
	return src, norm, weights, nil
}

func bytesFloat32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func uint32Bytes(v []uint32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], x)
	}
	return out
}
