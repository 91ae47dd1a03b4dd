// Package session is the state behind the in-browser preview: the frames the page added, the
// options it asked for, the last stack or mosaic and its renderings (RGBA preview, FITS, PNG,
// a mosaic's coverage). It speaks
// in plain Go values shaped for JavaScript (map[string]any, []any, numbers, strings), so that
// wasm/main.go only converts them with js.ValueOf, and everything else is tested natively.
//
// It reuses the library unchanged: pipeline.StackWith and pipeline.MosaicWith on
// pipeline.MemoryFrame sources, a compute.Runner per run (WebGPU through navigator.gpu when the browser gives an adapter,
// else the CPU), locales for every message, cpu.StretchNRGBA for the previews.
//
// # Concurrency
//
// A Session is safe for concurrent use. One stack or mosaic runs at a time; Stack and Mosaic
// refuse (wasm_busy) while another runs. Files added during a stack do not join it.
// StackBand (a test and diagnostic entry: one band, bytes in and out) shares that lock.
//
// # Browser specifics
//
// In the browser auto uses whatever WebGPU adapter navigator.gpu offers, a CPU-emulated one
// included (compute.Options.SoftwareInAuto): the pure-Go path is single-threaded wasm while
// SwiftShader runs on every core, but its setup cost made small stacks and mosaics slower than
// the wasm path in our measurements, so the reason shown says the CPU backend may be faster.
package session
