package fits

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that concerns a file is a
// *FormatError naming the file; match the condition with errors.Is.
var (
	// ErrNotFITS: the bytes do not start with a FITS primary header (SIMPLE = T).
	ErrNotFITS = errors.New("fits: not a FITS file")
	// ErrNoImage: no HDU holds 2-D or 3-D image data, or the selected HDU is not an image.
	ErrNoImage = errors.New("fits: no image")
	// ErrUnsupportedBitpix: BITPIX is not one of 8, 16, 32, 64, -32, -64.
	ErrUnsupportedBitpix = errors.New("fits: unsupported BITPIX")
	// ErrUnsupportedShape: the image is neither 2-D nor a 3-plane (CHW) cube.
	ErrUnsupportedShape = errors.New("fits: unsupported image shape")
	// ErrTruncated: the file ends before a header's END card or before the data
	// its NAXISn keys announce.
	ErrTruncated = errors.New("fits: truncated file")
	// ErrBadHeader: a mandatory header key is missing or has an impossible value.
	ErrBadHeader = errors.New("fits: invalid header")
	// ErrGzip: the file starts with the gzip magic bytes but does not decompress.
	ErrGzip = errors.New("fits: bad gzip stream")
	// ErrUnrepresentable: Write was asked for integer output (WriteOptions.Bitpix)
	// and a pixel is NaN, infinite or outside the type's range after rounding.
	ErrUnrepresentable = errors.New("fits: value not representable in the output BITPIX")
)

// FormatError reports a problem with one file. Err is the sentinel (or a join of
// sentinels) that errors.Is matches; Reason is the human explanation.
type FormatError struct {
	File   string
	Reason string
	Err    error
}

func (e *FormatError) Error() string {
	name := e.File
	if name == "" {
		name = "<unnamed>"
	}
	return fmt.Sprintf("fits: %s: %s", name, e.Reason)
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(file string, sentinel error, format string, args ...any) *FormatError {
	return &FormatError{File: file, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}
