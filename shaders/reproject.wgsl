// reproject: the per-pixel function of cpu.Reproject (cpu/reproject.go, reprojectPixel) and of
// cpu.CoordGrid.At, in float32.
//
// Coordinates: the grid is uploaded with its ghost samples (Keys' boundary extrapolation,
// computed on the CPU in float64) as (xhi, xlo, yhi, ylo) with hi + lo the float64 sample, so
// that At is evaluated relative to the cell's base sample: c = base + Σ w·(s − base). Only the
// small differences meet the f32 weights, so the coordinate error is ~1e-7 of the sample
// spacing in pixels, not of the coordinate itself. The coordinate is carried as floor(base.hi)
// plus a fraction; a fraction within SNAP of an integer is snapped to it (the CPU's float64
// coordinate is exact there for the grids that matter, and a tiny non-zero weight would let a
// NaN neighbour poison the pixel).
//
// Values: kernel weights and the weighted sum are f32 (the CPU sums in float64), rows outer,
// taps with weight 0 skipped, any other non-finite tap → NaN, as on the CPU.
//
// Rows: src holds rows r0…r0+nrows−1 of an image src_h rows tall, and coordinates are in the
// whole image: the footprint test, the weights and the clamping of taps to the image use
// whole-image rows, and only the index into src subtracts r0 (cpu.ReprojectOptions.SrcRow0).
// A tap row with a non-zero weight outside the uploaded rows makes the pixel NaN and is
// recorded in fault (the lowest such row), which the host turns into a retry or an error;
// every row is tested before any is read, so the record does not depend on the data.

// Invocations per workgroup.
// @const WG: u32
// 0 bilinear, 1 bicubic (Keys −0.5), 2 lanczos3.
// @const INTERP: u32

struct Params {
    out_w: u32,    // output width
    rows: u32,     // band rows
    y0: u32,       // first output row of the band
    stride_x: u32, // invocations per grid row (2-D dispatch)
    nx: u32,       // grid samples per row (without ghosts)
    ny: u32,       // grid rows (without ghosts)
    step: u32,     // grid step in output pixels
    inv_step: f32, // 1/step, correctly rounded on the CPU
    src_w: u32,    // input width
    src_h: u32,    // input height
    r0: u32,       // first input row uploaded in src
    nrows: u32,    // input rows uploaded
}

@group(0) @binding(0) var<storage, read> src: array<u32>;        // f32 bits, rows r0…r0+nrows−1
@group(0) @binding(1) var<storage, read> grid: array<vec4<f32>>; // (nx+2)·(ny+2) samples, ghosts included
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> fault: array<atomic<u32>>; // 1 element, 0xffffffff = none

// Fractions closer than this to an integer are snapped to it (2^-16 px).
const SNAP: f32 = 1.52587890625e-5;

// special returns the f32 with bit pattern b (see include/exact_f32.wgsl: Tint rejects NaN constants).
fn special(b: u32) -> f32 {
    var v = b;
    return bitcast<f32>(v);
}

fn finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// keys returns the Keys (a = −0.5) weights of the taps −1, 0, 1, 2 (cpu.keysWeights).
fn keys(t: f32) -> vec4<f32> {
    return vec4<f32>(
        ((-0.5 * t + 1.0) * t - 0.5) * t,
        (1.5 * t - 2.5) * t * t + 1.0,
        ((-1.5 * t + 2.0) * t + 0.5) * t,
        (0.5 * t - 0.5) * t * t,
    );
}

// gs returns grid sample (i, j), i ∈ [−1, nx], j ∈ [−1, ny] (ghosts at −1 and n).
fn gs(i: i32, j: i32) -> vec4<f32> {
    return grid[u32(j + 1) * (params.nx + 2u) + u32(i + 1)];
}

// diff returns sample g minus base for x and y, from their hi/lo parts.
fn diff(g: vec4<f32>, base: vec4<f32>) -> vec2<f32> {
    return vec2<f32>((g.x - base.x) + (g.y - base.y), (g.z - base.z) + (g.w - base.w));
}

fn ok4(g: vec4<f32>) -> bool {
    return finite(g.x) && finite(g.z);
}

// rcp returns 1/a refined twice by Newton: WGSL division may be as coarse as 2^-12 (llvmpipe).
fn rcp(a: f32) -> f32 {
    var r = 1.0 / a;
    r = r * (2.0 - a * r);
    return r * (2.0 - a * r);
}

// sinpi returns sin(π·x) for x ∈ [−1, 1] by a Taylor polynomial on [−½, ½] (error < 1e-7):
// the built-in sin need only be 2^-11 accurate.
fn sinpi(x0: f32) -> f32 {
    var x = x0;
    if (x > 0.5) {
        x = 1.0 - x;
    } else if (x < -0.5) {
        x = -1.0 - x;
    }
    let y = 3.14159265358979 * x;
    let y2 = y * y;
    var p = 1.0 - y2 * (1.0 / 156.0);
    p = 1.0 - y2 * (1.0 / 110.0) * p;
    p = 1.0 - y2 * (1.0 / 72.0) * p;
    p = 1.0 - y2 * (1.0 / 42.0) * p;
    p = 1.0 - y2 * (1.0 / 20.0) * p;
    p = 1.0 - y2 * (1.0 / 6.0) * p;
    return y * p;
}

// Taps per axis and offset of the first tap from floor(coordinate).
fn ntaps() -> i32 {
    if (INTERP == 0u) {
        return 2;
    }
    if (INTERP == 1u) {
        return 4;
    }
    return 6;
}

// weights returns the per-axis weights for fraction t ∈ [0, 1) (cpu.kernelWeights).
fn weights(t: f32) -> array<f32, 6> {
    var w = array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    if (INTERP == 0u) {
        w[0] = 1.0 - t;
        w[1] = t;
        return w;
    }
    if (INTERP == 1u) {
        let k = keys(t);
        w[0] = k.x;
        w[1] = k.y;
        w[2] = k.z;
        w[3] = k.w;
        return w;
    }
    if (t == 0.0) {
        w[2] = 1.0;
        return w;
    }
    // cpu.lanczos3Weights: tap k at x = t+2−k has sin(πx) = (−1)^k·sin(πt), a factor that cancels
    // in the normalisation with 3/π², and sin(πx/3) ∈ {B, A+B, A, −B, −(A+B), −A} with
    // A = sin(πt/3), B = sin(π(1−t)/3): w_k ∝ s_k/x_k², s = (B, −(A+B), A, B, −(A+B), A).
    let u = 1.0 - t;
    let a = sinpi(t * (1.0 / 3.0));
    let b = sinpi(u * (1.0 / 3.0));
    let c = a + b;
    w[0] = b * rcp((t + 2.0) * (t + 2.0));
    w[1] = -c * rcp((t + 1.0) * (t + 1.0));
    w[2] = a * rcp(t * t);
    w[3] = b * rcp(u * u);
    w[4] = -c * rcp((2.0 - t) * (2.0 - t));
    w[5] = a * rcp((3.0 - t) * (3.0 - t));
    let inv = rcp(w[0] + w[1] + w[2] + w[3] + w[4] + w[5]);
    for (var k = 0; k < 6; k++) {
        w[k] = w[k] * inv;
    }
    return w;
}

// Coord is one input coordinate as integer part + fraction in [0, 1).
struct Coord {
    i: i32,
    t: f32,
}

// split turns base (an f32 hi part) plus the rest r into integer and fraction.
fn split_coord(base_hi: f32, r: f32) -> Coord {
    let b = floor(base_hi);
    var f = (base_hi - b) + r;
    let n = round(f);
    if (abs(f - n) < SNAP) {
        f = n;
    }
    let fl = floor(f);
    return Coord(i32(b) + i32(fl), f - fl);
}

// inside is cpu's footprint test −0.5 ≤ c ≤ n − 0.5 on the split coordinate.
fn inside(c: Coord, n: u32) -> bool {
    let last = i32(n) - 1;
    return (c.i >= 0 || (c.i == -1 && c.t >= 0.5)) && (c.i < last || (c.i == last && c.t <= 0.5));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x + gid.y * params.stride_x;
    if (p >= params.out_w * params.rows) {
        return;
    }
    let nan = special(0x7fc00000u);
    let x = p % params.out_w;
    let y = params.y0 + p / params.out_w;

    // CoordGrid.At.
    let i0 = min(x / params.step, params.nx - 2u);
    let j0 = min(y / params.step, params.ny - 2u);
    let tx = f32(x - i0 * params.step) * params.inv_step;
    let ty = f32(y - j0 * params.step) * params.inv_step;
    let ii = i32(i0);
    let jj = i32(j0);
    let base = gs(ii, jj);
    // Coordinates beyond ±2^24 px cannot be split into i32 + fraction: off every image.
    if (!ok4(base) || abs(base.x) > 16777216.0 || abs(base.z) > 16777216.0) {
        dst[p] = nan;
        return;
    }
    let wx = keys(tx);
    let wy = keys(ty);
    var ok = true;
    var acc = vec2<f32>(0.0, 0.0);
    // Down each sample column first, then across, as cpu.CoordGrid.At.
    for (var k = 0; k < 4; k++) {
        var s = vec2<f32>(0.0, 0.0);
        for (var b = 0; b < 4; b++) {
            let g = gs(ii - 1 + k, jj - 1 + b);
            ok = ok && ok4(g);
            s += wy[b] * diff(g, base);
        }
        acc += wx[k] * s;
    }
    if (!ok) {
        // Bilinear fallback on the 4 nearest samples.
        let g10 = gs(ii + 1, jj);
        let g01 = gs(ii, jj + 1);
        let g11 = gs(ii + 1, jj + 1);
        if (!ok4(g10) || !ok4(g01) || !ok4(g11)) {
            dst[p] = nan;
            return;
        }
        let r0 = tx * diff(g10, base);
        let r1 = (1.0 - tx) * diff(g01, base) + tx * diff(g11, base);
        acc = (1.0 - ty) * r0 + ty * r1;
    }
    let cx = split_coord(base.x, base.y + acc.x);
    let cy = split_coord(base.z, base.w + acc.y);
    if (!inside(cx, params.src_w) || !inside(cy, params.src_h)) {
        dst[p] = nan;
        return;
    }

    // reprojectPixel.
    let n = ntaps();
    var lo = 0;
    if (INTERP == 1u) {
        lo = -1;
    } else if (INTERP == 2u) {
        lo = -2;
    }
    let kx = weights(cx.t);
    let ky = weights(cy.t);
    let w = i32(params.src_w);
    let r0 = i32(params.r0);
    let r1 = r0 + i32(params.nrows);
    for (var b = 0; b < n; b++) {
        let j = clamp(cy.i + lo + b, 0, i32(params.src_h) - 1);
        if (ky[b] != 0.0 && (j < r0 || j >= r1)) {
            atomicMin(&fault[0], u32(j));
            dst[p] = nan;
            return;
        }
    }
    var sum = 0.0;
    for (var b = 0; b < n; b++) {
        if (ky[b] == 0.0) {
            continue;
        }
        let j = clamp(cy.i + lo + b, 0, i32(params.src_h) - 1) - r0;
        var s = 0.0;
        for (var a = 0; a < n; a++) {
            if (kx[a] == 0.0) {
                continue;
            }
            let i = clamp(cx.i + lo + a, 0, w - 1);
            let v = bitcast<f32>(src[u32(j) * params.src_w + u32(i)]);
            if (!finite(v)) {
                dst[p] = nan;
                return;
            }
            s += kx[a] * v;
        }
        sum += ky[b] * s;
    }
    dst[p] = sum;
}
