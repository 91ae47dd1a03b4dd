// debayer: the twin of cpu.Debayer (bilinear demosaic in float32), one
// invocation per pixel of a band of output rows, writing R, G and B planes.
//
// cpu.Debayer is the definition. Each channel value is the average of a fixed
// list of same-colour pixels, finite ones only, in the CPU's order, with the
// CPU's arithmetic: a, (a+b)*0.5, ((a+b)+c)*float32(1/3), ((a+b)+(c+d))*0.25.
// No product feeds an addition, so multiply-add contraction cannot change a
// result, and there is no division (WGSL's is 2.5-ulp accurate): the output
// equals the CPU's bit for bit. Samples travel as u32 bits, so NaN payloads
// are never touched and NaN is recognised by its exponent bits.
//
// Edges mirror about the border pixel (index -1 reads 1); positions still
// outside after mirroring are skipped. The band's source rows [r0, r0+nrows)
// hold every row the band reads (2 rows of halo, mirrored rows included).

// Invocations per workgroup.
// @const WG: u32

struct Params {
    width: u32,    // pixels per row
    height: u32,   // rows of the whole image (for mirroring)
    y0: u32,       // first output row of the band
    rows: u32,     // output rows in the band
    r0: u32,       // image row held by the first row of src
    stride_x: u32, // invocations per grid row (2-D dispatch)
    cells: u32,    // channel (0 R, 1 G, 2 B) of cell (x&1, y&1) in bits 2*((y&1)*2+(x&1))
    pad0: u32,
    pad1: u32,
    pad2: u32,
    pad3: u32,
    pad4: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;       // f32 bits, source rows
@group(0) @binding(1) var<storage, read_write> dst: array<u32>; // f32 bits, 3 planes of the band
@group(0) @binding(2) var<uniform> params: Params;

const NAN_BITS: u32 = 0x7fc00000u;   // float32(math.NaN()) on the CPU
const THIRD_BITS: u32 = 0x3eaaaaabu; // float32(1.0/3.0)

var<private> acc: array<f32, 4>;
var<private> cnt: u32;

fn finite(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

fn colour(x: i32, y: i32) -> u32 {
    let k = u32(((y & 1) << 1u) | (x & 1));
    return (params.cells >> (2u * k)) & 3u;
}

fn mirror(i: i32, n: i32) -> i32 {
    var k = i;
    if (k < 0) {
        k = -k;
    } else if (k >= n) {
        k = 2 * n - 2 - k;
    }
    if (k < 0 || k >= n) {
        return -1;
    }
    return k;
}

// take appends pixel (x, y), mirrored, when it exists and is finite.
fn take(x: i32, y: i32) {
    let xx = mirror(x, i32(params.width));
    let yy = mirror(y, i32(params.height));
    if (xx < 0 || yy < 0) {
        return;
    }
    let b = src[u32(yy - i32(params.r0)) * params.width + u32(xx)];
    if (finite(b)) {
        acc[cnt] = bitcast<f32>(b);
        cnt = cnt + 1u;
    }
}

// average returns the bits of the average of what take collected.
fn average() -> u32 {
    let n = cnt;
    cnt = 0u;
    if (n == 1u) {
        return bitcast<u32>(acc[0]);
    } else if (n == 2u) {
        return bitcast<u32>((acc[0] + acc[1]) * 0.5);
    } else if (n == 3u) {
        return bitcast<u32>((acc[0] + acc[1] + acc[2]) * bitcast<f32>(THIRD_BITS));
    } else if (n == 4u) {
        return bitcast<u32>(((acc[0] + acc[1]) + (acc[2] + acc[3])) * 0.25);
    }
    return NAN_BITS;
}

fn axes1(x: i32, y: i32) {
    take(x, y - 1);
    take(x - 1, y);
    take(x + 1, y);
    take(x, y + 1);
}

fn diag(x: i32, y: i32) {
    take(x - 1, y - 1);
    take(x + 1, y - 1);
    take(x - 1, y + 1);
    take(x + 1, y + 1);
}

fn axes2(x: i32, y: i32) {
    take(x, y - 2);
    take(x - 2, y);
    take(x + 2, y);
    take(x, y + 2);
}

// channel returns the bits of channel c at (x, y), whose own colour is site.
fn channel(x: i32, y: i32, site: u32, c: u32) -> u32 {
    if (c == site) {
        let b = src[u32(y - i32(params.r0)) * params.width + u32(x)];
        if (finite(b)) {
            return b;
        }
        if (c == 1u) {
            diag(x, y);
        } else {
            axes2(x, y);
        }
    } else if (site != 1u && c == 1u) {
        axes1(x, y);
    } else if (site != 1u) {
        diag(x, y);
    } else if (colour(x + 1, y) == c) {
        take(x - 1, y);
        take(x + 1, y);
    } else {
        take(x, y - 1);
        take(x, y + 1);
    }
    return average();
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    let n = params.width * params.rows;
    if (j >= n) {
        return;
    }
    let x = i32(j % params.width);
    let y = i32(params.y0 + j / params.width);
    cnt = 0u;
    let site = colour(x, y);
    dst[j] = channel(x, y, site, 0u);
    dst[n + j] = channel(x, y, site, 1u);
    dst[2u * n + j] = channel(x, y, site, 2u);
}
