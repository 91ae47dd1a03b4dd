// stack_none_blocks: stack_none (Reject "none", Combine mean, min or max) with
// the frames arriving in blocks, one dispatch per block. Same function as
// cpu.StackBand with Reject "none" and, bit for bit, as stack_none on the
// same device: each pixel carries stack_none's loop state (the compensated
// sums, the count, min and max) in acc between dispatches, and every block
// runs stack_none's loop body unchanged on its frames, in frame order, so the
// sequence of floating-point operations per pixel is the same whatever the
// block size. The declarations come from include/blocks_state.wgsl (shared
// with stack_bounded_blocks) and the helpers from include/exact_f32.wgsl; the
// loop body is stack_none's (shaders' tests check that it stays identical):
// read the precision notes there.

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
@group(0) @binding(5) var<uniform> params: Params;

// @include exact_f32

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
    // stack_none's loop, over this block's frames.
    for (var k = 0u; k < n; k = k + 1u) {
        let x = src[k * p + j];
        if (!finite(x)) {
            continue;
        }
        let f = frames[params.first + k];
        let v = normalise(f.gain, x, f.offset);
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
