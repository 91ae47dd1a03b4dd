package pipeline

import (
	"bytes"
	"fmt"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// FrameSource is one input frame, on disk or in memory (the browser hands files over as bytes).
// Open may be called several times; each returned file is closed by the caller.
type FrameSource interface {
	Name() string
	Open() (*fits.File, error)
}

// DiskFrame is a FITS file on disk (.fits, .fit, .fts, optionally gzip-compressed).
type DiskFrame string

// Name returns the path.
func (d DiskFrame) Name() string { return string(d) }

// Open opens the file for reading; it is never written to.
func (d DiskFrame) Open() (*fits.File, error) { return fits.Open(string(d)) }

// MemoryFrame is a FITS file held in memory.
type MemoryFrame struct {
	FileName string
	Data     []byte
}

// Name returns the file name given by the caller.
func (m MemoryFrame) Name() string { return m.FileName }

// Open reads the bytes as a FITS file.
func (m MemoryFrame) Open() (*fits.File, error) {
	if len(m.Data) == 0 {
		return nil, fmt.Errorf("pipeline: %s: empty file", m.FileName)
	}
	return fits.NewReader(bytes.NewReader(m.Data), int64(len(m.Data)), m.FileName)
}
