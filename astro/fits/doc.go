// Package fits reads and writes the FITS images zmosaic works on: 2-D mono and 3-D
// CHW colour frames as float32, their headers (WCS, provenance, COMMENT/HISTORY), the
// ALPHA coverage extension, plain and gzip-compressed files. Interpreting WCS keys
// belongs to astro/wcs; this package only carries the cards.
//
// # Why our own reader on top of fitsio
//
// github.com/astrogo/fitsio v0.3.0 decodes every HDU's data when a file is opened (its
// seeking decoder is unimplemented), refuses a whole file on one non-standard card
// such as `SKEW    = 1.08E+00, 9.63E-01`, truncates strings longer than 69
// characters, and its Image() mishandles fractional BSCALE. A stack of thousands of
// frames needs the opposite: headers only at scan time, then row bands on demand.
// So the header blocks (2880 bytes, 80-character cards, CONTINUE long strings,
// HIERARCH keys) are parsed here, the data offset of each HDU is computed from
// BITPIX/NAXISn/PCOUNT/GCOUNT, and pixels are read through io.ReaderAt at that
// offset (ImageHDU.ReadRows). A card that does not parse is skipped and recorded in
// File.Warnings rather than refusing the file.
//
// fitsio's writer formats real header values with 6 significant digits, which would
// move CRVAL by arcseconds, so Write formats cards itself (shortest round-trip
// decimal) and writes the data blocks directly; the tests open every written file
// with fitsio.Open to prove it is standard FITS.
//
// # Values, NaN and precision
//
// Pixels are returned as physical values raw×BSCALE+BZERO, computed in float64 and
// rounded once to float32 (so BITPIX 16 with BZERO 32768 is uint16 data, and a
// BITPIX 32 sample is exact before that rounding). An integer sample equal to BLANK
// becomes NaN; BLANK is ignored for floating-point data, whose NaN stays NaN. NaN
// means "no data" and is never replaced by 0. Write stores float32 bit for bit by
// default; WriteOptions.Bitpix selects float64, uint16 (BITPIX 16, BZERO 32768) or
// uint8 instead. Integer output rounds to nearest and refuses NaN, infinities and
// out-of-range values (ErrUnrepresentable) rather than clamping them.
//
// # Gzip
//
// Compressed files are recognised by their magic bytes, not their name. Open
// decompresses once: into memory when the result is at most 64 MiB (learnt while
// streaming), otherwise into a temporary file from os.CreateTemp that File.Close
// removes. NewReader (in-memory input, e.g. the browser) always decompresses into
// memory. Band reads then work as for a plain file.
//
// # Errors and safety
//
// Errors name the file and the reason (*FormatError) and match the sentinels
// ErrNotFITS, ErrNoImage, ErrUnsupportedBitpix, ErrUnsupportedShape, ErrTruncated,
// ErrBadHeader, ErrGzip and (when writing) ErrUnrepresentable with errors.Is. Sizes
// announced by the header are checked against the file size, with overflow-safe
// products, before anything is allocated, so hostile or damaged files give an error,
// never a panic (FuzzNewReader).
//
// # Writing
//
// Write goes through a temporary file in the destination folder renamed at the end:
// the output is complete or absent, and inputs are never opened for writing. Sizes
// and integer pixel ranges are checked before the temporary file is created.
//
// # Concurrency
//
// After Open, ReadRows and ReadImage may be called concurrently on the HDUs of one
// File; Close must not race with them. Header is not safe for concurrent changes.
package fits
