package pipeline

import (
	"context"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// Solver plate-solves a frame that has no usable WCS. The pipeline only defines what it needs;
// implementations that run external programs (ASTAP, astrometry.net's solve-field) live in
// native/, since os/exec has no place in a package that builds for the browser.
//
// A run calls Solve for each readable frame whose header has no valid WCS, one frame at a time,
// and keeps the solution in its cache folder: the user's file is never written to.
type Solver interface {
	Name() string
	// Solve returns header cards holding a celestial WCS for the frame in path; hdr has its hints (RA/DEC, scale).
	Solve(ctx context.Context, path string, hdr *fits.Header) (*fits.Header, error)
}
