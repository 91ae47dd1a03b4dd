// Package cpu holds the pure-Go pixel kernels of zmosaic: per-pixel stacking with
// rejection (winsorized sigma clip, kappa-sigma, linear-fit clip) and combination
// (mean, median, min, max), whole-frame statistics (NaN-aware percentiles,
// sigma-clipped statistics, normalisation coefficients, noise weights), the
// 8-bit preview stretch, the preprocessing of raw frames (bilinear debayer in
// float, hot-pixel correction), and the mosaic's pieces: reprojection (bilinear,
// bicubic, Lanczos-3 over an interpolated coordinate grid), coadd accumulation
// with edge feathering (exact Euclidean distance transform) and the
// photometric least-squares solve between overlapping tiles.
//
// These kernels are the normative reference: the WGSL compute shaders in
// package shaders must compute the same functions, and a difference between
// the two is a bug in one of them. Scheduling, chunking and memory budgets
// belong to package compute; reading pixels belongs to astro/fits.
//
// # NaN and validity
//
// A sample is valid when it is finite. NaN (and ±Inf) means "no data": such a
// sample is absent from every statistic and is never turned into 0. A pixel with
// no valid sample stacks to NaN with a kept count of 0.
//
// # Precision
//
// Pixels are float32 in and out. Every per-pixel statistic (normalisation,
// medians, sums, variances, fits) is computed in float64 from the float32
// samples and rounded to float32 once, at the output. The exceptions are the
// preprocessing kernels (Debayer, HotPixels): they are defined in float32
// operations, in an order the WGSL twin repeats, so both backends give the
// same bits (their files say how). The normalised sample
// Gain*x+Offset is exact up to one rounding: the float32×float32 product is
// exact in float64. Sums run in a fixed order (frame index; outwards from the
// median over the sorted samples in the winsor clip's robust estimate, see
// huberSigma; ascending value where an algorithm works on sorted samples),
// so a result depends only on the samples, never on scheduling. Products that are
// added to a sum are written float64(a*b) where it matters: the explicit
// conversion forbids the compiler from fusing them into an FMA, which it may
// do on arm64, so results are the same on every architecture. The fast paths
// of StackBand (sorting networks, the MAD by bisection, sums made while
// gathering the samples) reorder or skip work but never change an operation
// or a summation order: TestStackBandGoldenHashes pins the outputs bit for
// bit (on amd64, 386 and wasm alike).
//
// # Stacks deeper than 256 frames
//
// Winsor and kappa need all of a pixel's samples at once, and the GPU kernels
// hold at most MaxSortFrames = 256 of them per pixel. Beyond that depth, for
// mean, min and max, both backends compute the streamed rule (ZeMosaic's
// streaming winsor, spec §2.5): the clip runs unchanged on the valid samples
// of the 256 evenly spaced SubsampleFrames ((k·N)/256), its final bounds
// (RejectBounds says which) are kept, and every sample of the N frames is
// then kept, or rejected below lo or above hi, in one pass and combined as
// usual. It is the definition of those methods for N > 256, so CPU and GPU
// agree, and it is cheaper: 2000 frames sort 256 samples per pixel instead
// of 2000, about 7 times faster on the CPU. Median and the linear-fit clip
// stay exact at any depth (the GPU leaves them to the CPU there), and stacks
// of up to 256 frames are unchanged bit for bit.
//
// # Concurrency and determinism
//
// StackBand splits a band by rows across goroutines and never splits the frame
// axis, so each pixel reduces its frames in the same order whatever the number
// of workers: output is bit-identical for any Workers value and any row split.
// Per-pixel scratch is allocated once per goroutine per call, never per pixel.
// Inputs are never modified.
package cpu
