// blocks_state: the declarations stack_none_blocks and stack_bounded_blocks share: the
// per-block parameters, the per-frame normalisation and weight, and Acc, stack_none's per-pixel
// loop state that a pixel carries between block dispatches.

struct Params {
    pixels: u32,   // pixels in the band = len(dst)
    frames: u32,   // frames in this block
    stride_x: u32, // invocations per grid row = groups_x * WG (2-D dispatch)
    first: u32,    // index in frames[] of this block's first frame
    flags: u32,    // FIRST_BLOCK | LAST_BLOCK
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

// flags: the first block starts from empty accumulators instead of reading
// acc (which then holds garbage from an earlier band); the last one writes
// dst and kept instead of acc.
const FIRST_BLOCK: u32 = 1u;
const LAST_BLOCK: u32 = 2u;

struct Frame {
    gain: f32,
    offset: f32,
    weight: f32,
    one: f32, // 1.0, unknown to the compiler: see opaque()
}

// Acc is stack_none's per-pixel loop state.
struct Acc {
    swx: vec2<f32>, // Σ w v, leading parts
    swe: vec2<f32>, // Σ w v, trailing parts
    sw: vec2<f32>,  // Σ w
    sx: vec2<f32>,  // Σ v, for the all-weights-zero case
    sxe: f32,       // Σ v, trailing parts
    lo: f32,
    hi: f32,
    cnt: u32,
}
