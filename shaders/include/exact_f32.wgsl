// exact_f32: error-free float32 helpers shared by the stacking kernels (included with
// `// @include exact_f32`; WGSL has no imports). They make the GPU reproduce the CPU's float64
// frame-order sums bit for bit on the drivers tested: see shaders/doc.go.
//
// The including kernel must declare `frames: array<Frame>` with a field `one: f32` holding 1.0
// (read from storage, so the compiler cannot see it): opaque() needs it.

// special returns the f32 with bit pattern b (NaN, ±Inf). The pattern passes through a
// function variable because Chrome's WGSL compiler (Tint) rejects a constant expression that
// evaluates to NaN or Inf ("value nan cannot be represented as 'f32'"); naga accepts it, so
// native tests alone would never notice.
fn special(b: u32) -> f32 {
    var v = b;
    return bitcast<f32>(v);
}

// finite tests the exponent bits: x != x is compiled to an ordered compare
// by naga and is always false.
fn finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// opaque returns x unchanged, through an integer OR with a 0 the compiler
// cannot see (the bits of the runtime 1.0 read from storage, minus those of
// 1.0). Shader compilers treat float arithmetic as algebra unless told
// otherwise (Mesa's NIR folds (a + b) - a to b; WGSL cannot mark an operation
// exact), which turns every error-free transformation below into 0. Float
// algebra does not cross an integer operation. A multiplication by that 1.0
// was used first: Mesa still reassociated around it (measured on lavapipe:
// one mean in five 1 ulp off, medians of two losing their correction), while
// with the OR the tests' pixels match the CPU bit for bit. The 1.0 comes
// from a storage buffer: llvmpipe inlines uniform-buffer values as constants.
fn opaque(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | (bitcast<u32>(frames[0].one) ^ 0x3f800000u));
}

// Neumaier summation: acc.x is the running sum, acc.y the lost low-order part.
fn add(acc: vec2<f32>, x: f32) -> vec2<f32> {
    let t = opaque(acc.x + x);
    var c = acc.y;
    if (abs(acc.x) >= abs(x)) {
        c = c + ((acc.x - t) + x);
    } else {
        c = c + ((x - t) + acc.x);
    }
    return vec2<f32>(t, c);
}

// split returns (hi, lo) with hi + lo == a exactly and 12 significant bits in
// each, so that products of halves are exact in f32. Masking bits instead of
// Veltkamp's 4097*a trick keeps it immune to multiply-add contraction.
fn split(a: f32) -> vec2<f32> {
    let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    return vec2<f32>(hi, a - hi);
}

// two_sum returns (s, e) with s = fl(a+b) and s + e == a + b exactly.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = opaque(a + b);
    let bb = opaque(s - a);
    return vec2<f32>(s, opaque(a - opaque(s - bb)) + opaque(b - bb));
}

// normalise returns gain*x + offset as hi + lo with hi correctly rounded
// (but within ~2^-48 relative of a tie). gain*x is the sum of four exact
// half-products; all of them and the offset are added with error-free
// two_sums, so even when gain*x and offset cancel (a sky-subtracted pixel
// near 0) no rounding of the large terms reaches the result. Since every
// product is exact, a compiler contracting a*b+c into fma (allowed by
// Vulkan, observed on lavapipe) cannot change any result.
fn normalise(gain: f32, x: f32, offset: f32) -> vec2<f32> {
    let g = split(gain);
    let h = split(x);
    let p = two_sum(g.x * h.x, offset);
    let t = two_sum(g.x * h.y, g.y * h.x);
    let u = two_sum(t.x, g.y * h.y);
    let w = two_sum(p.y, u.x);
    let r = two_sum(p.x, w.x);
    // r.x + r.y + w.y + u.y + t.y == gain*x + offset exactly; the tail is
    // below ulp(r.x), so its own rounding is negligible.
    let tail = r.y + (w.y + (u.y + t.y));
    let hi = opaque(r.x + tail);
    return vec2<f32>(hi, tail - (hi - r.x));
}

// residual returns n - q*d for n = nn.x + nn.y, d = dd.x + dd.y, with
// q*dd.x formed from exact half-products; when q is close to n/d the leading
// subtraction is exact (Sterbenz), so the result is accurate to ~2^-24 of itself.
fn residual(nn: vec2<f32>, dd: vec2<f32>, q: f32) -> f32 {
    let qs = split(q);
    let ds = split(dd.x);
    return (((nn.x - qs.x * ds.x) - (qs.x * ds.y + qs.y * ds.x)) - qs.y * ds.y) + nn.y - q * dd.y;
}

// div returns (n.x + n.y) / (d.x + d.y) rounded about once. WGSL division
// may be approximate (Vulkan allows 2.5 ulp; llvmpipe is ~2^-12 relative),
// so the first quotient is corrected twice by its exact remainder, as in
// double-float division.
fn div(n: vec2<f32>, d: vec2<f32>) -> f32 {
    let nn = two_sum(n.x, n.y);
    let dd = two_sum(d.x, d.y);
    let q0 = opaque(nn.x / dd.x);
    let q1 = opaque(q0 + residual(nn, dd, q0) / dd.x);
    return q1 + residual(nn, dd, q1) / dd.x;
}
