package cpu

import "math"

// lanczos3Weights writes the Lanczos-3 weights L(t−k), k = −2…3, with
// L(x) = sinc(x)·sinc(x/3) for |x| < 3, normalised to sum to 1. The
// normalisation removes the kernel's ripple on flat data (the raw weights sum
// to 0.994…1 depending on t), so a constant image stays constant. At t = 0 the
// weights are exactly the unit impulse, so integer positions copy the input.
// Lanczos-3 is not exact on ramps: the normalised weights' first moment
// reaches 0.018 px (t = 0.3), so the error is about 0.018·|gradient|, 3e-3
// of the peak of a Gaussian star of σ = 2…4 px, 8e-4 at σ = 20 px.
//
// Evaluation (exact identities, two sines per axis instead of twelve). Tap k
// sits at x_k = t+2−k and L(x_k) = 3·sin(πx_k)·sin(πx_k/3)/(π²x_k²). The
// first sines are (−1)^k·sin(πt), a factor common to all taps that cancels
// in the normalisation with 3/π². With A = sin(πt/3) and B = sin(π(1−t)/3),
// the second sines are B, A+B, A, −B, −(A+B), −A (sin(π(1+t)/3) = A + B is
// sin(π/3+α) − sin(π/3−α) = 2·cos(π/3)·sin α), so
//
//	w_k ∝ s_k / x_k²,  s = (B, −(A+B), A, B, −(A+B), A),
//	x² = ((t+2)², (t+1)², t², (1−t)², (2−t)², (3−t)²).
//
// Every s_k is a sum of positive terms and B is evaluated at 1−t, not as
// sin(π/3 − πt/3), so no weight suffers cancellation near t = 0 or 1. The
// divisions become one: w_k = s_k·P_k / Σ_j s_j·P_j with P_k = Π_{j≠k} x_j²
// (prefix and suffix products; all factors lie in (0, 9)), which also keeps
// a tiny t from overflowing s_2/t² (t² underflowing to 0 then only zeroes the
// other taps' weights, the impulse that is t's limit). sinThirdPi is a
// polynomial within 1e-16 of sin(πs/3); the weights agree with the direct
// math.Sin formula within 1e-15 (TestLanczos3WeightsMatchDirectFormula).
func lanczos3Weights(w *[maxTaps]float64, t float64) {
	if t == 0 {
		*w = [maxTaps]float64{0, 0, 1, 0, 0, 0}
		return
	}
	u := 1 - t
	a, b := sinThirdPi(t), sinThirdPi(u)
	c := a + b
	q0, q1, q2 := (t+2)*(t+2), (t+1)*(t+1), t*t
	q3, q4, q5 := u*u, (2-t)*(2-t), (3-t)*(3-t)
	p1 := q0
	p2 := p1 * q1
	p3 := p2 * q2
	p4 := p3 * q3
	p5 := p4 * q4
	r4 := q5
	r3 := r4 * q4
	r2 := r3 * q3
	r1 := r2 * q2
	r0 := r1 * q1
	// float64(…) around every product that meets an addition forbids FMA
	// fusion (arm64), so the weights are the same on every architecture.
	n0, n1, n2 := float64(b*r0), float64(-c*(p1*r1)), float64(a*(p2*r2))
	n3, n4, n5 := float64(b*(p3*r3)), float64(-c*(p4*r4)), float64(a*p5)
	sum := n0 + n1 + n2 + n3 + n4 + n5
	if sum < 0x1p-1000 { // only for t < 1e-300, where 1/sum would overflow
		w[0], w[1], w[2] = n0/sum, n1/sum, n2/sum
		w[3], w[4], w[5] = n3/sum, n4/sum, n5/sum
		return
	}
	inv := 1 / sum
	// Element by element: a composite literal is built on the stack and
	// copied in 16-byte moves, which stalls on the 8-byte stores just made.
	w[0], w[1], w[2] = n0*inv, n1*inv, n2*inv
	w[3], w[4], w[5] = n3*inv, n4*inv, n5*inv
}

// sinThirdPiCoef are the Taylor coefficients of sin(πs/3) in s:
// (−1)^n·(π/3)^(2n+1)/(2n+1)!. For s ∈ [0, 1] (argument ≤ π/3) the first
// omitted term is below 1e-19.
var sinThirdPiCoef = func() [10]float64 {
	var c [10]float64
	x := math.Pi / 3
	term := x // (π/3)^(2n+1)/(2n+1)!
	for n := range c {
		c[n] = term
		if n%2 == 1 {
			c[n] = -term
		}
		term *= x * x / float64((2*n+2)*(2*n+3))
	}
	return c
}()

// sinThirdPi returns sin(π·s/3) for s ∈ [0, 1], within 3 ulps. The
// polynomial is evaluated by Estrin's scheme (a tree instead of Horner's
// chain) for a short dependency chain; every product meeting an addition is
// rounded on its own (no FMA), so the result is the same on every
// architecture.
func sinThirdPi(s float64) float64 {
	c := &sinThirdPiCoef
	z := s * s
	z2 := z * z
	z4 := z2 * z2
	z8 := z4 * z4
	e0 := c[0] + float64(c[1]*z)
	e1 := c[2] + float64(c[3]*z)
	e2 := c[4] + float64(c[5]*z)
	e3 := c[6] + float64(c[7]*z)
	e4 := c[8] + float64(c[9]*z)
	f0 := e0 + float64(z2*e1)
	f1 := e2 + float64(z2*e3)
	g0 := f0 + float64(z4*f1)
	return s * (g0 + float64(z8*e4))
}
