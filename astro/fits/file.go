package fits

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// File is an opened FITS file: its headers are parsed, its pixel data is read on
// demand through ImageHDU.ReadRows. Close releases the underlying file (and the
// temporary file of a large .gz).
type File struct {
	Name     string
	Images   []*ImageHDU // every supported image HDU with NAXIS >= 2, in file order
	Warnings []string    // non-fatal problems, e.g. skipped non-standard cards

	hdus    []*hdu
	r       io.ReaderAt
	closer  io.Closer
	tmpPath string // decompressed copy of a large .gz, removed by Close
	closed  bool
}

// Open opens a FITS file from disk. A gzip-compressed file (detected by its magic
// bytes, whatever its name) is decompressed once: into memory when it expands to at
// most 64 MiB, otherwise into a temporary file that Close removes. Either way
// ReadRows then reads bands at random offsets, as for a plain file.
func Open(name string) (*File, error) { return openLimit(name, gzipMemLimit) }

// openLimit is Open with the in-memory gzip limit as a parameter (tests lower it).
func openLimit(name string, gzLimit int64) (*File, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("fits: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("fits: %w", err)
	}
	if isGzip(fh, st.Size()) {
		r, size, tmp, err := gunzip(io.NewSectionReader(fh, 0, st.Size()), name, gzLimit)
		fh.Close()
		if err != nil {
			return nil, err
		}
		var closer io.Closer
		tmpPath := ""
		if tmp != nil {
			closer, tmpPath = tmp, tmp.Name()
		}
		f, err := newFile(r, size, name, closer)
		if err != nil {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmpPath)
			}
			return nil, err
		}
		f.tmpPath = tmpPath
		return f, nil
	}
	f, err := newFile(fh, st.Size(), name, fh)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return f, nil
}

// NewReader reads a FITS file held by r (size bytes); name is only used in
// messages. Gzip data is detected by its magic bytes and decompressed into memory
// (no temporary files, so it works in the browser). Close does not close r.
func NewReader(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 0 {
		return nil, formatErr(name, ErrNotFITS, "negative size %d", size)
	}
	if isGzip(r, size) {
		data, n, _, err := gunzip(io.NewSectionReader(r, 0, size), name, -1)
		if err != nil {
			return nil, err
		}
		r, size = data, n
	}
	return newFile(r, size, name, nil)
}

// newFile walks the HDUs: header blocks are read, data blocks are skipped.
func newFile(r io.ReaderAt, size int64, name string, closer io.Closer) (*File, error) {
	f := &File{Name: name, r: r, closer: closer}
	warn := func(s string) { f.Warnings = append(f.Warnings, s) }
	if size < 9 {
		return nil, formatErr(name, ErrNotFITS, "only %d bytes", size)
	}
	magic := make([]byte, 9)
	if _, err := r.ReadAt(magic, 0); err != nil && err != io.EOF {
		return nil, formatErr(name, ErrNotFITS, "reading: %v", err)
	}
	if string(magic) != "SIMPLE  =" {
		return nil, formatErr(name, ErrNotFITS, "does not start with SIMPLE =")
	}
	off := int64(0)
	for i := 0; off < size; i++ {
		if i > 0 && !startsWith(r, size, off, "XTENSION") {
			// Tape-era padding or junk after the last HDU is common; it holds nothing
			// we can read, so it is reported, not fatal.
			if !blankTail(r, size, off) {
				warn(fmt.Sprintf("ignored %d bytes after the last HDU (byte %d): not a FITS extension", size-off, off))
			}
			break
		}
		u, err := scanHDU(r, size, off, i, name, warn)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if simple, ok := u.header.Bool("SIMPLE"); !ok || !simple {
				warn("SIMPLE is not T: the file says it does not conform to the FITS standard")
			}
		}
		f.hdus = append(f.hdus, u)
		if u.dataSize < 0 {
			if off = u.dataOff; off < size {
				warn(fmt.Sprintf("HDU %d: unknown data size (BITPIX %d), later HDUs were not read", i, u.bitpix))
			}
			break
		}
		f.addImage(u)
		off = u.dataOff + (u.dataSize+blockSize-1)/blockSize*blockSize
	}
	return f, nil
}

// addImage records u as an ImageHDU when it is a supported image with data, and
// remembers why not when it is an image we cannot read.
func (f *File) addImage(u *hdu) {
	if u.index > 0 && u.xtension != "IMAGE" {
		return
	}
	if len(u.axes) < 2 || u.dataSize == 0 {
		return
	}
	where := fmt.Sprintf("HDU %d", u.index)
	ch := int64(1)
	if len(u.axes) >= 3 {
		ch = u.axes[2]
	}
	for i := 3; i < len(u.axes); i++ {
		if u.axes[i] != 1 {
			u.problem = formatErr(f.Name, ErrUnsupportedShape, "%s: NAXIS%d = %d, only 2-D images and 3-D cubes are supported", where, i+1, u.axes[i])
		}
	}
	if ch != 1 && ch != 3 {
		u.problem = formatErr(f.Name, ErrUnsupportedShape, "%s: NAXIS3 = %d, only 1 or 3 channels (mono or RGB CHW) are supported", where, ch)
	}
	if u.problem != nil {
		f.Warnings = append(f.Warnings, u.problem.Error())
		return
	}
	img := &ImageHDU{
		Index: u.index, Name: u.name, Header: u.header, Bitpix: u.bitpix,
		Width: int(u.axes[0]), Height: int(u.axes[1]), Channels: int(ch),
		dataOff: u.dataOff, bzero: 0, bscale: 1, file: f,
	}
	if v, ok := u.header.Float("BZERO"); ok {
		img.bzero = v
	}
	if v, ok := u.header.Float("BSCALE"); ok {
		img.bscale = v
	}
	if v, ok := u.header.Int("BLANK"); ok && u.bitpix > 0 {
		img.blank, img.hasBlank = v, true
	}
	u.image = img
	f.Images = append(f.Images, img)
}

// Close releases the file. ImageHDUs of a closed File return an error on read.
func (f *File) Close() error {
	if f == nil || f.closed {
		return nil
	}
	f.closed = true
	var err error
	if f.closer != nil {
		err = f.closer.Close()
	}
	if f.tmpPath != "" {
		if e := os.Remove(f.tmpPath); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return fmt.Errorf("fits: closing %s: %w", f.Name, err)
	}
	return nil
}

// Image selects an image HDU: "" is the primary HDU when it holds image data, else
// the first image extension with data; "N" is HDU number N (0 = primary); anything
// else is an EXTNAME, compared case-insensitively. The error names the file and
// lists its HDUs.
func (f *File) Image(sel string) (*ImageHDU, error) {
	sel = strings.TrimSpace(sel)
	var pick *hdu
	switch n, err := strconv.Atoi(sel); {
	case sel == "":
		// An unreadable primary image is reported rather than silently replaced by
		// an extension (which could be the ALPHA mask); an unreadable extension is
		// reported only when no readable image exists.
		for _, u := range f.hdus {
			if u.image != nil {
				pick = u
				break
			}
			if u.problem != nil && pick == nil {
				pick = u
				if u.index == 0 {
					break
				}
			}
		}
	case err == nil:
		for _, u := range f.hdus {
			if u.index == n {
				pick = u
			}
		}
	default:
		for _, u := range f.hdus {
			if strings.EqualFold(u.name, sel) {
				pick = u
				break
			}
		}
	}
	if pick != nil && pick.problem != nil {
		return nil, pick.problem
	}
	if pick == nil || pick.image == nil {
		what := "no image HDU with data"
		if sel != "" {
			what = fmt.Sprintf("HDU %q is not an image with data", sel)
			if pick == nil {
				what = fmt.Sprintf("no HDU %q", sel)
			}
		}
		list := make([]string, len(f.hdus))
		for i, u := range f.hdus {
			list[i] = u.describe()
		}
		return nil, formatErr(f.Name, ErrNoImage, "%s; HDUs: %s", what, strings.Join(list, ", "))
	}
	return pick.image, nil
}

// ReadImage is Open + Image(sel) + ReadImage + Close.
func ReadImage(name, sel string) (*Image, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	h, err := f.Image(sel)
	if err != nil {
		f.Close()
		return nil, err
	}
	img, err := h.ReadImage()
	return img, errors.Join(err, f.Close())
}

func startsWith(r io.ReaderAt, size, off int64, prefix string) bool {
	if size-off < int64(len(prefix)) {
		return false
	}
	b := make([]byte, len(prefix))
	if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
		return false
	}
	return string(b) == prefix
}

// blankTail reports whether the bytes from off are all zeros or spaces (padding).
func blankTail(r io.ReaderAt, size, off int64) bool {
	if size-off > 1<<20 {
		return false
	}
	b := make([]byte, size-off)
	if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
		return false
	}
	for _, c := range b {
		if c != 0 && c != ' ' {
			return false
		}
	}
	return true
}
