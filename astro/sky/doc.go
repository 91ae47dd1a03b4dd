// Package sky owns geometry on the celestial sphere that sits above a single WCS: unit
// vectors, angular separations, spherical means, planar convex hulls and minimum-area
// rectangles, and the optimal output grid (a WCS plus its size) of a mosaic.
//
// Pixel↔sky transformations belong to astro/wcs; reading headers belongs to astro/fits.
//
// # Conventions
//
// Angles are degrees; right ascension is returned in [0, 360). Pixel coordinates are 0-based
// (pixel centres at integers) as in astro/wcs, while CRPIX stays 1-based as in FITS.
//
// # Determinism
//
// OptimalGrid sorts its inputs before any floating-point reduction, so the same set of
// footprints gives a bit-identical WCS and size whatever their order.
//
// # Errors
//
// Degenerate inputs (no points, antipodal points whose mean has no direction, non-finite
// values, fields too large for the projection) return errors; nothing panics.
package sky
