package testsuite

import "math"

// Tolerance is how far a backend may be from the CPU reference for one kernel, and why.
// The CPU computes in float64 where the kernels' documentation says so; WGSL has only f32.
type Tolerance struct {
	// ValueULP bounds |Δ| for pixels whose kept/rejected counts agree, in units of the
	// float32 spacing at the pixel's largest |sample| (so cancellation is covered).
	ValueULP float64
	// CountMismatch is the largest fraction of pixels whose kept or rejected counts may differ:
	// rejection compares samples with thresholds computed in f32 on the GPU and f64 on the CPU,
	// so a sample lying on a threshold (within ~1e-6 relative) may be judged differently.
	CountMismatch float64
	// Why justifies the entry.
	Why string
}

// Tolerances is the one table of cross-backend tolerances, keyed by kernel. Every entry was
// measured on lavapipe (Mesa 22.3 llvmpipe) with the inputs of this package; the measured
// worst case is in the test logs (go test -v ./testsuite).
var Tolerances = map[string]Tolerance{
	"preprocess/debayer": {ValueULP: 0, CountMismatch: 0,
		Why: "each value is an average of at most 4 same-colour samples computed with the same f32 operations in the " +
			"same order on both backends (sums, then ×0.5, ×f32(1/3) or ×0.25; no division, no product feeding an add, " +
			"so neither WGSL's 2.5-ulp division nor FMA contraction can enter): bit-identical, measured 0 differences"},
	"preprocess/background": {ValueULP: 0, CountMismatch: 0,
		Why: "the surface is fitted once on the CPU; each pixel evaluates it with the same f32 operations in the same " +
			"order (x·su + ou, Horner in u then in v, one subtraction; coefficients rounded to f32 once), products and " +
			"addends behind opaque() so FMA contraction and reassociation cannot enter: bit-identical, measured 0 differences"},
	"preprocess/hotpixels": {ValueULP: 0, CountMismatch: 0,
		Why: "median (same insertion sort), mean ×f32(1/n) from a CPU-made table, variance as exact 12-bit half " +
			"products, comparisons on opaque() values: the same f32 operations on both backends, so the same pixels " +
			"are replaced by the same sample; measured 0 differences (CountMismatch counts differing detections)"},
	"stack/none": {ValueULP: 2, CountMismatch: 0,
		Why: "mean: f32 products made exact by 12-bit splits and Neumaier sums against the CPU's float64 sums: " +
			"≤ 2⁻²²·|m| + 2⁻³⁶·Σw(|g·x|+|o|)/Σw, i.e. 2 ulp of the largest term; min/max/median pick a sample " +
			"(1 ulp: the normalised sample is the same f32 on both); no rejection, so counts are exact"},
	"stack/winsor": {ValueULP: 2, CountMismatch: 1e-3,
		Why: "same combine bound as none for pixels with the same kept run; median, MAD and Huber σ in f32 agree with " +
			"f64 to ~1e-6 relative and Huber's 5e-4 stopping test may stop one iteration apart, so only samples " +
			"within ~1e-6 of m ± κσ can flip; each flip moves the mean by at most the sample spread / kept count"},
	"stack/kappa": {ValueULP: 2, CountMismatch: 1e-3,
		Why: "as winsor: median and population std in f32 vs f64; only samples on m ± κs can flip"},
	"stack/linear": {ValueULP: 2, CountMismatch: 1e-3,
		Why: "as winsor; the least-squares line over rank is f32 vs f64, and samples equal as f32 but not as f64 may " +
			"take ranks in another order, moving the fit by ~1 ulp"},
	// Reprojection: ValueULP is in ulps of the largest |sample| M under the kernel, on top of
	// 1.5·G·gpu.CoordTolerance (G the largest step between neighbouring samples there);
	// CountMismatch is the fraction of pixels whose NaN decision (footprint, NaN tap) differs.
	"reproject/bilinear": {ValueULP: 168, CountMismatch: 1e-3,
		Why: "gpu.Device.Reproject's bound |Δ| ≤ 1.5·G·1e-4 + 1e-5·M: f32 coordinates within 1e-4 px of the CPU's " +
			"float64 grid, f32 weights and an f32 sum of ≤ 36 taps (1e-5·M ≤ 168 ulp of M); NaN decisions flip only " +
			"within 1e-4 px of an integer or of the footprint edge"},
	"reproject/bicubic":  {ValueULP: 168, CountMismatch: 1e-3, Why: "as reproject/bilinear (16 taps)"},
	"reproject/lanczos3": {ValueULP: 168, CountMismatch: 1e-3, Why: "as reproject/bilinear (36 taps, f32 sin)"},
}

// ulpAt is the spacing of float32 numbers at |v| (the smallest normal spacing near 0).
func ulpAt(v float64) float64 {
	a := float32(math.Abs(v))
	if a < math.SmallestNonzeroFloat32 || a != a {
		return math.SmallestNonzeroFloat32
	}
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}
