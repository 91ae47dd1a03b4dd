package pipeline

import "fmt"

// StackPlan is how a stack fits its memory budget.
type StackPlan struct {
	Frames, Width, Height, Channels int
	FixedBytes                      int64 // output image + kept-count map, held for the whole run
	RowBytes                        int64 // bytes one row of every frame costs in a band (samples + read buffers)
	BandRows                        int   // rows per band
	Bands                           int   // number of bands per channel
	StatsWorkers                    int   // frames measured at once in the statistics pass
	StatsStride                     int   // measure every StatsStride-th band of StatsBandRows rows (1 = the whole frame)
	PeakBytes                       int64 // planned peak of pixel buffers
	// AlignBytes is the input window of --align wcs per reading goroutine while combining (0
	// without): the frame rows one band of output rows maps to, see alignPlanCost.
	AlignBytes int64 `json:",omitempty"`
	// AlignStatsBytes is that window while measuring: one chunk's rows (alignChunk), since the
	// statistics' samples take the memory then.
	AlignStatsBytes int64 `json:",omitempty"`
}

// planSlack is kept out of the budget for the Go runtime, headers, the report and scratch.
const planSlack = 12 << 20

// PlanStack cuts a stack of frames × (width × height × channels) into row bands that fit budget
// bytes. bytesPerSample is the on-disk sample size (2 for BITPIX 16), for the raw read buffers.
// A band holds one channel of one row range for every frame as float32; workers raw buffers
// are alive at once while frames are read in parallel.
func PlanStack(frames, width, height, channels, bytesPerSample, workers int, budget int64) (StackPlan, error) {
	return planStack(frames, width, height, channels, bytesPerSample, workers, budget, alignCost{})
}

// planStack is PlanStack with the input windows of aligned reading: one per goroutine that
// reads frames (workers while combining, StatsWorkers while measuring), each costing
// align.perRow bytes per band row plus align.fixed.
func planStack(frames, width, height, channels, bytesPerSample, workers int, budget int64, align alignCost) (StackPlan, error) {
	p := StackPlan{Frames: frames, Width: width, Height: height, Channels: channels}
	if frames <= 0 || width <= 0 || height <= 0 || channels <= 0 {
		return p, fmt.Errorf("pipeline: nothing to stack (%d frames of %d×%d×%d)", frames, width, height, channels)
	}
	if workers < 1 {
		workers = 1
	}
	pixels := int64(width) * int64(height) * int64(channels)
	p.FixedBytes = pixels * 8 // float32 image + uint32 kept count
	p.RowBytes = int64(frames)*int64(width)*4 + int64(workers)*int64(width)*int64(bytesPerSample) + int64(workers)*align.perRow
	avail := budget - p.FixedBytes - planSlack
	windows := int64(workers) * align.fixed
	if avail-windows < p.RowBytes {
		need := p.FixedBytes + planSlack + windows + p.RowBytes
		return p, fmt.Errorf("pipeline: mem budget %s too small for %d frames of %d×%d×%d: at least %s needed",
			FormatSize(budget), frames, width, height, channels, FormatSize(need))
	}
	rows := (avail - windows) / p.RowBytes
	if rows > int64(height) {
		rows = int64(height)
	}
	p.BandRows = int(rows)
	if align != (alignCost{}) {
		p.AlignBytes = align.fixed + rows*align.perRow
		p.AlignStatsBytes = align.fixed
	}
	p.Bands = (height + p.BandRows - 1) / p.BandRows

	// Statistics: each worker holds one channel's sample and MeasureFrame's sort buffers, about
	// 16 bytes per sample. The sample depends on the frame shape only (never on the budget or
	// the thread count), so the weights and normalisation, and with them the output, are the
	// same whatever the budget: the whole plane up to MaxStatsSamples, else every
	// StatsStride-th band of StatsBandRows rows.
	p.StatsStride = 1
	maxSamples := int64(MaxStatsSamples)
	if align != (alignCost{}) {
		maxSamples = MaxAlignedStatsSamples
	}
	for sampledRows(height, p.StatsStride)*int64(width) > maxSamples && p.StatsStride < height {
		p.StatsStride *= 2
	}
	statsCost := sampledRows(height, p.StatsStride)*int64(width)*16 + 1<<20 + p.AlignStatsBytes
	if avail < statsCost {
		need := p.FixedBytes + planSlack + statsCost
		return p, fmt.Errorf("pipeline: mem budget %s too small to measure frames of %d×%d: at least %s needed",
			FormatSize(budget), width, height, FormatSize(need))
	}
	p.StatsWorkers = int(min(int64(workers), avail/statsCost))
	stats := int64(p.StatsWorkers) * statsCost
	band := int64(p.BandRows)*p.RowBytes + windows
	p.PeakBytes = p.FixedBytes + max(band, stats)
	return p, nil
}

// MaxStatsSamples caps the samples per channel that measure a frame (P25, P90, σ): 2 Mi
// samples estimate them far below the noise of any frame, and bound the statistics' memory.
const MaxStatsSamples = 1 << 21

// MaxAlignedStatsSamples is MaxStatsSamples with --align wcs, where each sample costs a
// resampling: 256 Ki samples still put P25, P90 and σ within 0.3 % of σ of their values, and
// keep the statistics pass at a fraction of the combine's time instead of doubling it.
const MaxAlignedStatsSamples = 1 << 18

// StatsBandRows is the height of the row bands that sample a large frame.
const StatsBandRows = 32

// sampledRows is how many rows a frame of height h contributes to its statistics at stride s.
func sampledRows(h, s int) int64 {
	if s <= 1 {
		return int64(h)
	}
	step := StatsBandRows * s
	n := int64(0)
	for y0 := 0; y0 < h; y0 += step {
		n += int64(min(StatsBandRows, h-y0))
	}
	return n
}
