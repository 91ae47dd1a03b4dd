package pipeline

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
)

// The scan (phase 0 of a hierarchical run, spec §1.1) lists the FITS files of an input folder
// and reads their headers only. It never writes, moves or renames anything under the root
// (ZeMosaic moved unsolved frames into unaligned_by_zemosaic/). Every file it lists ends up in
// ScanResult.Frames: usable, without a valid WCS (with the reason and any pointing hint), or
// unreadable (with the reason); the run decides what to skip.

// ScanOptions control ScanDir. Start from DefaultScanOptions.
type ScanOptions struct {
	// WCS is the sanity range a header WCS must pass (wcs.WCS.Validate); the default accepts
	// 0.01..3600"/px. ZeMosaic's validate_wcs_header used 0.3..15"/px, which rejects camera
	// lenses; narrow it here to catch absurd solutions for a known instrument.
	WCS wcs.ValidateOptions `json:"wcs"`
	// Exclude lists folders not to descend into, typically the run's output folder when it
	// lies inside the input folder (its cache and tiles are FITS files too).
	Exclude []string `json:"exclude,omitempty"`
	// Workers bounds the headers read at once (0 = 4): header reads are small and mostly wait
	// on the disk, so a few in flight hide latency without thrashing a spinning disk.
	Workers int `json:"scan_workers"`
}

// DefaultScanOptions returns the defaults described on ScanOptions.
func DefaultScanOptions() ScanOptions {
	return ScanOptions{WCS: wcs.DefaultValidateOptions(), Workers: 4}
}

// Validate checks the options.
func (o ScanOptions) Validate() error {
	if err := o.WCS.Validate(); err != nil {
		return fmt.Errorf("pipeline: scan: %w", err)
	}
	if o.Workers < 0 {
		return fmt.Errorf("pipeline: scan: workers = %d, want >= 0", o.Workers)
	}
	return nil
}

// Where ScanFrame.CentreFrom says a centre came from.
const (
	CentreFromWCS  = "wcs"  // the validated WCS at the image centre
	CentreFromHint = "hint" // RA/DEC or OBJCTRA/OBJCTDEC pointing keys: approximate
)

// ScanFrame is one listed file as its header describes it.
type ScanFrame struct {
	Path       string    `json:"path"`     // root joined with the file's relative path
	Size       int64     `json:"size"`     // bytes on disk
	ModTime    time.Time `json:"mod_time"` //
	HDU        int       `json:"hdu"`      // index of the image HDU used (0 = primary)
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	Channels   int       `json:"channels"`
	Bitpix     int       `json:"bitpix"`
	Bayer      string    `json:"bayer,omitempty"`       // BAYERPAT, upper case; "" when absent
	DateObs    time.Time `json:"date_obs,omitzero"`     // DATE-OBS as UTC; zero when absent or unparsable
	ExpTime    float64   `json:"exptime,omitempty"`     // EXPTIME (or EXPOSURE), seconds; 0 when absent
	RA         float64   `json:"ra"`                    // centre, degrees, when CentreFrom is set
	Dec        float64   `json:"dec"`                   //
	CentreFrom string    `json:"centre_from,omitempty"` // CentreFromWCS, CentreFromHint or ""
	// WCS is the validated header WCS, nil when the header has none or it failed validation
	// (WCSError says why).
	WCS      *wcs.WCS `json:"-"`
	WCSError string   `json:"wcs_error,omitempty"`
	// Error says why the file could not be read at all; the other fields after ModTime are
	// then empty.
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"` // non-fatal header problems
}

// Usable reports whether the frame can go into a run as is: readable with a valid WCS.
func (f *ScanFrame) Usable() bool { return f.Error == "" && f.WCS != nil }

// ScanResult lists every FITS file found, in path order.
type ScanResult struct {
	Root        string      `json:"root"`
	Frames      []ScanFrame `json:"frames"`
	Usable      int         `json:"usable"`     // readable with a valid WCS
	NoWCS       int         `json:"no_wcs"`     // readable, WCS missing or invalid
	Unreadable  int         `json:"unreadable"` // not FITS, truncated, unsupported, I/O error
	HeaderTotal float64     `json:"header_s"`   // seconds spent opening files and reading headers
}

// fitsExtensions are the names a FITS file may end with (compared in lower case).
var fitsExtensions = []string{".fit", ".fits", ".fts", ".fit.gz", ".fits.gz", ".fts.gz"}

// isFITSName reports whether a file name has a FITS extension, in any letter case.
func isFITSName(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range fitsExtensions {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// ScanDir lists the FITS files under root (recursively, following symbolic links to files but
// not to folders, skipping names that start with '.' and the Exclude folders) in path order,
// and reads each file's headers: shape, BITPIX, BAYERPAT, DATE-OBS, EXPTIME, the WCS (checked
// with wcs.FromHeader and Validate) and the centre. A file that cannot be read is listed with
// its Error; the scan goes on. Gzip-compressed files are decompressed to read their header
// (fits.Open), so they cost a full read.
//
// Events: scan_frame_unreadable (warn, per file), scan_frame_no_wcs (warn, per file) and
// scan_done, in path order; progress phase "scan". The error result is for a root that cannot
// be listed and for ctx being cancelled.
func ScanDir(ctx context.Context, root string, opt ScanOptions, hooks Hooks) (*ScanResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("pipeline: scan: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pipeline: scan: %s is not a folder", root)
	}
	paths, err := listFITS(ctx, root, opt.Exclude)
	if err != nil {
		return nil, err
	}
	res := &ScanResult{Root: root, Frames: make([]ScanFrame, len(paths))}
	workers := opt.Workers
	if workers == 0 {
		workers = 4
	}
	var (
		mu      sync.Mutex
		done    int
		elapsed time.Duration
	)
	err = scanParallel(ctx, len(paths), workers, func(i int) {
		t0 := time.Now()
		res.Frames[i] = scanFile(paths[i], opt)
		mu.Lock()
		done++
		elapsed += time.Since(t0)
		hooks.progress("scan", done, len(paths))
		mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("pipeline: scan of %s stopped: %w", root, err)
	}
	res.HeaderTotal = elapsed.Seconds()
	for i := range res.Frames {
		f := &res.Frames[i]
		switch {
		case f.Error != "":
			res.Unreadable++
			hooks.Events.Emit(compute.Warn, "scan_frame_unreadable", map[string]any{"file": f.Path, "reason": f.Error})
		case f.WCS == nil:
			res.NoWCS++
			hooks.Events.Emit(compute.Warn, "scan_frame_no_wcs", map[string]any{"file": f.Path, "reason": f.WCSError})
		default:
			res.Usable++
		}
	}
	hooks.Events.Emit(compute.Info, "scan_done", map[string]any{
		"files": len(res.Frames), "usable": res.Usable, "no_wcs": res.NoWCS, "unreadable": res.Unreadable, "dir": root,
	})
	return res, nil
}

// listFITS walks root and returns the FITS files in lexical path order.
func listFITS(ctx context.Context, root string, exclude []string) ([]string, error) {
	// Compare absolute paths, so "out" excludes ./in/../out whatever form root was given in.
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	skip := make(map[string]bool, len(exclude))
	for _, e := range exclude {
		skip[abs(e)] = true
	}
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			// An unreadable sub-folder is listed as one unreadable entry rather than
			// ending the scan.
			paths = append(paths, p)
			return fs.SkipDir
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if p != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && len(skip) > 0 && skip[abs(p)] {
				return fs.SkipDir
			}
			return nil
		}
		if !isFITSName(name) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err == nil && !st.Mode().IsRegular() {
				return nil // a link to a folder or device: not followed
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pipeline: scan: %w", err)
	}
	slices.Sort(paths) // WalkDir is lexical per folder; sorting makes the whole list so
	return paths, nil
}

// scanParallel calls fn(i) for i in [0, n) on up to workers goroutines and stops handing out
// work when ctx is cancelled. Results go to per-index slots, so their order is fixed.
func scanParallel(ctx context.Context, n, workers int, fn func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	var err error
	for i := range n {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// scanFile reads one file's headers. It never returns an error: problems go into the frame.
func scanFile(path string, opt ScanOptions) ScanFrame {
	f := ScanFrame{Path: path}
	st, err := os.Stat(path)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	if st.IsDir() {
		f.Error = fmt.Sprintf("pipeline: %s: a folder that cannot be read", path)
		return f
	}
	f.Size, f.ModTime = st.Size(), st.ModTime()
	file, err := fits.Open(path)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	defer file.Close()
	f.Warnings = file.Warnings
	hdu, err := file.Image("")
	if err != nil {
		f.Error = err.Error()
		return f
	}
	h := hdu.Header
	f.HDU, f.Width, f.Height, f.Channels, f.Bitpix = hdu.Index, hdu.Width, hdu.Height, hdu.Channels, hdu.Bitpix
	if s, ok := h.String("BAYERPAT"); ok {
		f.Bayer = strings.ToUpper(strings.TrimSpace(s))
	}
	if s, ok := h.String("DATE-OBS"); ok {
		if t, ok := parseDateObs(s); ok {
			f.DateObs = t
		} else {
			f.Warnings = append(f.Warnings, fmt.Sprintf("DATE-OBS %q is not an ISO date", s))
		}
	}
	if v, ok := h.Float("EXPTIME"); ok {
		f.ExpTime = v
	} else if v, ok := h.Float("EXPOSURE"); ok {
		f.ExpTime = v
	}

	w, err := frameWCS(h, f.Width, f.Height, opt.WCS)
	if err == nil {
		ra, dec, perr := w.PixelToWorld(float64(f.Width-1)/2, float64(f.Height-1)/2)
		if perr == nil {
			f.WCS, f.RA, f.Dec, f.CentreFrom = w, ra, dec, CentreFromWCS
			return f
		}
		err = perr
	}
	f.WCSError = err.Error()
	if ra, dec, ok := PointingHint(h); ok {
		f.RA, f.Dec, f.CentreFrom = ra, dec, CentreFromHint
	}
	return f
}

// frameWCS parses and validates a header WCS for an image of w×h pixels.
func frameWCS(h *fits.Header, w, hgt int, opt wcs.ValidateOptions) (*wcs.WCS, error) {
	ws, err := wcs.FromHeader(h)
	if err != nil {
		return nil, err
	}
	if err := ws.Validate(w, hgt, opt); err != nil {
		return nil, err
	}
	return ws, nil
}
