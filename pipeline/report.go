package pipeline

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/zmosaic/zmosaic/compute"
)

// Report is the JSON run report of one command: what went in, with which options, what came
// out, how long each phase took on which backend, and every event.
type Report struct {
	Software     string           `json:"software"`
	Command      string           `json:"command"`
	Args         []string         `json:"args,omitempty"`
	Started      time.Time        `json:"started"`
	Seconds      float64          `json:"seconds"`
	Options      any              `json:"options"`
	Inputs       []FrameInfo      `json:"inputs"`
	Outputs      []string         `json:"outputs"`
	Phases       []PhaseTiming    `json:"phases"`
	Rejection    *RejectionStats  `json:"rejection,omitempty"`
	Plan         *StackPlan       `json:"plan,omitempty"`
	Compute      *compute.Summary `json:"compute,omitempty"`        // GPU/CPU decisions, chunks, fallbacks
	PeakRSSBytes int64            `json:"peak_rss_bytes,omitempty"` // from the OS, where it tells
	Events       []compute.Event  `json:"events"`
	Error        string           `json:"error,omitempty"`
}

// RejectionStats are the rejection totals of a stack.
type RejectionStats struct {
	Pixels       int64   `json:"pixels"`  // output pixels, all channels
	Samples      int64   `json:"samples"` // valid input samples considered
	RejectedLow  int64   `json:"rejected_low"`
	RejectedHigh int64   `json:"rejected_high"`
	LowPercent   float64 `json:"rejected_low_pct"`
	HighPercent  float64 `json:"rejected_high_pct"`
}

// NewStackReport fills a report from a finished stack.
func NewStackReport(res *StackResult, opt StackOptions) *Report {
	r := &Report{Software: "zmosaic " + Version, Command: "stack", Options: opt, Inputs: res.Frames, Phases: res.Phases}
	r.Plan = &res.Plan
	r.Compute = &res.Compute
	r.Rejection = &RejectionStats{
		Pixels: res.Stats.Pixels, Samples: res.Stats.Samples, RejectedLow: res.Stats.RejectedLow, RejectedHigh: res.Stats.RejectedHigh,
		LowPercent: pct(res.Stats.RejectedLow, res.Stats.Samples), HighPercent: pct(res.Stats.RejectedHigh, res.Stats.Samples),
	}
	return r
}

// WriteReport writes the report as indented JSON, atomically.
func WriteReport(name string, r *Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("pipeline: report: %w", err)
	}
	return writeFileAtomic(name, append(data, '\n'))
}
