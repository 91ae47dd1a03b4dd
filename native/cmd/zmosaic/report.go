package main

import (
	"time"

	"github.com/zmosaic/zmosaic/pipeline"
)

// finishReport completes a run report (wall time, peak RSS, events, the run's error), writes it
// when a path was given — also after a failure, so the reasons stay on disk — and prints the
// failure with failKey. It returns exitOK only when the run succeeded and its report was written.
func (a *app) finishReport(rep *pipeline.Report, start time.Time, runErr error, path, failKey string) int {
	rep.Seconds = time.Since(start).Seconds()
	rep.PeakRSSBytes = peakRSS()
	rep.Events = a.takeEvents()
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if path != "" {
		if werr := pipeline.WriteReport(path, rep); werr != nil {
			a.errorf("write_failed", map[string]any{"file": path, "error": werr.Error()})
			if runErr == nil {
				return exitFailure
			}
		}
	}
	if runErr != nil {
		a.errorf(failKey, map[string]any{"error": runErr.Error()})
		return exitFailure
	}
	return exitOK
}
