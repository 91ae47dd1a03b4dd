// Package compute will own the Runner: it plans chunks from memory budgets, runs them on a
// backend (the WGSL kernels through WebGPU, or the cpu package), classifies errors and falls back,
// emitting an Event for every decision.
//
// For now it holds the Event type that every heavy operation reports through, so that the
// pipeline, the CLI and the run report speak one vocabulary before the GPU backend lands.
//
// # Events
//
// An Event is a locale key plus named parameters: the same key names the message in
// locales/en.json, the log line and the run-report entry. Libraries never print; a nil Sink
// discards events.
package compute
