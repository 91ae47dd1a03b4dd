// stack_none: per pixel of a row band, combine N frames without rejection.
// Same function as cpu.StackBand with Reject "none" (cpu/stack.go):
//   v_i = gain_i * x_i + offset_i for every finite x_i (NaN and ±Inf are no data),
//   mean: Σ w_i v_i / Σ w_i; if every valid sample has weight 0, the plain mean;
//   min / max: smallest / largest v_i;
//   kept = number of valid samples; no valid sample gives NaN with kept 0.
//
// Precision: the CPU accumulates in float64; WGSL has f32 only. Operands are
// split into 12-bit halves (by masking bits) so that every leading product is
// exact, gain*x + offset is kept as an unevaluated sum hi + lo, and every sum
// is a Neumaier-compensated pair. Exact products also make the result immune
// to multiply-add contraction, which Vulkan allows. The sums are accurate to
// about n * 2^-36 * sum|w v| at worst, and the division is corrected by its
// remainder: the mean is within about 1 ulp of the CPU's (measured on
// lavapipe: equal bit for bit on all but rare pixels, those 1 ulp off).
// compute/gpu's tests state and assert the bound against cpu.StackBand.

// Workgroup size along x.
// @const WG: u32
// 0 = mean, 1 = min, 2 = max.
// @const COMBINE: u32

struct Params {
    pixels: u32,   // pixels in the band = len(dst)
    frames: u32,   // N
    stride_x: u32, // invocations per grid row = groups_x * WG (2-D dispatch)
    pad: u32,
}

struct Frame {
    gain: f32,
    offset: f32,
    weight: f32,
    one: f32, // 1.0, unknown to the compiler: see opaque()
}

@group(0) @binding(0) var<storage, read> src: array<f32>;          // frame-major: src[i*pixels + j]
@group(0) @binding(1) var<storage, read> frames: array<Frame>;     // N entries
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;    // pixels
@group(0) @binding(3) var<storage, read_write> kept: array<u32>;   // pixels
@group(0) @binding(4) var<uniform> params: Params;

// @include exact_f32

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.pixels) {
        return;
    }
    let n = params.frames;
    let p = params.pixels;
    var cnt = 0u;
    var swx = vec2<f32>(0.0, 0.0); // Σ w v, leading parts
    var swe = vec2<f32>(0.0, 0.0); // Σ w v, trailing parts
    var sw = vec2<f32>(0.0, 0.0);  // Σ w
    var sx = vec2<f32>(0.0, 0.0);  // Σ v, for the all-weights-zero case
    var sxe = 0.0;                 // Σ v, trailing parts
    var lo = 0.0;
    var hi = 0.0;
    for (var i = 0u; i < n; i = i + 1u) {
        let x = src[i * p + j];
        if (!finite(x)) {
            continue;
        }
        let f = frames[i];
        let v = normalise(f.gain, x, f.offset);
        if (COMBINE == 0u) {
            // w*v = wh*vh + rest: the leading product is exact (12-bit
            // halves), the rest is about 2^-12 of it and goes to swe.
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
    kept[j] = cnt;
    if (cnt == 0u) {
        dst[j] = special(0x7fc00000u);
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
