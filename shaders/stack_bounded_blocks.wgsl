// stack_bounded_blocks: stack_none_blocks with per-pixel rejection bounds,
// the combining pass of a winsor or kappa stack deeper than stack_reject's
// MAXN (the streamed-rejection rule of cpu.StackBand, cpu/doc.go). The
// bounds (lo, hi) come from stack_reject in BOUNDS mode, run on a subsample
// of the frames; here every frame's valid sample v is rejected low when
// v < lo, high when v > hi, and the kept ones are combined exactly as
// stack_none combines (same loop body, same helpers: shaders' tests check
// that they stay identical), block after block in frame order, so the
// result does not depend on the block size. ±Inf bounds keep every sample.
//
// The comparison is made on the exact value v.x + v.y of gain*x + offset
// (the CPU compares its float64 v), not on the rounded v.x alone.

// Workgroup size along x.
// @const WG: u32
// 0 = mean, 1 = min, 2 = max.
// @const COMBINE: u32

struct Params {
    pixels: u32,   // pixels in the band = len(dst)
    frames: u32,   // frames in this block
    stride_x: u32, // invocations per grid row = groups_x * WG (2-D dispatch)
    first: u32,    // index in frames[] of this block's first frame
    flags: u32,    // FIRST_BLOCK | LAST_BLOCK
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

// flags: the first block starts from empty accumulators instead of reading
// acc (which then holds garbage from an earlier band); the last one writes
// dst and kept instead of acc.
const FIRST_BLOCK: u32 = 1u;
const LAST_BLOCK: u32 = 2u;

struct Frame {
    gain: f32,
    offset: f32,
    weight: f32,
    one: f32, // 1.0, unknown to the compiler: see opaque()
}

// Acc is stack_none's per-pixel loop state.
struct Acc {
    swx: vec2<f32>, // Σ w v, leading parts
    swe: vec2<f32>, // Σ w v, trailing parts
    sw: vec2<f32>,  // Σ w
    sx: vec2<f32>,  // Σ v, for the all-weights-zero case
    sxe: f32,       // Σ v, trailing parts
    lo: f32,
    hi: f32,
    cnt: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;          // block, frame-major: src[k*pixels + j]
@group(0) @binding(1) var<storage, read> frames: array<Frame>;     // all N frames
@group(0) @binding(2) var<storage, read_write> acc: array<Acc>;    // pixels
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;    // pixels
@group(0) @binding(4) var<storage, read_write> kept: array<u32>;   // pixels
@group(0) @binding(5) var<storage, read> bounds: array<vec2<f32>>;        // pixels: (lo, hi)
@group(0) @binding(6) var<storage, read_write> rejected: array<vec2<u32>>; // pixels: (low, high) counts, running
@group(0) @binding(7) var<uniform> params: Params;

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

// below is v < b for the exact value v.x + v.y (v.x rounded to nearest, so
// |v.y| <= half an ulp of v.x): only v.x == b leaves the tail to decide. An
// infinite b (no bound) is tested through its bits: WGSL lets compilers
// assume that floats are finite, so a compare with −Inf is not trusted.
fn below(v: vec2<f32>, b: f32) -> bool {
    return finite(b) && (v.x < b || (v.x == b && v.y < 0.0));
}

// above is v > b, likewise.
fn above(v: vec2<f32>, b: f32) -> bool {
    return finite(b) && (v.x > b || (v.x == b && v.y > 0.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.pixels) {
        return;
    }
    let n = params.frames;
    let p = params.pixels;
    var a = Acc(vec2<f32>(0.0, 0.0), vec2<f32>(0.0, 0.0), vec2<f32>(0.0, 0.0), vec2<f32>(0.0, 0.0), 0.0, 0.0, 0.0, 0u);
    if ((params.flags & FIRST_BLOCK) == 0u) {
        a = acc[j];
    }
    var cnt = a.cnt;
    var swx = a.swx;
    var swe = a.swe;
    var sw = a.sw;
    var sx = a.sx;
    var sxe = a.sxe;
    var lo = a.lo;
    var hi = a.hi;
    var rej = vec2<u32>(0u, 0u);
    if ((params.flags & FIRST_BLOCK) == 0u) {
        rej = rejected[j];
    }
    let bd = bounds[j];
    // stack_none's loop, over this block's frames, with the bound test.
    for (var k = 0u; k < n; k = k + 1u) {
        let x = src[k * p + j];
        if (!finite(x)) {
            continue;
        }
        let f = frames[params.first + k];
        let v = normalise(f.gain, x, f.offset);
        if (below(v, bd.x)) {
            rej.x = rej.x + 1u;
            continue;
        }
        if (above(v, bd.y)) {
            rej.y = rej.y + 1u;
            continue;
        }
        if (COMBINE == 0u) {
            let w = split(f.weight);
            let vh = split(v.x);
            swx = add(swx, w.x * vh.x);
            swe = add(swe, (w.x * vh.y + w.y * vh.x + w.y * vh.y) + f.weight * v.y);
            sw = add(sw, f.weight);
            sx = add(sx, v.x);
            sxe = sxe + v.y;
        } else if (cnt == 0u) {
            lo = v.x;
            hi = v.x;
        } else {
            lo = min(lo, v.x);
            hi = max(hi, v.x);
        }
        cnt = cnt + 1u;
    }
    rejected[j] = rej;
    if ((params.flags & LAST_BLOCK) == 0u) {
        acc[j] = Acc(swx, swe, sw, sx, sxe, lo, hi, cnt);
        return;
    }
    // stack_none's ending.
    kept[j] = cnt;
    if (cnt == 0u) {
        dst[j] = bitcast<f32>(0x7fc00000u);
        return;
    }
    if (COMBINE == 1u) {
        dst[j] = lo;
    } else if (COMBINE == 2u) {
        dst[j] = hi;
    } else {
        if (sw.x + sw.y > 0.0) {
            dst[j] = div(vec2<f32>(swx.x, swx.y + (swe.x + swe.y)), sw);
        } else {
            dst[j] = div(vec2<f32>(sx.x, sx.y + sxe), vec2<f32>(f32(cnt), 0.0));
        }
    }
}
