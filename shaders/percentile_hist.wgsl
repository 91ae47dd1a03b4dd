// percentile_hist: one pass of the exact radix select behind
// gpu.Percentiles (same result as cpu.Percentiles, see compute/gpu).
//
// Every finite float32 maps to an order-preserving u32 key (negative values
// have every bit flipped, others the sign bit set; −0 counts as +0, so that
// equal values share one key). A pass counts, for each of `count` prefixes,
// the keys whose bits above the current digit equal that prefix, in 256
// bins of the digit (key >> shift) & 255. Four passes (shift 24, 16, 8, 0)
// pin down the exact key of any rank; the host picks the bins between
// passes. NaN and ±Inf are no data and are never counted.
//
// The input is read as u32 bits: no float operation touches it, so denormals
// cannot be flushed and the result is exact on any device.
//
// Each workgroup counts into its own histograms in workgroup memory and adds
// the non-zero bins to the global ones once (privatisation: far fewer
// contended global atomics on images whose samples share a few bins).
// Needs storage and workgroup atomics: wgpu's software interpreter gets
// both wrong, lavapipe and real GPUs do not.

// Invocations per workgroup.
// @const WG: u32
// Elements each invocation reads (consecutive invocations read consecutive
// elements, PER times, WG apart).
// @const PER: u32
// Bins of workgroup memory: 256 per prefix slot.
// @const BINS: u32

struct Params {
    n: u32,        // elements in the bound segment
    stride_x: u32, // invocations per grid row (2-D dispatch)
    shift: u32,    // digit = (key >> shift) & 255
    mask: u32,     // key bits above the digit, compared with the prefixes
    count: u32,    // prefixes in use, count * 256 <= BINS
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read> bits_in: array<u32>;       // float32 bits
@group(0) @binding(1) var<storage, read> prefixes: array<u32>;      // count entries, distinct
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>; // count * 256
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> local: array<atomic<u32>, BINS>;

// key maps float bits to an unsigned key in numeric order.
fn key(b: u32) -> u32 {
    var x = b;
    if (x == 0x80000000u) {
        x = 0u; // −0 is +0
    }
    if ((x & 0x80000000u) != 0u) {
        return ~x;
    }
    return x | 0x80000000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let t = gid.x + gid.y * params.stride_x;
    let base = (t - lid) * PER; // first element of this workgroup
    let count = params.count;
    var m = 0u;
    var slot = 0u;
    for (var i = 0u; i < PER; i = i + 1u) {
        let j = base + i * WG + lid;
        if (j < params.n) {
            let b = bits_in[j];
            if ((b & 0x7f800000u) != 0x7f800000u) {
                let k = key(b);
                let d = (k >> params.shift) & 255u;
                let km = k & params.mask;
                // The matching slot first, then one atomic outside the
                // loop. m and slot are declared at function scope: with
                // `for (var m = 0u; ...)` nested in the outer loop, counts
                // were lost on lavapipe (naga v0.18.0), as if m were
                // initialised once, not on each outer iteration.
                slot = count;
                m = 0u;
                loop {
                    if (m >= count) {
                        break;
                    }
                    if (km == prefixes[m]) {
                        slot = m;
                    }
                    m = m + 1u;
                }
                if (slot < count) {
                    atomicAdd(&local[slot * 256u + d], 1u);
                }
            }
        }
    }
    workgroupBarrier();
    for (var i = lid; i < count * 256u; i = i + WG) {
        let c = atomicLoad(&local[i]);
        if (c != 0u) {
            atomicAdd(&hist[i], c);
        }
    }
}
