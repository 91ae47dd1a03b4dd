// Package pipeline runs zmosaic's jobs end to end on top of astro/fits, astro/wcs and the
// kernels (through a compute.Runner, GPU or CPU): the streaming stack (Stack, with WCS
// alignment onto a reference frame: align.go), the streaming mosaic (Mosaic, MosaicTo: optimal
// grid, photometric matching, feathered or median/kappa coadd) and the hierarchical run (Run:
// scan → preprocess into a verified cache → cluster → master tiles → mosaic, resumable), with
// their outputs and run reports.
//
// # Memory
//
// Nothing holds all frames. A stack reads one frame at a time to measure it (weights and
// normalisation), then row bands of every frame, with the band height planned from the memory
// budget (PlanStack); the output image and its kept-count map are its only whole-image
// buffers. A mosaic is produced and written band by band (PlanMosaic): per band only the
// inputs that reach it are read, and only the rows it needs. A run preprocesses one frame per
// worker and streams every master tile from the cache.
//
// # Events and progress
//
// Decisions are compute.Events sent to Hooks.Events; progress goes to Hooks.Progress. The
// package never prints; the CLI and the browser turn both into localised text.
package pipeline

// Version is the software version written into output headers and reports.
const Version = "0.1.0"
