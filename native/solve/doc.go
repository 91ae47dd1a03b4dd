// Package solve plate-solves frames that carry no usable WCS by running an external solver:
// ASTAP (`astap`, `astap_cli`) or astrometry.net's `solve-field`. Both implement
// pipeline.Solver; New picks one from the name given to `--solve`.
//
// The package lives under native/ because it starts processes (os/exec); the pipeline only
// knows the pipeline.Solver interface and so still builds for the browser.
//
// # The user's files are never touched
//
// Solvers write .wcs, .ini, .log, .axy, .new … beside their input, and ASTAP can even rewrite
// the input's header (-update, which we never pass). Every solve therefore runs on a copy of the
// frame in a private temporary folder, removed when Solve returns; the solution comes back as
// header cards that the caller keeps in its cache. ZeMosaic writes solved headers into the
// original files and moves failures to `unaligned_by_zemosaic/`: we do neither.
//
// # Processes
//
// Each run has a timeout (Options.Timeout, per run). On timeout or cancellation the whole
// process group is killed (solve-field starts helpers such as astrometry-engine), so nothing
// keeps running after Solve returns. A failure is an error that names the frame and the reason
// (ErrTimeout, ErrNoSolution, ErrInvalidSolution) with the solver's own last words (stderr).
//
// # Concurrency
//
// A Solver may be shared between goroutines. ASTAP runs one instance at a time, as ZeMosaic
// does (astap_max_instances = 1): ASTAP already uses every core and loads its star database
// per run. solve-field runs are not serialised.
package solve
