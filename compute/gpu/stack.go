package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/zmosaic/zmosaic/cpu"
)

// Frame capacities of stack_reject: the per-pixel private arrays hold MAXN
// samples. Bands of at most smallMaxN frames use the 64-entry variant (768
// bytes of private memory per invocation, which real GPUs keep close to the
// ALUs); larger ones, up to largeMaxN, the 256-entry one (3 KiB, which spills
// to scratch memory on most GPUs and runs slower, but still runs).
const (
	smallMaxN = 64
	largeMaxN = cpu.MaxSortFrames
)

// MaxFrames is the largest frame count the sorting kernels hold per pixel,
// cpu.MaxSortFrames. Beyond it winsor and kappa with mean, min or max follow
// cpu.StackBand's streamed rule (bounds from a subsample, then every frame
// streamed against them); the median and the linear fit return
// ErrUnsupported. Mean, min and max without rejection, and the streamed
// rule, have no frame limit other than the band size, and StackBandBlocks
// lifts that one too.
func (d *Device) MaxFrames() int { return largeMaxN }

// rejectCode and combineCode map options to the kernels' constants.
var (
	rejectCode  = map[cpu.Reject]uint32{cpu.RejectNone: 0, cpu.RejectWinsor: 1, cpu.RejectKappa: 2, cpu.RejectLinear: 3}
	combineCode = map[cpu.Combine]uint32{cpu.CombineMean: 0, cpu.CombineMin: 1, cpu.CombineMax: 2, cpu.CombineMedian: 3}
)

// StackMean is StackBand with Reject none and Combine mean, for callers that
// need no rejection statistics.
func (d *Device) StackMean(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int) error {
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = cpu.RejectNone, cpu.CombineMean
	_, err := d.StackBand(ctx, dst, kept, src, norm, weights, width, opt)
	return err
}

// StackBand runs cpu.StackBand's function on the GPU: every opt.Reject
// (none, winsor, kappa, linear) with every opt.Combine (mean, median, min,
// max), with weights and normalisation; kept (may be nil) receives the kept
// count per pixel, and the returned stats the RejectedLow, RejectedHigh,
// Pixels and Samples totals. opt.Workers is ignored. Arguments are checked as
// cpu.StackBand checks them (errors wrap cpu.ErrShape or
// cpu.ErrInvalidOptions); inputs are not modified.
//
// Precision against cpu.StackBand (float64 throughout), on the same input:
//
//   - Reject none with mean, min or max (kernel stack_none): kept counts are
//     equal; min and max within 1 ulp; the mean m within
//     2⁻²²·|m| + 2⁻³⁶·S, S = Σw_i·(|Gain_i·x_i| + |Offset_i|)/Σw_i (about 2
//     ulp; measured on lavapipe: equal bit for bit but for rare 1-ulp pixels).
//   - Sorting kernels (rejection, or the median; stack_reject): the
//     statistics that place the thresholds are float32, ~1e-6 relative, so
//     a sample within that distance of a threshold (or a Huber loop whose
//     5e-4 convergence test is that close to a tie) can be judged
//     differently. Where the kept counts (low, kept, high) agree, the value
//     obeys the bound above (mean) or is within 1 ulp (min, max, median);
//     measured on lavapipe: bit-identical on all 30 000 test pixels.
//     The fraction of pixels whose counts differ is bounded by 1e-3 on
//     random data with outliers (measured: 0 on the tests' bands); for those
//     pixels the value moves by at most D·R/K for the mean (D samples judged
//     differently, R the spread of the union of both kept runs, K the
//     smaller kept count, unit weights), and by at most R otherwise.
//
// Values whose normalisation overflows float32 (|Gain·x+Offset| > 3.4e38)
// are outside this contract.
//
// Winsor and kappa with mean, min or max over more than MaxFrames frames
// follow cpu.StackBand's streamed rule (cpu.RejectBounds, stack_stream.go):
// stack_reject in bounds mode runs the clip on the cpu.SubsampleFrames and
// keeps each pixel's final bounds as float32; stack_bounded_blocks then
// rejects every frame's sample below lo or above hi (comparing the exact
// Gain·x+Offset) and combines the kept ones as stack_none does. The bounds
// agree with cpu.RejectBounds within a few ulps of the pixel's largest
// |sample| (tests: 8; measured ≤ 3.1) but where the float32 statistics end
// the clip differently (the thresholds' caveat above), and the kept counts
// and values then obey the sorting kernels' bounds above (measured on
// lavapipe: bit-identical on every tested pixel). Winsor's kept set is never
// empty: a pixel whose every sample falls outside is combined whole, as the
// CPU does; kappa's may be (NaN, kept 0).
//
// A band must fit the device: N·len(dst)·4 bytes at most
// min(maxBufferSize, maxStorageBufferBindingSize), else ErrTooLarge (for
// Reject none with mean, min or max, and for the streamed rule,
// StackBandBlocks then streams the frames in blocks, with the same output).
// Otherwise the sorting kernels take at most MaxFrames frames, else
// ErrUnsupported.
func (d *Device) StackBand(ctx context.Context, dst []float32, kept []uint32, src [][]float32, norm []cpu.Affine, weights []float32, width int, opt cpu.StackOptions) (cpu.StackStats, error) {
	if err := opt.Validate(); err != nil {
		return cpu.StackStats{}, fmt.Errorf("gpu: %w", err)
	}
	if err := cpu.CheckBand(dst, kept, src, norm, weights, width); err != nil {
		return cpu.StackStats{}, fmt.Errorf("gpu: %w", err)
	}
	sorting := opt.Reject != cpu.RejectNone || opt.Combine == cpu.CombineMedian
	streamed := streams(opt, len(src))
	if sorting && len(src) > largeMaxN && !streamed {
		return cpu.StackStats{}, fmt.Errorf("gpu: %s/%s of %d frames, at most %d: %w", opt.Reject, opt.Combine, len(src), largeMaxN, ErrUnsupported)
	}
	st := cpu.StackStats{Pixels: int64(len(dst))}
	if len(dst) == 0 {
		return st, nil
	}
	if len(src) == 0 {
		// No frames: nothing to bind (a binding cannot be empty). Same result
		// as the kernels: no data anywhere.
		for j := range dst {
			dst[j] = float32(math.NaN())
		}
		clear(kept)
		return st, nil
	}
	if streamed {
		// One block: the whole band in one input buffer, as below.
		return d.stackStreamed(ctx, dst, kept, src, norm, weights, opt, len(src))
	}
	keptOut := kept
	if keptOut == nil {
		keptOut = make([]uint32, len(dst)) // the Samples total needs it
	}
	k := kernelFor(opt, len(src))
	var rej []uint32
	if sorting {
		rej = make([]uint32, len(dst))
	}
	err := d.do(ctx, func(ctx context.Context, e *engine) error {
		return e.stack(ctx, k, dst, keptOut, rej, src, norm, weights)
	})
	if err != nil {
		return cpu.StackStats{}, err
	}
	for j, c := range keptOut {
		st.Samples += int64(c)
		if rej != nil {
			lo, hi := rej[j]&0xffff, rej[j]>>16
			st.RejectedLow += int64(lo)
			st.RejectedHigh += int64(hi)
			st.Samples += int64(lo + hi)
		}
	}
	return st, nil
}

// kernelFor picks the kernel for opt and a band of n frames: stack_none for
// Reject none with mean, min or max, else stack_reject with the smallest
// MAXN that holds n.
func kernelFor(opt cpu.StackOptions, n int) stackKernel {
	if opt.Reject == cpu.RejectNone && opt.Combine != cpu.CombineMedian {
		return stackKernel{name: "stack_none", bindings: stackNoneBindings, consts: map[string]any{"COMBINE": combineCode[opt.Combine]}}
	}
	maxN := smallMaxN
	if n > smallMaxN {
		maxN = largeMaxN
	}
	return stackKernel{
		name: "stack_reject", bindings: stackRejectBindings,
		consts:     map[string]any{"MAXN": maxN, "REJECT": rejectCode[opt.Reject], "COMBINE": combineCode[opt.Combine], "BOUNDS": false},
		iterations: uint32(opt.Iterations), kappaLow: opt.KappaLow, kappaHigh: opt.KappaHigh,
	}
}

// stackNoneBindings is the layout of shaders/stack_none.wgsl.
var stackNoneBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // src, frame-major
	gputypes.BufferBindingTypeReadOnlyStorage, // per-frame gain, offset, weight
	gputypes.BufferBindingTypeStorage,         // dst
	gputypes.BufferBindingTypeStorage,         // kept
	gputypes.BufferBindingTypeUniform,         // params
}

// stackRejectBindings is the layout of shaders/stack_reject.wgsl.
var stackRejectBindings = []gputypes.BufferBindingType{
	gputypes.BufferBindingTypeReadOnlyStorage, // src, frame-major
	gputypes.BufferBindingTypeReadOnlyStorage, // per-frame gain, offset, weight
	gputypes.BufferBindingTypeStorage,         // dst
	gputypes.BufferBindingTypeStorage,         // kept
	gputypes.BufferBindingTypeStorage,         // rejected low | high << 16
	gputypes.BufferBindingTypeUniform,         // params
}

// stackKernel is one stacking kernel with its constants (WG is added by
// engine.stack) and its rejection parameters.
type stackKernel struct {
	name     string
	bindings []gputypes.BufferBindingType
	consts   map[string]any

	iterations          uint32
	kappaLow, kappaHigh float32
}

// params packs the kernel's uniform Params struct: pixels, frames, stride_x
// and, for stack_reject, iterations and the two kappas (32 bytes, the
// uniform binding size of both kernels; stack_none reads the first 16).
func (k stackKernel) params(px, n, strideX uint32) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint32(b[0:], px)
	binary.LittleEndian.PutUint32(b[4:], n)
	binary.LittleEndian.PutUint32(b[8:], strideX)
	binary.LittleEndian.PutUint32(b[12:], k.iterations)
	binary.LittleEndian.PutUint32(b[16:], math.Float32bits(k.kappaLow))
	binary.LittleEndian.PutUint32(b[20:], math.Float32bits(k.kappaHigh))
	return b
}

// frameParams packs per-frame (gain, offset, weight, 1.0) as the kernels'
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
