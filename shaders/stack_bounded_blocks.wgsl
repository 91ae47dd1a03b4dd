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

// @include blocks_state

@group(0) @binding(0) var<storage, read> src: array<f32>;          // block, frame-major: src[k*pixels + j]
@group(0) @binding(1) var<storage, read> frames: array<Frame>;     // all N frames
@group(0) @binding(2) var<storage, read_write> acc: array<Acc>;    // pixels
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;    // pixels
@group(0) @binding(4) var<storage, read_write> kept: array<u32>;   // pixels
@group(0) @binding(5) var<storage, read> bounds: array<vec2<f32>>;        // pixels: (lo, hi)
@group(0) @binding(6) var<storage, read_write> rejected: array<vec2<u32>>; // pixels: (low, high) counts, running
@group(0) @binding(7) var<uniform> params: Params;

// @include exact_f32

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
