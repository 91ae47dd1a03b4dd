// Package compute owns the Runner: it plans chunks from the GPU budget and the device limits,
// runs them on the GPU (package compute/gpu, the WGSL kernels through WebGPU) or on the cpu
// package, classifies GPU errors and falls back, emitting an Event for every decision.
//
// # Events
//
// An Event is a locale key plus named parameters: the same key names the message in
// locales/en.json, the log line and the run-report entry. Libraries never print; a nil Sink
// discards events.
//
// An event that says why work runs on the CPU carries "reason", the English text for reports
// and logs, and, when the Runner decided it (--backend cpu, no adapter, a CPU-emulated adapter
// skipped in auto, too many frames for the sorting kernels, a row over budget, …),
// "reason_key" naming a "reason_…" message plus that message's placeholders, so that a front
// end says it in the user's language (locales.Localizer.Event). Errors from the GPU or its
// driver travel as they are, as parameters.
//
// # Backends and fallbacks
//
// Options.Backend picks auto (a hardware GPU when one opens, else the CPU), gpu (any adapter;
// fallbacks still happen but are counted warnings) or cpu. The Runner never fails for want of a
// GPU: every fallback (no adapter, CPU-emulated adapter in auto, too little memory, allocation
// failures after three halvings, compile or validation errors, a lost device) runs the work on
// the CPU, keeps the chunks already finished, and says why. Results do not depend on the
// chunking; GPU and CPU agree within the tolerances package gpu documents.
//
// # Operations
//
// StackBand (all rejection and combine methods, chunked by rows); Reproject (bilinear, bicubic,
// Lanczos-3 over a CPU-computed coordinate grid, so SIP and every projection are honoured on
// both backends; chunked by rows within the GPU budget; safe to call from several goroutines,
// the CPU path runs them in parallel); Percentiles, StretchNRGBA, Debayer and HotPixels (exact
// on the GPU; not chunked by the Runner, the device splits them itself). Each operation has
// its own entry in Report: backend used, chunks on GPU and CPU, fallbacks with reasons, time.
package compute
