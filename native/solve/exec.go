package solve

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// tailSize is how much of a solver's output is kept for error messages: its last words say
// why it failed, its first thousand lines of progress do not.
const tailSize = 4096

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// outcome is how a solver run ended when it was not killed.
type outcome struct {
	exit   int    // exit status, 0 on success
	output string // stderr tail, or stdout tail when stderr was silent
}

// waitDelay bounds how long Wait waits for output pipes after the process is gone (a
// grandchild the group kill missed could hold them open forever).
const waitDelay = 2 * time.Second

// run starts exe in dir and waits at most timeout. A timeout kills the process group and
// returns ErrTimeout; a cancelled ctx returns ctx's error. A non-zero exit is not an error here:
// each solver reads its own exit codes.
func run(ctx context.Context, timeout time.Duration, dir, exe string, args []string) (outcome, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, exe, args...)
	cmd.Dir = dir
	var stdout, stderr tail
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ownProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	output := stderr.String()
	if output == "" {
		output = stdout.String()
	}
	if rctx.Err() != nil {
		if ctx.Err() != nil {
			return outcome{}, &Error{Kind: ctx.Err()}
		}
		return outcome{}, &Error{Kind: ErrTimeout, Detail: fmt.Sprintf("after %v (process killed)%s", timeout, said(output))}
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return outcome{output: output}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		return outcome{exit: exitErr.ExitCode(), output: output}, nil
	}
	return outcome{}, &Error{Kind: err, Detail: strings.TrimPrefix(said(output), ": ")}
}

// said formats a solver's output for the end of an error message.
func said(output string) string {
	if output == "" {
		return ""
	}
	return ": " + strings.Join(strings.Fields(output), " ")
}
