// stretch: the per-pixel part of cpu.StretchNRGBA, as a table lookup.
//
// cpu.StretchChannel maps a finite sample x to an 8-bit level through
// float64 arithmetic (normalise, asinh, round). That level is a
// non-decreasing function of x, so it is fully described by 255 thresholds:
// thr[c*256 + v-1] is the smallest float32 (as an order-preserving u32 key)
// whose level is at least v. compute/gpu finds them on the CPU by bisection
// with the CPU function itself; the kernel only counts the thresholds at or
// below the sample's key (a binary search, 8 steps). No float arithmetic
// runs here, so the output equals the CPU's byte for byte.
//
// thr[c*256 + 255] is 0xffffffff, above every finite key, so the count stops
// at 255; a flat channel has every threshold 0xffffffff (all levels 0).
// Non-finite samples give level 0 and clear alpha, as on the CPU.

// Invocations per workgroup.
// @const WG: u32
// 1 (mono, shown as grey) or 3 (RGB).
// @const CHANNELS: u32

struct Params {
    n: u32,        // pixels
    stride_x: u32, // invocations per grid row (2-D dispatch)
    off1: u32,     // element offset of channel 1 in src (channel 0 is at 0)
    off2: u32,     // element offset of channel 2
}

@group(0) @binding(0) var<storage, read> src: array<u32>;      // float32 bits, channel planes
@group(0) @binding(1) var<storage, read> thr: array<u32>;      // CHANNELS * 256 keys
@group(0) @binding(2) var<storage, read_write> dst: array<u32>; // RGBA bytes, little-endian
@group(0) @binding(3) var<uniform> params: Params;

fn finite(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

// level returns the 8-bit output of the finite sample with bits b in
// channel c: the number of thresholds at or below its key.
fn level(b: u32, c: u32) -> u32 {
    var k = b | 0x80000000u;
    if ((b & 0x80000000u) != 0u) {
        k = ~b;
    }
    let base = c * 256u;
    var pos = 0u;
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (thr[base + pos + s - 1u] <= k) {
            pos = pos + s;
        }
    }
    return pos;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.n) {
        return;
    }
    let b0 = src[j];
    var ok = finite(b0);
    var r = 0u;
    if (ok) {
        r = level(b0, 0u);
    }
    var g = r;
    var bl = r;
    if (CHANNELS == 3u) {
        let b1 = src[params.off1 + j];
        let b2 = src[params.off2 + j];
        g = 0u;
        bl = 0u;
        if (finite(b1)) {
            g = level(b1, 1u);
        } else {
            ok = false;
        }
        if (finite(b2)) {
            bl = level(b2, 2u);
        } else {
            ok = false;
        }
    }
    var a = 0u;
    if (ok) {
        a = 255u;
    }
    dst[j] = r | (g << 8u) | (bl << 16u) | (a << 24u);
}
