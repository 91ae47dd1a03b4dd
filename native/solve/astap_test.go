package solve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/wcs"
)

// fakeASTAP is an ASTAP stand-in: it logs its arguments, refuses a copy that is not plain
// FITS (exit 16, as ASTAP does for an unreadable image), fails (exit 1, with an .ini ERROR
// line) unless -fov is 0, and then writes sol as the .wcs result beside its input, with the
// .ini and .log files the real one leaves there.
const fakeASTAP = `printf '%%s\n' "$*" >> '%[1]s'
f=""; fov=""
while [ $# -gt 0 ]; do
  case "$1" in
    -f) f="$2"; shift;;
    -fov) fov="$2"; shift;;
  esac
  shift
done
[ "$(head -c 9 "$f")" = "SIMPLE  =" ] || { echo "cannot read $f" >&2; exit 16; }
base="${f%%.*}"
if [ "$fov" != "0" ]; then
  echo "ERROR=no solution found" > "$base.ini"
  echo "no solution at fov $fov" >&2
  exit 1
fi
cp '%[2]s' "$base.wcs"
echo "PLTSOLVD=T" > "$base.ini"
echo "solved" > "$base.log"
`

func TestASTAPSolvesACopyAndRetriesWithFOV0(t *testing.T) {
	data := sharedData(t)
	ref := filepath.Join(data, "isaac_cutouts", "isaac_1.fits")
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			tools, work := t.TempDir(), t.TempDir()
			sol := filepath.Join(tools, "solution.wcs")
			require.NoError(t, os.WriteFile(sol, headerBytes(t, ref), 0o644))
			log := filepath.Join(tools, "calls.txt")
			exe := script(t, tools, "astap", fmt.Sprintf(fakeASTAP, log, sol))
			path, hdr := userFrame(t, gz)
			before := snapshot(t, filepath.Dir(path))

			s, err := NewASTAP(Options{Executable: exe, TempDir: work, DatabaseDir: "/db/d50"})
			require.NoError(t, err)
			got, err := s.Solve(context.Background(), path, hdr)
			require.NoError(t, err)

			w, err := wcs.FromHeader(got)
			require.NoError(t, err)
			require.NoError(t, w.Validate(64, 48, wcs.DefaultValidateOptions()))
			want := realWCS(t, ref)
			assert.Equal(t, want.CRVal, w.CRVal)
			assert.Equal(t, want.CRPix, w.CRPix)
			assert.Equal(t, want.CD, w.CD)
			hist, ok := got.String("HISTORY")
			assert.True(t, ok)
			assert.Contains(t, hist, "ASTAP")

			// Two runs: the header's scale gives -fov 2.393"/px × 48 px = 0.031902°, then -fov 0.
			c := calls(t, log)
			require.Len(t, c, 2)
			assert.Contains(t, c[0], "-fov 0.031902 ")
			assert.Contains(t, c[1], "-fov 0 ")
			for _, line := range c {
				for _, arg := range []string{"-log", "-wcs", "-z 2", "-r 3.000000", "-d /db/d50", "-ra 10.000000", "-spd 110.000000"} {
					assert.Contains(t, line+" ", arg+" ")
				}
				assert.NotContains(t, line, filepath.Dir(path), "the solver must run on a copy")
				assert.Contains(t, line, work)
			}
			assert.Equal(t, before, snapshot(t, filepath.Dir(path)), "user folder changed")
			emptyDir(t, work)
		})
	}
}

func TestASTAPRunsOnceWithFOV0WithoutScale(t *testing.T) {
	data := sharedData(t)
	tools, work := t.TempDir(), t.TempDir()
	sol := filepath.Join(tools, "solution.wcs")
	require.NoError(t, os.WriteFile(sol, headerBytes(t, filepath.Join(data, "isaac_cutouts", "isaac_2.fits")), 0o644))
	log := filepath.Join(tools, "calls.txt")
	exe := script(t, tools, "astap", fmt.Sprintf(fakeASTAP, log, sol))
	path, hdr := userFrame(t, false)
	hdr.Delete("FOCALLEN")
	hdr.Delete("RA")
	hdr.Delete("DEC")

	s, err := NewASTAP(Options{Executable: exe, TempDir: work})
	require.NoError(t, err)
	_, err = s.Solve(context.Background(), path, hdr)
	require.NoError(t, err)
	c := calls(t, log)
	require.Len(t, c, 1)
	assert.Contains(t, c[0], "-fov 0")
	assert.NotContains(t, c[0], "-ra ")
	assert.NotContains(t, c[0], "-d ")
}

func TestASTAPTimeoutKillsTheProcessGroup(t *testing.T) {
	tools, work := t.TempDir(), t.TempDir()
	pidFile := filepath.Join(tools, "child.pid")
	log := filepath.Join(tools, "calls.txt")
	// The child sleep stands for a helper process: it must die with its parent.
	exe := script(t, tools, "astap", fmt.Sprintf(`printf '%%s\n' "$*" >> '%s'
echo "searching the star database" >&2
sleep 30 &
echo $! > '%s'
wait
`, log, pidFile))
	path, hdr := userFrame(t, false)
	before := snapshot(t, filepath.Dir(path))

	s, err := NewASTAP(Options{Executable: exe, TempDir: work, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	start := time.Now()
	_, err = s.Solve(context.Background(), path, hdr)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, ErrTimeout)
	assert.Less(t, elapsed, 5*time.Second)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "searching the star database")
	assert.Len(t, calls(t, log), 1, "no retry after a timeout")

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return !alive(pid) }, 3*time.Second, 20*time.Millisecond, "child %d still running", pid)
	assert.Equal(t, before, snapshot(t, filepath.Dir(path)))
	emptyDir(t, work)
}

// alive reports whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestASTAPCancelledContext(t *testing.T) {
	tools := t.TempDir()
	exe := script(t, tools, "astap", "sleep 30 & wait\n")
	path, hdr := userFrame(t, false)
	s, err := NewASTAP(Options{Executable: exe, TempDir: t.TempDir()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = s.Solve(ctx, path, hdr)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrTimeout)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestASTAPFailures(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		runs     int
		kind     error
		contains []string
	}{
		{
			name:     "setup error is not retried and keeps stderr",
			body:     "echo 'star database D50 not found in /opt/astap' >&2\nexit 32\n",
			runs:     1,
			kind:     ErrNoSolution,
			contains: []string{"exit status 32", "no star database found", "star database D50 not found in /opt/astap"},
		},
		{
			name: "no solution twice reports the ini error",
			body: `for a; do case "$prev" in -f) f="$a";; esac; prev="$a"; done
echo "ERROR=Not enough stars" > "${f%.*}.ini"
exit 2
`,
			runs:     2,
			kind:     ErrNoSolution,
			contains: []string{"exit status 2", "not enough stars", "ERROR=Not enough stars"},
		},
		{
			name: "exit 0 without a wcs file",
			body: "exit 0\n",
			runs: 2,
			kind: ErrNoSolution,
			// The retry is made, then the missing file is reported.
			contains: []string{"no .wcs file"},
		},
		{
			name: "singular CD in a text-style solution",
			body: `for a; do case "$prev" in -f) f="$a";; esac; prev="$a"; done
cat > "${f%.*}.wcs" <<'X'
CTYPE1  = 'RA---TAN'
CTYPE2  = 'DEC--TAN'
CRPIX1  =                 32.0
CRPIX2  =                 24.0
CRVAL1  =                150.0
CRVAL2  =                 20.0
CD1_1   =              0.001
CD1_2   =              0.002
CD2_1   =              0.001
CD2_2   =              0.002
END
X
`,
			runs:     2,
			kind:     ErrInvalidSolution,
			contains: []string{"singular"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tools, work := t.TempDir(), t.TempDir()
			log := filepath.Join(tools, "calls.txt")
			exe := script(t, tools, "astap", fmt.Sprintf("printf '%%s\\n' \"$*\" >> '%s'\n", log)+tc.body)
			path, hdr := userFrame(t, false)
			before := snapshot(t, filepath.Dir(path))
			s, err := NewASTAP(Options{Executable: exe, TempDir: work})
			require.NoError(t, err)
			_, err = s.Solve(context.Background(), path, hdr)
			require.ErrorIs(t, err, tc.kind)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "solve: astap: "+path+": "), msg)
			for _, c := range tc.contains {
				assert.Contains(t, msg, c)
			}
			assert.Len(t, calls(t, log), tc.runs)
			assert.Equal(t, before, snapshot(t, filepath.Dir(path)))
			emptyDir(t, work)
		})
	}
}

func TestTextStyleSolutionMatchesFITSStyle(t *testing.T) {
	data := sharedData(t)
	raw := headerBytes(t, filepath.Join(data, "isaac_cutouts", "isaac_3.fits"))
	var lines []string
	for i := 0; i < len(raw); i += cardSize {
		lines = append(lines, strings.TrimRight(string(raw[i:i+cardSize]), " "))
	}
	fitsStyle, err := parseCards(raw)
	require.NoError(t, err)
	textStyle, err := parseCards([]byte(strings.Join(lines, "\r\n")))
	require.NoError(t, err)
	assert.Equal(t, fitsStyle.Cards(), textStyle.Cards())
	v, ok := fitsStyle.Float("CRVAL1")
	require.True(t, ok)
	assert.Equal(t, realWCS(t, filepath.Join(data, "isaac_cutouts", "isaac_3.fits")).CRVal[0], v)
	_, ok = fitsStyle.Get("BITPIX")
	assert.True(t, ok, "the wrapper's own structural keys stay, the solver's are dropped")
	n, _ := fitsStyle.Int("NAXIS1")
	assert.Equal(t, int64(1), n)

	binary := append([]byte(strings.Repeat("X", 70)), make([]byte, 90)...)
	for _, tc := range []struct {
		data []byte
		want string
	}{{nil, "no header cards"}, {[]byte("END"), "no header cards"}, {binary, "non-text bytes"}} {
		_, err := parseCards(tc.data)
		assert.ErrorContains(t, err, tc.want, "%q", tc.data)
	}
}
