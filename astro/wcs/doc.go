// Package wcs converts between pixel and sky coordinates for FITS images with a celestial
// World Coordinate System: the zenithal projections TAN, SIN (with the slant PV terms), ARC,
// STG, ZEA and ZPN, the cylindrical CAR and the Hammer–Aitoff AIT, each optionally combined
// with SIP polynomial distortion.
//
// It parses and writes WCS header keys through the small Header interface and the Card type;
// reading pixels and whole files belongs to astro/fits, and sky geometry built from several
// frames (hulls, optimal mosaic frames) belongs to astro/sky.
//
// # Conventions
//
// The transformation follows FITS WCS papers I and II (Greisen & Calabretta 2002, A&A 395,
// 1061; Calabretta & Greisen 2002, A&A 395, 1077) and the SIP convention (Shupe et al. 2005,
// ASP Conf. Ser. 347, 491): pixel → SIP → CD matrix → projection plane → native spherical
// (φ, θ) → celestial (α, δ) by the general spherical rotation of paper II eq. 2, so every
// projection shares one rotation and CAR with a non-zero reference value works.
//
// Pixel coordinates in the API are 0-based pixel centres (astropy origin=0): (0, 0) is the
// centre of the first pixel, while CRPIX keeps the 1-based header value. World coordinates
// are degrees in the frame of the header (no FK4/FK5/ICRS conversion is done); longitudes are
// returned in [0, 360).
//
// # Errors and NaN
//
// Points outside a projection's domain (the far hemisphere of TAN or SIN, outside the AIT
// ellipse, …) return an error wrapping ErrOutOfDomain; nothing panics and no NaN is returned
// silently. PixelScale, which has no error result, returns NaN there.
//
// # Precision
//
// All arithmetic is float64. Against astropy 5.2.1 the real test frames agree to better than
// 1e-9 degree and 1e-8 pixel. WorldToPixel with SIP solves the forward polynomial by Newton
// iteration to 1e-10 px (astropy all_world2pix semantics), using AP/BP only as a first guess.
//
// # Concurrency
//
// A *WCS is safe for concurrent use by transformations as long as nobody writes its fields.
// Derived state (inverse CD, celestial pole) is computed by FromHeader, New and Init; when the
// exported fields were changed afterwards the transformations notice it and recompute the
// state per call (correct but slower), so call Init after editing fields.
package wcs
