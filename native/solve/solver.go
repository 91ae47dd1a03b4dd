package solve

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/zmosaic/zmosaic/pipeline"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrNotFound means the solver program is not installed (or not where Options said).
	ErrNotFound = errors.New("solve: solver program not found")
	// ErrTimeout means a solver run was killed after Options.Timeout.
	ErrTimeout = errors.New("solve: timed out")
	// ErrNoSolution means the solver ran but found no solution (or failed: see the message).
	ErrNoSolution = errors.New("solve: no solution")
	// ErrInvalidSolution means the solver's WCS could not be read or failed validation.
	ErrInvalidSolution = errors.New("solve: invalid WCS in the solution")
)

// Names accepted by New, as given to `--solve`.
const (
	NameASTAP      = "astap"
	NameAstrometry = "astrometry"
)

// New returns the solver called name ("astap", or "astrometry" — also "astrometry.net" and
// "solve-field"), with its program looked up now so that a missing one is reported before any
// work starts.
func New(name string, opt Options) (pipeline.Solver, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case NameASTAP:
		return NewASTAP(opt)
	case NameAstrometry, "astrometry.net", "solve-field":
		return NewAstrometryNet(opt)
	}
	return nil, fmt.Errorf("solve: unknown solver %q (use %s or %s)", name, NameASTAP, NameAstrometry)
}

// lookup finds the program: opt.Executable when set, else the first of names on PATH.
func lookup(solver string, executable string, names ...string) (string, error) {
	if executable != "" {
		p, err := exec.LookPath(executable)
		if err != nil {
			return "", fmt.Errorf("solve: %s executable %q not found (%v); fix the path or drop --solve: %w", solver, executable, err, ErrNotFound)
		}
		return p, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("solve: %s not found on PATH; install it or drop --solve: %w", names[0], ErrNotFound)
}

// workspace is a private folder holding a copy of one frame; the solver writes only there.
type workspace struct {
	dir   string
	frame string // the copy, always named frame.fits (plain FITS: solvers do not all read .gz)
}

// newWorkspace copies path (decompressing a gzip file) into a new private folder.
func newWorkspace(parent, path string) (*workspace, error) {
	dir, err := os.MkdirTemp(parent, "zmosaic-solve-*")
	if err != nil {
		return nil, fmt.Errorf("solve: %s: making a working folder: %w", path, err)
	}
	ws := &workspace{dir: dir, frame: filepath.Join(dir, "frame.fits")}
	if err := copyFrame(path, ws.frame); err != nil {
		ws.remove()
		return nil, err
	}
	return ws, nil
}

func (ws *workspace) remove() { os.RemoveAll(ws.dir) }

// base is the copy's path without its extension: solvers name their outputs base.wcs, base.ini.
func (ws *workspace) base() string { return strings.TrimSuffix(ws.frame, ".fits") }

func copyFrame(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("solve: %w", err)
	}
	defer in.Close()
	var r io.Reader = in
	magic := make([]byte, 2)
	if n, _ := io.ReadFull(in, magic); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if _, err := in.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("solve: %s: %w", src, err)
		}
		zr, err := gzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("solve: %s: gzip: %w", src, err)
		}
		defer zr.Close()
		r = zr
	} else if _, err := in.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("solve: %s: %w", src, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("solve: %s: copying: %w", src, err)
	}
	defer func() {
		if e := out.Close(); e != nil && err == nil {
			err = fmt.Errorf("solve: %s: copying: %w", src, e)
		}
	}()
	if _, err := io.Copy(out, r); err != nil {
		return fmt.Errorf("solve: %s: copying: %w", src, err)
	}
	return nil
}

// Error is a failed solve. Kind is one of the sentinels (ErrTimeout, ErrNoSolution,
// ErrInvalidSolution), a context error, or the system error that stopped the run; errors.Is
// sees through it.
type Error struct {
	Solver string // "astap" or "astrometry"
	File   string // the user's frame
	Kind   error
	Detail string // the solver's exit status and last words, or what was wrong with its WCS
}

func (e *Error) Error() string {
	msg := "solve: " + e.Solver + ": " + e.File + ": " + strings.TrimPrefix(e.Kind.Error(), "solve: ")
	if e.Detail != "" {
		msg += " " + e.Detail
	}
	return msg
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// named fills in the solver and the file of err when it is an *Error, or wraps it.
func named(solver, file string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{Solver: solver, File: file, Kind: err}
	}
	out := *e
	out.Solver, out.File = solver, file
	return &out
}
