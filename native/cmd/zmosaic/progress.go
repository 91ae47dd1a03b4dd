package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress shows one phase's progress: a bar with ETA on a terminal, otherwise a line when
// the phase starts and one when it ends (logs stay readable).
type progress struct {
	phase string
	bar   *progressbar.ProgressBar
	total int
	start time.Time
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressFunc returns the pipeline's progress hook for this invocation.
func (a *app) progressFunc() func(phase string, done, total int) {
	return func(phase string, done, total int) {
		if a.quiet {
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		p := a.bar
		if p == nil || p.phase != phase {
			if p != nil && p.bar != nil {
				p.bar.Finish()
				fmt.Fprintln(a.stderr)
			}
			p = &progress{phase: phase, total: total, start: time.Now()}
			label := a.t("progress_"+phase, nil)
			if a.tty {
				p.bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionSetDescription(label),
					progressbar.OptionShowCount(),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionSetElapsedTime(true),
					progressbar.OptionSetWidth(30),
					progressbar.OptionThrottle(100*time.Millisecond),
				)
			} else {
				fmt.Fprintln(a.stderr, a.t("progress_start", map[string]any{"phase": label, "total": total}))
			}
			a.bar = p
		}
		if p.bar != nil {
			p.bar.Set(done)
			if done >= total {
				p.bar.Finish()
				fmt.Fprintln(a.stderr)
				a.bar = nil
			}
			return
		}
		if done >= total {
			fmt.Fprintln(a.stderr, a.t("progress_done", map[string]any{
				"phase": a.t("progress_"+phase, nil), "total": total, "seconds": time.Since(p.start).Seconds()}))
			a.bar = nil
		}
	}
}

// clearBar erases a terminal bar so that a log line can be printed cleanly.
func (a *app) clearBar() {
	if a.bar != nil && a.bar.bar != nil {
		a.bar.bar.Clear()
	}
}
