package main

import (
	"time"

	"github.com/zmosaic/zmosaic/native/solve"
	"github.com/zmosaic/zmosaic/pipeline"
)

// The external plate solvers `zmosaic run --solve NAME` can call (package native/solve): each
// looks its program up when chosen, so a missing one is an error before any work starts.
func init() {
	for _, name := range []string{solve.NameASTAP, solve.NameAstrometry} {
		registerSolver(name, func(timeout time.Duration) (pipeline.Solver, error) {
			opt := solve.DefaultOptions()
			if timeout > 0 {
				opt.Timeout = timeout
			}
			return solve.New(name, opt)
		})
	}
}
