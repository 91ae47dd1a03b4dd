// stack_reject: per pixel of a row band, sort the N frames' valid samples,
// reject outliers and combine the kept ones. Same function as cpu.StackBand
// (cpu/stack.go, stack_winsor.go, stack_kappa.go, stack_linear.go), step by
// step; read those files for the definitions. This kernel runs every Reject
// (none, winsor, kappa, linear) with every Combine (mean, min, max, median);
// compute/gpu uses stack_none instead for Reject none with mean, min or max,
// which needs no sort and has no frame limit.
//
// Per invocation the valid samples live in two private arrays of MAXN
// entries: sv holds v_i = gain_i*x_i + offset_i rounded to f32 (the CPU keeps
// it exact in float64) in ascending order, ties in frame order (a stable
// insertion while gathering, as cpu.sortPairs), and si the frame index of
// each (bit 31 marks a sample rejected by linear). Values needed exactly
// (mean, median of two) are recomputed from src as hi + lo pairs.
//
// Precision against the CPU's float64: the statistics (median, MAD, Huber's
// σ, std, line fit) are f32 with deviations taken from the median, whose
// leading subtractions are exact for samples within a factor 2 of it
// (Sterbenz), and divisions and square roots corrected by their exact
// residual (llvmpipe's f32 division is only ~2^-12 accurate). Thresholds thus
// carry a relative error of ~1e-6; only samples that close to a threshold can
// be judged differently, and Huber's 5e-4 convergence test can stop one
// iteration apart. The combination itself is exact-sum based (see stack_none):
// with the same kept set the value is within ~1 ulp of the CPU's.
// compute/gpu's tests state and assert the bounds.

// Workgroup size along x.
// @const WG: u32
// Capacity of the per-pixel sample arrays (frames per call at most).
// @const MAXN: u32
// 0 = none, 1 = winsor, 2 = kappa, 3 = linear.
// @const REJECT: u32
// 0 = mean, 1 = min, 2 = max, 3 = median.
// @const COMBINE: u32
// true: bounds mode (winsor or kappa only). Instead of combining, write the
// final rejection bounds of each pixel to dst as the pair (lo, hi) at
// dst[2j], dst[2j+1] (−Inf, +Inf when nothing was tested); kept and rej are
// left untouched. compute/gpu runs it on a subsample of the frames of a
// stack too deep for MAXN and streams all frames against the bounds
// (stack_bounded_blocks; cpu.RejectBounds is the reference).
// @const BOUNDS: bool

struct Params {
    pixels: u32,     // pixels in the band = len(dst)
    frames: u32,     // N <= MAXN
    stride_x: u32,   // invocations per grid row = groups_x * WG (2-D dispatch)
    iterations: u32, // StackOptions.Iterations
    kappa_low: f32,
    kappa_high: f32,
    pad0: u32,
    pad1: u32,
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
@group(0) @binding(4) var<storage, read_write> rej: array<u32>;    // pixels: low | high << 16
@group(0) @binding(5) var<uniform> params: Params;

const REJECTED: u32 = 0x80000000u;

var<private> sv: array<f32, MAXN>; // sorted samples
var<private> si: array<u32, MAXN>; // their frame index, | REJECTED
var<private> pj: u32;              // this invocation's pixel
// Final bounds for BOUNDS, as cpu.RejectBounds defines them: reject_winsor's
// last test that was applied or that rejected nothing (a test that would
// empty the run is not applied), reject_kappa's last test made; ±Inf while
// no test was made (set in main).
var<private> blo: f32;
var<private> bhi: f32;

// Constants of cpu/stack_winsor.go.
const MAD_TO_SIGMA: f32 = 1.4826;
const HUBER_CLIP: f32 = 2.0;
const HUBER_SCALE: f32 = 1.0422680;
const HUBER_REL_TOL: f32 = 5e-4;
const HUBER_MAX_ITER: u32 = 50u;
const MIN_KEEP: u32 = 3u; // winsorMinKeep = kappaMinKeep = linearMinKeep
const LINEAR_SIGMA_FLOOR: f32 = 1e-12;

// @include exact_f32

fn nan() -> f32 {
    return special(0x7fc00000u);
}

// fdiv is a / b rounded about once.
fn fdiv(a: f32, b: f32) -> f32 {
    if (b == 0.0) {
        return a / b;
    }
    return div(vec2<f32>(a, 0.0), vec2<f32>(b, 0.0));
}

// fsqrt is sqrt(v) with one Newton step on the exact residual v - s².
fn fsqrt(v: f32) -> f32 {
    let s = opaque(sqrt(v));
    if (!(s > 0.0) || !finite(s)) {
        return s;
    }
    let h = split(s);
    let r = ((v - h.x * h.x) - 2.0 * h.x * h.y) - h.y * h.y;
    return s + r / (2.0 * s);
}

// value returns sorted sample k as the exact hi + lo of its normalisation.
fn value(k: u32) -> vec2<f32> {
    let i = si[k] & ~REJECTED;
    let f = frames[i];
    return normalise(f.gain, src[i * params.pixels + pj], f.offset);
}

// half_sum is (a + b) / 2 rounded once (the CPU's 0.5*(a+b) in float64).
fn half_sum(a: f32, b: f32) -> f32 {
    let s = two_sum(a, b);
    return 0.5 * s.x + 0.5 * s.y;
}

// median of the sorted run sv[a:b] (b > a), as cpu.sortedMedian.
fn median(a: u32, b: u32) -> f32 {
    let n = b - a;
    let h = a + n / 2u;
    if (n % 2u == 1u) {
        return sv[h];
    }
    return half_sum(sv[h - 1u], sv[h]);
}

// mad is median(|sv[a:b] − m|) for the run's median m, by merging the
// deviations left of m (growing leftwards) and right of m (growing
// rightwards), the loop cpu.sortedMAD's bisection replaces.
fn mad(a: u32, b: u32, m: f32) -> f32 {
    let n = b - a;
    var p = a + n / 2u; // first index with sv[p] >= m
    while (p > a && sv[p - 1u] >= m) {
        p = p - 1u;
    }
    let k = (n - 1u) / 2u;
    var l = p; // next left candidate is sv[l-1]
    var r = p; // next right candidate is sv[r]
    var d1 = 0.0;
    var d2 = 0.0;
    for (var t = 0u; t <= k + 1u && t < n; t = t + 1u) {
        var d: f32;
        if (l > a && (r >= b || m - sv[l - 1u] <= sv[r] - m)) {
            d = m - sv[l - 1u];
            l = l - 1u;
        } else {
            d = sv[r] - m;
            r = r + 1u;
        }
        if (t == k) {
            d1 = d;
        } else {
            d2 = d;
        }
    }
    if (n % 2u == 1u) {
        return d1;
    }
    return 0.5 * (d1 + d2);
}

// pop_std is the population standard deviation of sv[a:b], two-pass, the
// sums taken around c (a sample of the run) to keep them small.
fn pop_std(a: u32, b: u32, c: f32) -> f32 {
    let n = f32(b - a);
    var s = vec2<f32>(0.0, 0.0);
    for (var k = a; k < b; k = k + 1u) {
        s = add(s, sv[k] - c);
    }
    let mean = fdiv(s.x + s.y, n) + c;
    var ss = vec2<f32>(0.0, 0.0);
    for (var k = a; k < b; k = k + 1u) {
        let d = sv[k] - mean;
        ss = add(ss, d * d);
    }
    return fsqrt(fdiv(ss.x + ss.y, n));
}

// huber_sigma is cpu.huberSigma: Huber's winsorized scale around the fixed
// centre m, iterated from sigma (> 0). The CPU reads the sums of the
// unclamped deviations from partial sums; here they are summed directly,
// clamped terms included, which is the same sum in another order.
fn huber_sigma(a: u32, b: u32, m: f32, sigma0: f32) -> f32 {
    let n = b - a;
    let inv = fdiv(1.0, f32(n));
    let bessel = fdiv(f32(n), f32(n - 1u));
    var sigma = sigma0;
    for (var it = 0u; it < HUBER_MAX_ITER; it = it + 1u) {
        let lo = m - HUBER_CLIP * sigma;
        let hi = m + HUBER_CLIP * sigma;
        let dl = lo - m;
        let dh = hi - m;
        var t1 = vec2<f32>(0.0, 0.0);
        var t2 = vec2<f32>(0.0, 0.0);
        for (var k = a; k < b; k = k + 1u) {
            let x = sv[k];
            var d = x - m;
            if (x < lo) {
                d = dl;
            } else if (x > hi) {
                d = dh;
            }
            t1 = add(t1, d);
            t2 = add(t2, d * d);
        }
        let mu = (t1.x + t1.y) * inv;
        let v = ((t2.x + t2.y) * inv - mu * mu) * bessel;
        let s_new = HUBER_SCALE * fsqrt(max(0.0, v));
        let conv = abs(s_new - sigma) <= HUBER_REL_TOL * sigma;
        sigma = s_new;
        if (conv || !(sigma > 0.0)) {
            break;
        }
    }
    return sigma;
}

// reject_winsor is cpu.rejectWinsor on the n sorted samples; it returns the
// kept run [a, b).
fn reject_winsor(n: u32) -> vec2<u32> {
    var a = 0u;
    var b = n;
    if (n < MIN_KEEP) {
        return vec2<u32>(a, b);
    }
    for (var it = 0u; it < params.iterations; it = it + 1u) {
        if (b - a < MIN_KEEP) {
            break;
        }
        let m = median(a, b);
        var sigma = MAD_TO_SIGMA * mad(a, b, m);
        if (!(sigma > 0.0)) {
            sigma = pop_std(a, b, m);
            if (!(sigma > 0.0)) {
                break;
            }
        }
        sigma = huber_sigma(a, b, m, sigma);
        if (!(sigma > 0.0)) {
            break;
        }
        let lo = m - params.kappa_low * sigma;
        let hi = m + params.kappa_high * sigma;
        var na = a;
        var nb = b;
        while (na < nb && sv[na] < lo) {
            na = na + 1u;
        }
        while (nb > na && sv[nb - 1u] > hi) {
            nb = nb - 1u;
        }
        if (na == nb) {
            // Not applied, so these bounds do not describe the kept run.
            break;
        }
        blo = lo;
        bhi = hi;
        if (na == a && nb == b) {
            break;
        }
        a = na;
        b = nb;
    }
    return vec2<u32>(a, b);
}

// reject_kappa is cpu.rejectKappa; it returns the kept run [a, b), which
// may be empty.
fn reject_kappa(n: u32) -> vec2<u32> {
    var a = 0u;
    var b = n;
    for (var it = 0u; it < params.iterations; it = it + 1u) {
        if (b - a < MIN_KEEP) {
            break;
        }
        let m = median(a, b);
        let sd = pop_std(a, b, m);
        if (!(sd > 0.0)) {
            // Every kept sample equals m: nothing to reject, and no test
            // (its bounds would collapse to [m, m]), as cpu.kappaClip.
            break;
        }
        let lo = m - params.kappa_low * sd;
        let hi = m + params.kappa_high * sd;
        var na = a;
        var nb = b;
        while (na < nb && sv[na] < lo) {
            na = na + 1u;
        }
        while (nb > na && sv[nb - 1u] > hi) {
            nb = nb - 1u;
        }
        blo = lo;
        bhi = hi;
        if (na == a && nb == b) {
            break;
        }
        a = na;
        b = nb;
    }
    return vec2<u32>(a, b);
}

// reject_linear is cpu.rejectLinear: a least-squares line over the ranks of
// the kept samples, values taken relative to the middle sample c. Rejected
// samples get the REJECTED bit; it returns (low, high).
fn reject_linear(n: u32) -> vec2<u32> {
    var cnt = n;
    var low = 0u;
    var high = 0u;
    if (n == 0u) {
        return vec2<u32>(0u, 0u);
    }
    let c = sv[(n - 1u) / 2u];
    for (var it = 0u; it < params.iterations; it = it + 1u) {
        if (cnt < MIN_KEEP) {
            break;
        }
        var sk = 0.0; // Σ rank: integers, exact
        var sy = vec2<f32>(0.0, 0.0);
        for (var k = 0u; k < n; k = k + 1u) {
            if ((si[k] & REJECTED) == 0u) {
                sk = sk + f32(k);
                sy = add(sy, sv[k] - c);
            }
        }
        let fc = f32(cnt);
        let mk = fdiv(sk, fc);
        let my = fdiv(sy.x + sy.y, fc);
        var sxx = vec2<f32>(0.0, 0.0);
        var sxy = vec2<f32>(0.0, 0.0);
        for (var k = 0u; k < n; k = k + 1u) {
            if ((si[k] & REJECTED) == 0u) {
                let dk = f32(k) - mk;
                sxx = add(sxx, dk * dk);
                sxy = add(sxy, dk * ((sv[k] - c) - my));
            }
        }
        let slope = fdiv(sxy.x + sxy.y, sxx.x + sxx.y);
        let icpt = my - slope * mk;
        var sad = vec2<f32>(0.0, 0.0);
        for (var k = 0u; k < n; k = k + 1u) {
            if ((si[k] & REJECTED) == 0u) {
                sad = add(sad, abs((sv[k] - c) - (icpt + slope * f32(k))));
            }
        }
        let sigma = fdiv(sad.x + sad.y, fc);
        if (sigma <= LINEAR_SIGMA_FLOOR * max(1.0, abs(my + c))) {
            break;
        }
        let lo = -params.kappa_low * sigma;
        let hi = params.kappa_high * sigma;
        var changed = false;
        for (var k = 0u; k < n; k = k + 1u) {
            if ((si[k] & REJECTED) != 0u) {
                continue;
            }
            let r = (sv[k] - c) - (icpt + slope * f32(k));
            if (r < lo) {
                low = low + 1u;
            } else if (r > hi) {
                high = high + 1u;
            } else {
                continue;
            }
            si[k] = si[k] | REJECTED;
            cnt = cnt - 1u;
            changed = true;
        }
        if (!changed) {
            break;
        }
    }
    return vec2<u32>(low, high);
}

// nth_kept returns the sorted position of the t-th kept sample of [a, b).
fn nth_kept(a: u32, b: u32, t: u32) -> u32 {
    var seen = 0u;
    for (var k = a; k < b; k = k + 1u) {
        if ((si[k] & REJECTED) == 0u) {
            if (seen == t) {
                return k;
            }
            seen = seen + 1u;
        }
    }
    return b - 1u; // unreachable for t < count
}

// combine reduces the cnt kept samples of [a, b) (not flagged REJECTED), as
// cpu.combineRange / combineSorted. cnt > 0.
fn combine(a: u32, b: u32, cnt: u32) -> f32 {
    if (COMBINE == 1u) {
        return sv[nth_kept(a, b, 0u)];
    }
    if (COMBINE == 2u) {
        return sv[nth_kept(a, b, cnt - 1u)];
    }
    if (COMBINE == 3u) {
        if (cnt % 2u == 1u) {
            return sv[nth_kept(a, b, cnt / 2u)];
        }
        let u = value(nth_kept(a, b, cnt / 2u - 1u));
        let w = value(nth_kept(a, b, cnt / 2u));
        let s = two_sum(u.x, w.x);
        return 0.5 * s.x + 0.5 * (s.y + (u.y + w.y));
    }
    // Mean: the exact-product compensated sums of stack_none over the kept
    // samples (in sorted order; the CPU's frame order gives the same value up
    // to the final rounding).
    var swx = vec2<f32>(0.0, 0.0);
    var swe = vec2<f32>(0.0, 0.0);
    var sw = vec2<f32>(0.0, 0.0);
    var sx = vec2<f32>(0.0, 0.0);
    var sxe = 0.0;
    for (var k = a; k < b; k = k + 1u) {
        if ((si[k] & REJECTED) != 0u) {
            continue;
        }
        let v = value(k);
        let wt = frames[si[k]].weight;
        let w = split(wt);
        let vh = split(v.x);
        swx = add(swx, w.x * vh.x);
        swe = add(swe, (w.x * vh.y + w.y * vh.x + w.y * vh.y) + wt * v.y);
        sw = add(sw, wt);
        sx = add(sx, v.x);
        sxe = sxe + v.y;
    }
    if (sw.x + sw.y > 0.0) {
        return div(vec2<f32>(swx.x, swx.y + (swe.x + swe.y)), sw);
    }
    return div(vec2<f32>(sx.x, sx.y + sxe), vec2<f32>(f32(cnt), 0.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x + gid.y * params.stride_x;
    if (j >= params.pixels) {
        return;
    }
    pj = j;
    blo = special(0xff800000u); // −Inf
    bhi = special(0x7f800000u); // +Inf
    let p = params.pixels;
    // Gather and sort: insert each valid sample after the equal ones already
    // there, so ties stay in frame order.
    var n = 0u;
    for (var i = 0u; i < params.frames; i = i + 1u) {
        let x = src[i * p + j];
        if (!finite(x)) {
            continue;
        }
        let f = frames[i];
        let v = normalise(f.gain, x, f.offset).x;
        var k = n;
        while (k > 0u && sv[k - 1u] > v) {
            sv[k] = sv[k - 1u];
            si[k] = si[k - 1u];
            k = k - 1u;
        }
        sv[k] = v;
        si[k] = i;
        n = n + 1u;
    }
    var a = 0u;
    var b = n;
    var low = 0u;
    var high = 0u;
    if (REJECT == 1u) {
        let r = reject_winsor(n);
        a = r.x;
        b = r.y;
        low = a;
        high = n - b;
    } else if (REJECT == 2u) {
        let r = reject_kappa(n);
        a = r.x;
        b = r.y;
        low = a;
        high = n - b;
    } else if (REJECT == 3u) {
        let r = reject_linear(n);
        low = r.x;
        high = r.y;
    }
    if (BOUNDS) {
        dst[2u * j] = blo;
        dst[2u * j + 1u] = bhi;
        return;
    }
    let cnt = n - low - high;
    kept[j] = cnt;
    rej[j] = low | (high << 16u);
    if (cnt == 0u) {
        dst[j] = nan();
        return;
    }
    dst[j] = combine(a, b, cnt);
}
