package solve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/pipeline"
)

// ASTAP runs Han Kleijn's ASTAP command-line solver. Build it with NewASTAP.
type ASTAP struct {
	exe  string
	opt  Options
	slot chan struct{} // one ASTAP at a time (see the package doc)
}

var _ pipeline.Solver = (*ASTAP)(nil)

// NewASTAP finds the ASTAP program (opt.Executable, else "astap" or "astap_cli" on PATH).
func NewASTAP(opt Options) (*ASTAP, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	exe, err := lookup(NameASTAP, opt.Executable, "astap", "astap_cli")
	if err != nil {
		return nil, err
	}
	return &ASTAP{exe: exe, opt: opt.withDefaults(), slot: make(chan struct{}, 1)}, nil
}

// Name returns "astap".
func (a *ASTAP) Name() string { return NameASTAP }

// Executable returns the program that runs.
func (a *ASTAP) Executable() string { return a.exe }

// ASTAP exit codes (ASTAP command-line documentation): 1 no solution, 2 not enough stars;
// from 16 on the run could not work at all (unreadable image, missing star database), so a
// retry with other settings would fail the same way.
const astapSetupError = 16

// Solve plate-solves a copy of the frame in path: `astap -f copy -log -wcs -z <downsample>
// -r <radius> [-d <database>] -fov <height in degrees> [-ra <hours> -spd <90+dec>]`. The field
// height comes from the header's pixel scale; when that attempt fails, or without a scale, ASTAP
// runs (again) with -fov 0, which lets it find the scale itself (ZeMosaic's single retry).
func (a *ASTAP) Solve(ctx context.Context, path string, hdr *fits.Header) (*fits.Header, error) {
	select {
	case a.slot <- struct{}{}:
		defer func() { <-a.slot }()
	case <-ctx.Done():
		return nil, named(NameASTAP, path, ctx.Err())
	}
	ws, err := newWorkspace(a.opt.TempDir, path)
	if err != nil {
		return nil, err
	}
	defer ws.remove()
	hi := readHints(hdr)
	fovs := []float64{0}
	if hi.scale > 0 && hi.height > 0 {
		fovs = []float64{hi.scale * float64(hi.height) / 3600, 0}
	}
	var last error
	for _, fov := range fovs {
		res, err := run(ctx, a.opt.Timeout, ws.dir, a.exe, a.args(ws.frame, hi, fov))
		if err != nil {
			return nil, named(NameASTAP, path, err) // timeout or cancellation: no retry
		}
		if res.exit == 0 {
			sol, err := readSolution("ASTAP", ws.base()+".wcs", hi.width, hi.height)
			if err == nil {
				return sol, nil
			}
			last = named(NameASTAP, path, err)
			continue
		}
		detail := fmt.Sprintf("(exit status %d, %s)%s", res.exit, a.meaning(res.exit), said(joinNonEmpty(iniError(ws.base()+".ini"), res.output)))
		last = named(NameASTAP, path, &Error{Kind: ErrNoSolution, Detail: detail})
		if res.exit >= astapSetupError {
			break
		}
	}
	return nil, last
}

// args builds one ASTAP command line.
func (a *ASTAP) args(frame string, hi hints, fov float64) []string {
	args := []string{"-f", frame, "-log", "-wcs",
		"-z", strconv.Itoa(a.opt.Downsample), "-r", num(a.opt.RadiusDeg)}
	if a.opt.DatabaseDir != "" {
		args = append(args, "-d", a.opt.DatabaseDir)
	}
	if fov > 0 {
		args = append(args, "-fov", num(fov))
	} else {
		args = append(args, "-fov", "0")
	}
	if hi.hasPointing {
		args = append(args, "-ra", num(hi.ra/15), "-spd", num(hi.dec+90))
	}
	return append(args, a.opt.ExtraArgs...)
}

func (a *ASTAP) meaning(exit int) string {
	switch exit {
	case 1:
		return "no solution"
	case 2:
		return "not enough stars"
	case 16:
		return "error reading the image"
	case 32:
		return "no star database found"
	case 33:
		return "error reading the star database"
	}
	return "solver error"
}

// iniError returns the ERROR= and WARNING= lines ASTAP writes into its .ini result file.
func iniError(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "ERROR=") || strings.HasPrefix(line, "WARNING=") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "; ")
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
