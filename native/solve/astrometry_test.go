package solve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// fakeSolveField is a solve-field stand-in: it logs its arguments, writes sol as <base>.wcs in
// --dir plus the .solved/.axy/.new files the real one leaves, and litters --temp-dir.
const fakeSolveField = `printf '%%s\n' "$*" >> '%[1]s'
for a; do last="$a"; done
dir=""; tmp=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift;;
    --temp-dir) tmp="$2"; shift;;
  esac
  shift
done
[ -n "$dir" ] && [ -d "$tmp" ] || { echo "missing --dir or --temp-dir" >&2; exit 2; }
[ "$(head -c 9 "$last")" = "SIMPLE  =" ] || { echo "cannot read $last" >&2; exit 1; }
base=$(basename "$last" .fits)
cp '%[2]s' "$dir/$base.wcs"
touch "$dir/$base.solved" "$dir/$base.axy" "$(dirname "$last")/$base.new" "$tmp/tmp.sanitized"
echo "Field 1: solved with index index-4107.fits."
`

func TestAstrometryNetSolvesACopy(t *testing.T) {
	data := sharedData(t)
	ref := filepath.Join(data, "astrometrynet_thumbnail_sip.fits.gz")
	tools, work := t.TempDir(), t.TempDir()
	sol := filepath.Join(tools, "solution.wcs")
	require.NoError(t, os.WriteFile(sol, headerBytes(t, ref), 0o644))
	log := filepath.Join(tools, "calls.txt")
	// On PATH, as a user's install would be.
	script(t, tools, "solve-field", fmt.Sprintf(fakeSolveField, log, sol))
	t.Setenv("PATH", tools+string(os.PathListSeparator)+os.Getenv("PATH"))
	path, hdr := userFrame(t, true)
	before := snapshot(t, filepath.Dir(path))

	s, err := New("astrometry", Options{TempDir: work, DatabaseDir: "/data/index"})
	require.NoError(t, err)
	assert.Equal(t, "astrometry", s.Name())
	assert.Equal(t, filepath.Join(tools, "solve-field"), s.(*AstrometryNet).Executable())
	got, err := s.Solve(context.Background(), path, hdr)
	require.NoError(t, err)

	w, err := wcs.FromHeader(got)
	require.NoError(t, err)
	require.NoError(t, w.Validate(64, 48, wcs.DefaultValidateOptions()))
	want := realWCS(t, ref)
	require.NotNil(t, w.SIP, "the SIP terms of the solution are kept")
	assert.Equal(t, want.SIP.Order, w.SIP.Order)
	assert.Equal(t, want.SIP.A, w.SIP.A)
	assert.Equal(t, want.CRVal, w.CRVal)
	assert.Equal(t, want.CD, w.CD)
	ct, _ := got.String("CTYPE1")
	assert.Equal(t, "RA---TAN-SIP", ct)

	c := calls(t, log)
	require.Len(t, c, 1)
	for _, arg := range []string{"--no-plots", "--overwrite", "--no-verify", "--new-fits none", "--downsample 2",
		"--cpulimit 60", "--ra 150.000000", "--dec 20.000000", "--radius 3.000000", "--scale-units arcsecperpix",
		"--scale-low 1.914", "--scale-high 2.871", "--config "} {
		assert.Contains(t, c[0], arg)
	}
	assert.NotContains(t, c[0], filepath.Dir(path), "the solver must run on a copy")
	assert.Equal(t, before, snapshot(t, filepath.Dir(path)), "user folder changed")
	emptyDir(t, work)
}

func TestAstrometryNetWritesIndexConfig(t *testing.T) {
	tools, work := t.TempDir(), t.TempDir()
	// The fake prints the configuration it was given and finds nothing, as solve-field does.
	exe := script(t, tools, "solve-field", `while [ $# -gt 0 ]; do [ "$1" = --config ] && cat "$2"; shift; done
echo "Did not solve (or no WCS file was written)."
`)
	path, hdr := userFrame(t, false)
	s, err := NewAstrometryNet(Options{Executable: exe, TempDir: work, DatabaseDir: "/data/index"})
	require.NoError(t, err)
	_, err = s.Solve(context.Background(), path, hdr)
	require.ErrorIs(t, err, ErrNoSolution)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "solve: astrometry: "+path+": no solution"), msg)
	assert.Contains(t, msg, "add_path /data/index")
	assert.Contains(t, msg, "Did not solve")
	emptyDir(t, work)
}

func TestAstrometryNetFailureKeepsStderr(t *testing.T) {
	tools := t.TempDir()
	exe := script(t, tools, "solve-field", "echo 'astrometry-engine: no index files found' >&2\nexit 3\n")
	path, hdr := userFrame(t, false)
	s, err := NewAstrometryNet(Options{Executable: exe, TempDir: t.TempDir()})
	require.NoError(t, err)
	_, err = s.Solve(context.Background(), path, hdr)
	require.ErrorIs(t, err, ErrNoSolution)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "no index files found")
	assert.Contains(t, err.Error(), path)
}
