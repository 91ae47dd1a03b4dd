// hotpixel: the twin of cpu.HotPixels (5×5 median + k·σ rule of spec §1.2
// step 3, with the optional isolation guard), one invocation per pixel of a
// band of output rows.
//
// cpu.HotPixels is the definition; this kernel performs the same float32
// operations in the same order, so replacements and decisions are the CPU's
// bit for bit:
//   - the neighbourhood's finite samples, row-major, into a local array;
//   - μ = (Σ in order) · r(n), r(n) = float32(1/n) read from aux (no division:
//     WGSL's is 2.5-ulp accurate);
//   - σ² = max((Σ (y−μ)² in order) · r(n), floor), each square summed as the
//     exact products hi·hi, (2·hi)·lo, lo·lo of the 12-bit halves of y−μ, so
//     that multiply-add contraction (observed on lavapipe) cannot change it;
//   - the median after the same insertion sort as the CPU's;
//   - hot ⇔ d = x − med > 0, d·d > k²·σ² and, when g > 0, d > g·(y₂ − med).
// opaque() (an integer OR with 0 read from storage, see shaders/doc.go) keeps
// the compiler from reassociating around the roundings that matter.

// Invocations per workgroup.
// @const WG: u32

struct Params {
    width: u32,    // pixels per row
    height: u32,   // rows of the whole image
    y0: u32,       // first output row of the band
    rows: u32,     // output rows in the band
    r0: u32,       // image row held by the first row of src
    stride_x: u32, // invocations per grid row (2-D dispatch)
    step: u32,     // 1 (plain 5×5) or 2 (same CFA colour)
    k2: u32,       // f32 bits of float32(k²)
    g: u32,        // f32 bits of float32(isolation), 0 = off
    floor: u32,    // f32 bits of the σ² floor
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;       // f32 bits, source rows
@group(0) @binding(1) var<storage, read_write> dst: array<u32>; // f32 bits, output band
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> aux: array<f32>;       // [0] = 1.0, [n] = float32(1/n)

// @include aux_bits

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.width * params.rows) {
        return;
    }
    let x = i32(j % params.width);
    let y = i32(params.y0 + j / params.width);
    let w = i32(params.width);
    let h = i32(params.height);
    let r0 = i32(params.r0);
    let vb = src[u32(y - r0) * params.width + u32(x)];
    dst[j] = vb;
    if (!finite(vb)) {
        return;
    }
    let v = bitcast<f32>(vb);
    let s = i32(params.step);

    var win: array<f32, 25>;
    var m = 0u;
    for (var dy = -2; dy <= 2; dy = dy + 1) {
        let yy = y + s * dy;
        if (yy < 0 || yy >= h) {
            continue;
        }
        for (var dx = -2; dx <= 2; dx = dx + 1) {
            let xx = x + s * dx;
            if (xx < 0 || xx >= w) {
                continue;
            }
            let b = src[u32(yy - r0) * params.width + u32(xx)];
            if (finite(b)) {
                win[m] = bitcast<f32>(b);
                m = m + 1u;
            }
        }
    }
    let r = aux[m];

    var sum = 0.0;
    for (var i = 0u; i < m; i = i + 1u) {
        sum = sum + win[i];
    }
    let mu = opaque(sum * r);
    var ss = 0.0;
    for (var i = 0u; i < m; i = i + 1u) {
        let d = win[i] - mu;
        let hi = bitcast<f32>(bitcast<u32>(d) & 0xfffff000u);
        let lo = d - hi;
        ss = ss + hi * hi;
        ss = ss + (2.0 * hi) * lo;
        ss = ss + lo * lo;
    }
    let variance = max(opaque(ss * r), bitcast<f32>(params.floor));

    for (var i = 1u; i < m; i = i + 1u) {
        let t = win[i];
        var k = i;
        loop {
            if (k == 0u) {
                break;
            }
            if (!(win[k - 1u] > t)) {
                break;
            }
            win[k] = win[k - 1u];
            k = k - 1u;
        }
        win[k] = t;
    }
    var med: f32;
    if ((m & 1u) == 1u) {
        med = win[m / 2u];
    } else {
        med = opaque(win[m / 2u - 1u] * 0.5) + opaque(win[m / 2u] * 0.5);
    }
    let d = v - med;
    var hot = d > 0.0 && opaque(d * d) > opaque(bitcast<f32>(params.k2) * variance);
    let g = bitcast<f32>(params.g);
    if (hot && g > 0.0) {
        hot = m >= 2u && d > opaque(g * (win[m - 2u] - med));
    }
    if (hot) {
        dst[j] = bitcast<u32>(med);
    }
}
