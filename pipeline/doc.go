// Package pipeline runs zmosaic's jobs end to end on top of astro/fits, astro/wcs and the
// kernels: today the streaming stack (Stack) with its outputs and run report; later the phases
// of a hierarchical run (scan → preprocess → cluster → master tiles → grid → photometry → assembly).
//
// # Memory
//
// Nothing holds all frames. A stack reads one frame at a time to measure it (weights and
// normalisation), then row bands of every frame, with the band height planned from the memory
// budget (PlanStack). The output image and its kept-count map are the only whole-image buffers.
//
// # Events and progress
//
// Decisions are compute.Events sent to Hooks.Events; progress goes to Hooks.Progress. The
// package never prints; the CLI and the browser turn both into localised text.
package pipeline

// Version is the software version written into output headers and reports.
const Version = "0.1.0"
