package solve

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

// AstrometryNet runs astrometry.net's solve-field with local index files. Build it with
// NewAstrometryNet.
type AstrometryNet struct {
	exe string
	opt Options
}

var _ pipeline.Solver = (*AstrometryNet)(nil)

// NewAstrometryNet finds solve-field (opt.Executable, else "solve-field" on PATH).
func NewAstrometryNet(opt Options) (*AstrometryNet, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	exe, err := lookup(NameAstrometry, opt.Executable, "solve-field")
	if err != nil {
		return nil, err
	}
	return &AstrometryNet{exe: exe, opt: opt.withDefaults()}, nil
}

// Name returns "astrometry".
func (s *AstrometryNet) Name() string { return NameAstrometry }

// Executable returns the program that runs.
func (s *AstrometryNet) Executable() string { return s.exe }

// scaleTolerance widens the header's pixel scale into solve-field's search range: focal
// lengths in headers are nominal, reducers and binning change them.
const scaleTolerance = 0.2

// Solve plate-solves a copy of the frame in path with solve-field: outputs and temporary files
// stay in a private folder (--dir, --temp-dir, --new-fits none), the frame's own WCS is not
// trusted (--no-verify), the pointing hint bounds the search (--ra/--dec/--radius) and the
// pixel scale narrows it (--scale-low/-high, ±20 %). With opt.DatabaseDir a small backend
// configuration points solve-field at that folder of index files. solve-field exits 0 when it
// finds nothing; the missing .wcs file says so.
func (s *AstrometryNet) Solve(ctx context.Context, path string, hdr *fits.Header) (*fits.Header, error) {
	ws, err := newWorkspace(s.opt.TempDir, path)
	if err != nil {
		return nil, err
	}
	defer ws.remove()
	hi := readHints(hdr)
	args, err := s.args(ws, hi)
	if err != nil {
		return nil, named(NameAstrometry, path, err)
	}
	res, err := run(ctx, s.opt.Timeout, ws.dir, s.exe, args)
	if err != nil {
		return nil, named(NameAstrometry, path, err)
	}
	if res.exit != 0 {
		return nil, named(NameAstrometry, path, &Error{Kind: ErrNoSolution,
			Detail: fmt.Sprintf("(exit status %d)%s", res.exit, said(res.output))})
	}
	sol, err := readSolution("astrometry.net", ws.base()+".wcs", hi.width, hi.height)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Kind == ErrNoSolution {
			e.Detail += said(res.output)
		}
		return nil, named(NameAstrometry, path, err)
	}
	return sol, nil
}

// args builds the solve-field command line; the input file comes last.
func (s *AstrometryNet) args(ws *workspace, hi hints) ([]string, error) {
	tmp := filepath.Join(ws.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	cpu := int(math.Ceil(s.opt.Timeout.Seconds()))
	args := []string{"--no-plots", "--overwrite", "--no-verify", "--new-fits", "none",
		"--dir", ws.dir, "--temp-dir", tmp, "--downsample", strconv.Itoa(s.opt.Downsample),
		"--cpulimit", strconv.Itoa(max(cpu, 1))}
	if s.opt.DatabaseDir != "" {
		cfg := filepath.Join(ws.dir, "backend.cfg")
		text := fmt.Sprintf("inparallel\nadd_path %s\nautoindex\n", s.opt.DatabaseDir)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--config", cfg)
	}
	if hi.hasPointing {
		args = append(args, "--ra", num(hi.ra), "--dec", num(hi.dec), "--radius", num(s.opt.RadiusDeg))
	}
	if hi.scale > 0 {
		args = append(args, "--scale-units", "arcsecperpix",
			"--scale-low", num(hi.scale*(1-scaleTolerance)), "--scale-high", num(hi.scale*(1+scaleTolerance)))
	}
	args = append(args, s.opt.ExtraArgs...)
	return append(args, ws.frame), nil
}
