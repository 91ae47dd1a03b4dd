package fits

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
)

// gzipMemLimit is the largest decompressed size Open keeps in memory; beyond it the
// data goes to a temporary file so a large .fits.gz does not pin its size in RAM.
const gzipMemLimit = 64 << 20

func isGzip(r io.ReaderAt, size int64) bool {
	if size < 2 {
		return false
	}
	b := make([]byte, 2)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return false
	}
	return b[0] == 0x1f && b[1] == 0x8b
}

// gunzip decompresses src once. The size is learnt while streaming: up to limit
// bytes the result is a bytes.Reader; past it the bytes so far and the rest go to a
// temp file (returned so the caller removes it on Close). limit < 0: memory only.
func gunzip(src io.Reader, name string, limit int64) (io.ReaderAt, int64, *os.File, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, 0, nil, gzipErr(name, err)
	}
	var buf bytes.Buffer
	if limit < 0 {
		_, err = io.Copy(&buf, zr)
	} else {
		_, err = io.CopyN(&buf, zr, limit+1)
		if err == io.EOF {
			err = nil
		} else if err == nil {
			return spill(&buf, zr, name)
		}
	}
	if err != nil {
		return nil, 0, nil, gzipErr(name, err)
	}
	return bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil, nil
}

func spill(head *bytes.Buffer, rest io.Reader, name string) (io.ReaderAt, int64, *os.File, error) {
	tmp, err := os.CreateTemp("", "zmosaic-fits-*.fits")
	if err != nil {
		return nil, 0, nil, formatErr(name, ErrGzip, "creating a temporary file for the decompressed data: %v", err)
	}
	fail := func(e error) (io.ReaderAt, int64, *os.File, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, 0, nil, e
	}
	n, err := head.WriteTo(tmp)
	if err != nil {
		return fail(formatErr(name, ErrGzip, "writing the decompressed data to %s: %v", tmp.Name(), err))
	}
	m, err := io.Copy(tmp, rest)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fail(formatErr(name, ErrGzip, "writing the decompressed data: %v", err))
		}
		return fail(gzipErr(name, err))
	}
	return tmp, n + m, tmp, nil
}

func gzipErr(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FormatError{File: name, Reason: "gzip stream ends early: " + err.Error(), Err: errors.Join(ErrGzip, ErrTruncated)}
	}
	return &FormatError{File: name, Reason: "bad gzip stream: " + err.Error(), Err: ErrGzip}
}
