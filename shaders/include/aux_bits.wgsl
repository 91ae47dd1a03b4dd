// aux_bits: helpers of the per-pixel preprocessing kernels that read a storage array
// `aux` whose element 0 is 1.0 (hotpixel, background).

// finite tests f32 bits: NaN and ±Inf have an all-ones exponent (self-comparison is folded away).
fn finite(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

// opaque returns x unchanged through an integer OR with 0 that the compiler cannot see
// (aux[0] is 1.0, read from storage), so it cannot fuse or reorder the arithmetic around it.
fn opaque(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | (bitcast<u32>(aux[0]) ^ 0x3f800000u));
}
