// Package testsuite holds zmosaic's cross-backend tests: every kernel runs on seeded random
// inputs (NaN, ±Inf, outliers, sizes that are not multiples of a workgroup) on each backend
// available — the cpu package, the Vulkan adapter (lavapipe in CI), later the browser — and is
// compared with the CPU reference and with golden FITS files under testdata/, using the one
// tolerance table in tolerance.go.
//
// # Goldens
//
// testdata/<case>_golden.fits is the CPU reference output of a fixed-seed input. The CPU must
// reproduce it bit for bit (same input, same backend ⇒ same bits); other backends must match it
// within the table. `go test ./testsuite -update` rewrites the goldens from the CPU; review the
// diff like code.
//
// # Seeds
//
// Besides the fixed golden seeds, each run also draws a fresh seed (logged, and settable with
// -seed) so that the suite keeps exploring inputs; a failure prints the seed that reproduces it.
//
// # The software backend
//
// gogpu/wgpu's software backend (a SPIR-V interpreter) gets the NaN test by bit pattern wrong,
// and every zmosaic kernel is NaN-aware (NaN means no data), so no kernel runs correctly there:
// compute/gpu refuses that adapter, and the suite checks that it does (see
// gogpu-wgpu-notes.md §2: bit-pattern NaN tests, atomics and barriers are wrong there).
package testsuite
