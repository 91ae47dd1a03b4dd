// background: the twin of cpu.SubtractBackground for one plane, one invocation per pixel of
// a band of rows: dst = src − model(x, y), non-finite samples copied unchanged.
//
// cpu.BackgroundPoly.At is the definition. The model is a polynomial of degree d in
// u = x·su + ou and v = y·sv + ov, with float32 coefficients in cpu.BackgroundTerms order
// (row j = the terms u^i·v^j, i ascending). It is evaluated with the CPU's operations in the
// CPU's order: p_j by Horner in u (i from d−j down to 0: p = p·u + a), then b by Horner in v
// (b = b·v + p_j, j from d down to 0), then src − b. Every product and every addend passes
// through opaque() (an integer OR with a 0 the compiler cannot see, shaders/doc.go), so
// lavapipe can neither contract a product and an addition into an FMA nor reassociate the
// additions: the output equals the CPU's bit for bit. Samples travel as u32 bits, so NaN
// payloads are never touched.
//
// aux holds 1.0 (for opaque), su, ou, sv, ov, then the coefficients.

// Invocations per workgroup.
// @const WG: u32

struct Params {
    width: u32,    // pixels per row
    height: u32,   // rows of the whole image
    y0: u32,       // first output row of the band
    rows: u32,     // output rows in the band
    r0: u32,       // image row held by the first row of src (= y0: no halo)
    stride_x: u32, // invocations per grid row (2-D dispatch)
    degree: u32,   // d, 1…3
    pad0: u32,
    pad1: u32,
    pad2: u32,
    pad3: u32,
    pad4: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;       // f32 bits, the band's rows
@group(0) @binding(1) var<storage, read_write> dst: array<u32>; // f32 bits, the band's output
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> aux: array<f32>;       // 1.0, su, ou, sv, ov, coefficients

const COEFFS: u32 = 5u; // index of the first coefficient in aux

// @include aux_bits

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.width * params.rows) {
        return;
    }
    let s = src[j];
    if (!finite(s)) {
        dst[j] = s;
        return;
    }
    let x = j % params.width;
    let y = params.y0 + j / params.width;
    let u = opaque(f32(x) * aux[1]) + opaque(aux[2]);
    let v = opaque(f32(y) * aux[3]) + opaque(aux[4]);
    let d = params.degree;
    // Row j of the coefficients starts at Σ_{j' < j} (d − j' + 1); walk the rows from d down.
    var base = (d + 1u) * (d + 2u) / 2u;
    var b = 0.0;
    for (var r = 0u; r <= d; r = r + 1u) {
        let row = d - r;            // the power of v
        let n = d - row + 1u;       // terms in this row
        base = base - n;
        var q = aux[COEFFS + base + n - 1u];
        for (var k = 1u; k < n; k = k + 1u) {
            q = opaque(q * u) + opaque(aux[COEFFS + base + n - 1u - k]);
        }
        if (r == 0u) {
            b = q;
        } else {
            b = opaque(b * v) + opaque(q);
        }
    }
    dst[j] = bitcast<u32>(bitcast<f32>(s) - opaque(b));
}
