package cpu

import (
	"fmt"
	"math"
)

// CoaddBand holds the weighted-mean accumulators of one band of the output
// mosaic (ZeMosaic's reproject_coadd, spec §3.1): Sum is Σ w·v and Weight is
// Σ w per output pixel. Both are float64 so that summing hundreds of tiles
// neither loses the faint sky under bright stars nor depends on magnitude
// order; Finish rounds to float32 once. Sum and Weight have one element per
// pixel of the band, row-major, and the same length.
type CoaddBand struct {
	Sum, Weight []float64
}

// NewCoaddBand returns zeroed accumulators for a band of n pixels.
func NewCoaddBand(n int) *CoaddBand {
	return &CoaddBand{Sum: make([]float64, n), Weight: make([]float64, n)}
}

// Accumulate adds one reprojected input to acc: for each pixel where the
// value v is finite and the weight w = weight[i]·inputWeight is finite and
// > 0, Sum += w·(Gain·v + Offset) and Weight += w. value and weight are the
// input reprojected onto the band's pixels (NaN = no data, as Reproject
// leaves it); a nil weight means all ones (the per-pixel input weight of
// spec §1.10: alpha, feathering, …), inputWeight is the tile weight and
// correction the photometric correction of SolvePhotometry. A pixel with no
// data adds nothing: it is never counted as 0.
//
// The result of a pixel depends only on the inputs and the order of the
// Accumulate calls (input order), never on how the mosaic is cut into bands,
// so callers may process bands concurrently, one CoaddBand each. Every
// product is rounded to float64 before it is added (no FMA), so results are
// the same on every architecture. inputWeight that is not finite and > 0
// adds nothing. acc and value are modified / read only; inputs are never
// modified.
func Accumulate(acc *CoaddBand, value, weight []float32, inputWeight float32, correction Affine) error {
	if acc == nil || len(acc.Sum) != len(acc.Weight) || len(value) != len(acc.Sum) {
		return fmt.Errorf("%w: coadd: accumulators and value must have the same length", ErrShape)
	}
	if weight != nil && len(weight) != len(value) {
		return fmt.Errorf("%w: coadd: weight has %d pixels, value %d", ErrShape, len(weight), len(value))
	}
	tw := float64(inputWeight)
	if !positiveFinite(tw) {
		return nil
	}
	gain, off := float64(correction.Gain), float64(correction.Offset)
	// Reslicing to len(value) lets the compiler drop the bounds checks.
	sum, wsum := acc.Sum[:len(value)], acc.Weight[:len(value)]
	if weight == nil {
		for i, v := range value {
			if !finite32(v) {
				continue
			}
			c := float64(gain*float64(v)) + off
			sum[i] += float64(tw * c)
			wsum[i] += tw
		}
		return nil
	}
	weight = weight[:len(value)]
	for i, v := range value {
		w := float64(float64(weight[i]) * tw)
		// w > 0 && w < +Inf is false for NaN, so it tests positiveFinite.
		if !finite32(v) || !(w > 0 && w < math.Inf(1)) {
			continue
		}
		c := float64(gain*float64(v)) + off
		sum[i] += float64(w * c)
		wsum[i] += w
	}
	return nil
}

// Finish writes the weighted mean Sum/Weight of acc to dst, rounded to
// float32 once. coverage (optional, nil to skip) receives Weight, the
// mosaic's coverage map (spec §1.10: the sum of the per-pixel weights), and
// alpha (optional) receives 255 where the pixel has data and 0 where not.
// Pixels with Weight == 0 (no input had data there) become NaN with coverage
// 0 and alpha 0. The soft alpha of ZeMosaic (union of the tiles' alphas)
// is the caller's business: this alpha only says where the mosaic has data.
func Finish(dst, coverage []float32, alpha []uint8, acc *CoaddBand) error {
	if acc == nil || len(acc.Sum) != len(acc.Weight) || len(dst) != len(acc.Sum) {
		return fmt.Errorf("%w: coadd: dst and accumulators must have the same length", ErrShape)
	}
	if coverage != nil && len(coverage) != len(dst) {
		return fmt.Errorf("%w: coadd: coverage has %d pixels, dst %d", ErrShape, len(coverage), len(dst))
	}
	if alpha != nil && len(alpha) != len(dst) {
		return fmt.Errorf("%w: coadd: alpha has %d pixels, dst %d", ErrShape, len(alpha), len(dst))
	}
	nan := float32(math.NaN())
	for i, w := range acc.Weight {
		// Weight only ever grows by finite positive terms, so w > 0 is the
		// "some input had data" test; it can still overflow to +Inf with
		// absurd weights, which then yields NaN (no trustworthy mean).
		mean := nan
		var a uint8
		if w > 0 {
			mean = float32(acc.Sum[i] / w)
			a = 255
		}
		dst[i] = mean
		if coverage != nil {
			coverage[i] = float32(w)
		}
		if alpha != nil {
			alpha[i] = a
		}
	}
	return nil
}
