package gpu

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Percentiles computes on the GPU exactly what cpu.Percentiles computes: the
// percentiles ps (in [0, 100]) of the finite samples of x with NumPy's
// "linear" method. NaN and ±Inf are no data; no finite sample gives NaN for
// every p, and a p outside [0, 100] or NaN gives NaN for that p. x is not
// modified.
//
// The two order statistics around each virtual index are found exactly by
// a radix select (four 256-bin histogram passes over order-preserving keys,
// see shaders/percentile_hist.wgsl); the interpolation between them runs on
// the CPU in float64 with cpu.Percentiles' formula. Results are therefore
// bit-identical to cpu.Percentiles, except that a zero result may be +0 where
// the CPU returns −0 (the CPU's selection does not order −0 and +0; the GPU
// counts −0 as +0). Inputs larger than one device buffer are streamed in
// chunks, four times (once per pass). len(x) must be below 2³² (ErrTooLarge).
//
// wgpu's software interpreter cannot run the kernel (its atomics and
// barriers are broken): ErrUnsupported. Open refuses that adapter anyway.
func (d *Device) Percentiles(ctx context.Context, x []float32, ps ...float64) ([]float64, error) {
	out, _, err := d.PercentilesCount(ctx, x, ps...)
	return out, err
}

// PercentilesCount is Percentiles that also returns the number of finite
// samples of x, counted by the same passes.
func (d *Device) PercentilesCount(ctx context.Context, x []float32, ps ...float64) ([]float64, int, error) {
	if uint64(len(x)) >= math.MaxUint32 {
		return nil, 0, fmt.Errorf("gpu: percentiles of %d samples (at most 2³²−2): %w", len(x), ErrTooLarge)
	}
	var sel []planeSelection
	if len(x) > 0 {
		err := d.do(ctx, func(ctx context.Context, e *engine) error {
			bs := bufSet{e: e}
			var err error
			sel, _, err = e.selectRanks(ctx, &bs, [][]float32{x}, func(_, n int) []int { return percentileRanks(n, ps) })
			bs.done(err)
			return err
		})
		if err != nil {
			return nil, 0, err
		}
	} else {
		sel = []planeSelection{{}}
	}
	return interpolate(sel[0], ps), sel[0].n, nil
}

// planeSelection is what the radix select found in one plane: the count of
// finite samples and the value of each requested rank (0-based, ascending).
type planeSelection struct {
	n      int
	values map[int]float32
}

// percentileRanks lists the ranks that interpolate needs for n samples.
func percentileRanks(n int, ps []float64) []int {
	var ranks []int
	for _, p := range ps {
		if n == 0 || !(p >= 0 && p <= 100) {
			continue
		}
		lo, hi, _ := virtualIndex(n, p)
		ranks = append(ranks, lo, hi)
	}
	slices.Sort(ranks)
	return slices.Compact(ranks)
}

// virtualIndex is cpu.Percentiles' position of p among n sorted samples: the
// ranks around (n−1)·p/100 and the fraction between them. It must stay the
// same expression as in cpu/percentile.go for bit-identical results.
func virtualIndex(n int, p float64) (lo, hi int, t float64) {
	vi := float64(n-1) * (p / 100)
	lo = int(math.Floor(vi))
	t = vi - float64(lo)
	hi = min(lo+1, n-1)
	return lo, hi, t
}

// interpolate turns the selected order statistics into percentiles.
func interpolate(s planeSelection, ps []float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		if s.n == 0 || !(p >= 0 && p <= 100) {
			out[i] = math.NaN()
			continue
		}
		lo, hi, t := virtualIndex(s.n, p)
		out[i] = lerp(float64(s.values[lo]), float64(s.values[hi]), t)
	}
	return out
}

// lerp is NumPy's _lerp as cpu.Percentiles uses it (exact at both ends and
// monotone); it must stay the same expression as in cpu/percentile.go.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// floatKey maps float32 bits to a key whose unsigned order is the numeric
// order, −0 as +0 (the kernel's key()).
func floatKey(b uint32) uint32 {
	if b == 1<<31 {
		b = 0
	}
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

// keyFloat inverts floatKey (giving +0 for zero).
func keyFloat(k uint32) float32 {
	if k&(1<<31) != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}

// needsAtomics refuses wgpu's software interpreter, whose storage and
// workgroup atomics return 0 and whose barriers do nothing.
func needsAtomics(info Info) error {
	if isInterpreter(info) {
		return fmt.Errorf("gpu: %s: radix select needs atomics and barriers: %w", info.Name, ErrUnsupported)
	}
	return nil
}
