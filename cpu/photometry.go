package cpu

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrDisconnected reports images that share no chain of overlaps with the
// anchor, so that no photometric correction can be solved for them.
var ErrDisconnected = errors.New("cpu: photometry: images not connected to the anchor")

// Photometric matching modes of SolvePhotometry.
const (
	PhotometryOffset     = "offset"      // per-image offsets only, gains stay 1
	PhotometryGainOffset = "gain-offset" // per-image gains (log domain) then offsets
)

// Overlap is one pairwise photometric estimate, measured by the caller on
// the sky pixels two images share (spec §1.8 step 4): image J ≈ Gain·image
// I + Offset. Weight (> 0, e.g. the overlap area in pixels) says how much
// the estimate is trusted.
type Overlap struct {
	I, J                 int
	Offset, Gain, Weight float64
}

// SolvePhotometry returns per-image corrections c_k (corrected = Gain·x +
// Offset) that make overlapping images agree, with the anchor image fixed at
// Identity. An overlap says J ≈ G·I + O, so agreement g_i·I + o_i =
// g_j·J + o_j means g_i = g_j·G and o_i − o_j = g_j·O. The solve is a
// weighted least squares over all overlaps:
//
//   - "offset": gains are 1 and Overlap.Gain is ignored; the offsets
//     minimise Σ w·(o_i − o_j − O)².
//   - "gain-offset": the log-gains minimise Σ w·(ln g_i − ln g_j − ln G)²
//     (every Gain must be > 0), then, with those gains fixed, the offsets
//     minimise Σ w·(o_i − o_j − g_j·O)².
//
// Each is a linear system whose normal matrix is the weighted graph
// Laplacian with the anchor's row and column removed, solved by Cholesky in
// float64. That matrix is positive definite exactly when every image is
// connected to the anchor through overlaps. Images that are not get
// Identity, and SolvePhotometry returns the corrections of the others
// together with an error wrapping ErrDisconnected that lists them; the
// returned slice is usable in that case. Any other error returns nil.
//
// The solve is deterministic: overlaps are put in a canonical order before
// their terms are summed, so any permutation of overlaps gives bit-identical
// corrections. ZeMosaic also offers IRLS with gain priors, clips, recentring
// and blending toward neutral (spec §1.8 steps 6–10); those shape the
// inputs or outputs of this solve and belong to the caller.
func SolvePhotometry(n int, overlaps []Overlap, anchor int, mode string) ([]Affine, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: photometry: need at least one image, got %d", ErrInvalidOptions, n)
	}
	if anchor < 0 || anchor >= n {
		return nil, fmt.Errorf("%w: photometry: anchor %d out of range [0, %d)", ErrInvalidOptions, anchor, n)
	}
	if mode != PhotometryOffset && mode != PhotometryGainOffset {
		return nil, fmt.Errorf("%w: photometry: unknown mode %q (want offset or gain-offset)", ErrInvalidOptions, mode)
	}
	for k, o := range overlaps {
		if err := checkOverlap(o, n, mode == PhotometryGainOffset); err != nil {
			return nil, fmt.Errorf("%w: photometry: overlap %d: %s", ErrInvalidOptions, k, err)
		}
	}
	ov := slices.Clone(overlaps)
	slices.SortFunc(ov, compareOverlaps)

	connected := reachable(n, ov, anchor)
	// idx maps an image to its unknown, −1 for the anchor and for images
	// that cannot be solved.
	idx := make([]int, n)
	m := 0
	var lost []int
	for k := range n {
		switch {
		case k == anchor:
			idx[k] = -1
		case !connected[k]:
			idx[k] = -1
			lost = append(lost, k)
		default:
			idx[k] = m
			m++
		}
	}

	out := make([]Affine, n)
	gains := make([]float64, n)
	for k := range out {
		out[k] = Identity
		gains[k] = 1
	}
	if mode == PhotometryGainOffset {
		logG, err := solveDifferences(m, idx, ov, func(o Overlap) float64 { return math.Log(o.Gain) })
		if err != nil {
			return nil, err
		}
		for k, i := range idx {
			if i >= 0 {
				gains[k] = math.Exp(logG[i])
			}
		}
	}
	// o_i − o_j = g_j·O: the right-hand side scales with the already solved
	// gain of J (1 in offset mode).
	offs, err := solveDifferences(m, idx, ov, func(o Overlap) float64 { return gains[o.J] * o.Offset })
	if err != nil {
		return nil, err
	}
	for k, i := range idx {
		if i >= 0 {
			out[k] = Affine{Gain: float32(gains[k]), Offset: float32(offs[i])}
		}
	}
	if len(lost) > 0 {
		return out, fmt.Errorf("%w: %v (anchor %d); they keep the identity", ErrDisconnected, lost, anchor)
	}
	return out, nil
}

// checkOverlap reports what is wrong with one overlap, or nil.
func checkOverlap(o Overlap, n int, needGain bool) error {
	switch {
	case o.I < 0 || o.I >= n || o.J < 0 || o.J >= n:
		return fmt.Errorf("images (%d, %d) out of range [0, %d)", o.I, o.J, n)
	case o.I == o.J:
		return fmt.Errorf("image %d overlaps itself", o.I)
	case !positiveFinite(o.Weight):
		return fmt.Errorf("weight must be finite and > 0, got %g", o.Weight)
	case math.IsNaN(o.Offset) || math.IsInf(o.Offset, 0):
		return fmt.Errorf("offset must be finite, got %g", o.Offset)
	case needGain && !positiveFinite(o.Gain):
		return fmt.Errorf("gain must be finite and > 0, got %g", o.Gain)
	}
	return nil
}

// compareOverlaps is a total order on validated overlaps (no NaN), so
// sorting makes the summation order independent of the caller's order.
func compareOverlaps(a, b Overlap) int {
	return cmp.Or(
		cmp.Compare(a.I, b.I),
		cmp.Compare(a.J, b.J),
		cmp.Compare(a.Weight, b.Weight),
		cmp.Compare(a.Gain, b.Gain),
		cmp.Compare(a.Offset, b.Offset),
	)
}

// reachable marks the images connected to anchor through overlaps
// (breadth-first search over an adjacency list in sorted overlap order).
func reachable(n int, ov []Overlap, anchor int) []bool {
	adj := make([][]int, n)
	for _, o := range ov {
		adj[o.I] = append(adj[o.I], o.J)
		adj[o.J] = append(adj[o.J], o.I)
	}
	seen := make([]bool, n)
	seen[anchor] = true
	queue := []int{anchor}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, j := range adj[k] {
			if !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return seen
}

// solveDifferences solves the weighted least squares
// min Σ w·(x_i − x_j − r)² over the overlaps, with x fixed at 0 for images
// whose idx is −1 (the anchor; overlaps touching an unsolved image never
// touch a solved one, since they share a connected component). rhs gives r
// per overlap. It returns x for the m unknowns.
func solveDifferences(m int, idx []int, ov []Overlap, rhs func(Overlap) float64) ([]float64, error) {
	a := make([]float64, m*m)
	b := make([]float64, m)
	for _, o := range ov {
		w := o.Weight
		r := rhs(o)
		i, j := idx[o.I], idx[o.J]
		// Row √w·(x_i − x_j) = √w·r of the design matrix, added to AᵀA and Aᵀb.
		if i >= 0 {
			a[i*m+i] += w
			b[i] += float64(w * r)
		}
		if j >= 0 {
			a[j*m+j] += w
			b[j] -= float64(w * r)
		}
		if i >= 0 && j >= 0 {
			a[i*m+j] -= w
			a[j*m+i] -= w
		}
	}
	if err := choleskySolve(a, b, m); err != nil {
		return nil, err
	}
	return b, nil
}

// choleskySolve solves A·x = b in place for a symmetric positive definite
// m×m matrix A (row-major; its lower triangle is overwritten with L) and
// leaves x in b. A pivot that is not > 0 means A is singular (to working
// precision) and returns an error.
func choleskySolve(a, b []float64, m int) error {
	for j := range m {
		d := a[j*m+j]
		for k := range j {
			d -= float64(a[j*m+k] * a[j*m+k])
		}
		if !(d > 0) || math.IsInf(d, 0) {
			return fmt.Errorf("cpu: photometry: normal equations singular at unknown %d", j)
		}
		d = math.Sqrt(d)
		a[j*m+j] = d
		for i := j + 1; i < m; i++ {
			s := a[i*m+j]
			for k := range j {
				s -= float64(a[i*m+k] * a[j*m+k])
			}
			a[i*m+j] = s / d
		}
	}
	for i := range m { // L·y = b
		s := b[i]
		for k := range i {
			s -= float64(a[i*m+k] * b[k])
		}
		b[i] = s / a[i*m+i]
	}
	for i := m - 1; i >= 0; i-- { // Lᵀ·x = y
		s := b[i]
		for k := i + 1; k < m; k++ {
			s -= float64(a[k*m+i] * b[k])
		}
		b[i] = s / a[i*m+i]
	}
	return nil
}
