package pipeline

import (
	"fmt"
	"image"
)

// MosaicPlan is how a mosaic uses its memory budget.
type MosaicPlan struct {
	Width, Height, Channels int
	BandRows                int   // output rows per band
	Bands                   int   // number of row bands
	Slots                   int   // inputs reprojected at the same time, each with its own window
	PeakBytes               int64 // estimated pixel buffers at the peak
	// Overlap: a second finished band is held so that the sink takes one band while the next
	// is computed (when the budget allows; otherwise the sink and the bands alternate).
	Overlap bool
}

// MosaicShape is what PlanMosaic needs to know about a mosaic.
type MosaicShape struct {
	Width, Height, Channels int
	MaxInputPixels          int64             // pixels of the largest input (one channel)
	SinkBytes               int64             // what the sink keeps for the whole run (MosaicSink.HeldBytes)
	Workers                 int               // goroutines; bounds Slots
	Layered                 bool              // Combine median or kappa: every input of a band held at once
	Boxes                   []image.Rectangle // the inputs' boxes on the output grid (layer widths)
	ForceRows               int               // > 0: this band height (tests of band independence)
	// WindowPixels, when set, is the largest input window (pixels of one channel: input width ×
	// window rows) that any band of the given height reads; nil counts every window as a whole
	// input (MaxInputPixels). MosaicTo derives it from the inputs' coordinate grids (rowProfile).
	WindowPixels func(rows int) int64
	// Alpha is set when some input has an ALPHA extension: its window rows are read too.
	Alpha bool
	// FinishBytes is what the sink needs after the last band (the stretch of a preview), when
	// the band buffers are free again: the budget must hold SinkBytes + FinishBytes.
	FinishBytes int64
}

// mosaicMaxBandRows caps the band height: bands of a few hundred rows already amortise the
// per-band work (coordinate grids, input windows); taller ones only cost memory.
const mosaicMaxBandRows = 512

// PlanMosaic cuts the output into row bands that fit budget. Held for the whole run: what the
// sink keeps (the whole image for Mosaic, a preview and the writers' encoding buffers when
// streaming to files). Per slot (an input being reprojected): the largest input window that a
// band of that height reads (all channels, its ALPHA rows when an input has some, its mask,
// feather weights and distance scratch). Per band row: float64 sum and weight accumulators per
// channel and the finished band (value and coverage per channel, alpha); for mean, each slot's
// reprojected values and weights of one row of the widest input box; for median and kappa,
// the reprojected values and weights of every input that reaches the band (their boxes'
// widths) and the per-pixel sort scratch. Slots start at Workers and drop to 1 before the band
// height does; the band height then drops until the band with the most inputs fits. Last,
// Overlap adds a second finished band when it fits, at the cost of at most a quarter of the
// band height.
func PlanMosaic(s MosaicShape, budget int64) (MosaicPlan, error) {
	width, height, channels := s.Width, s.Height, s.Channels
	p := MosaicPlan{Width: width, Height: height, Channels: channels}
	if width <= 0 || height <= 0 || channels <= 0 {
		return p, fmt.Errorf("pipeline: mosaic of %d×%d×%d pixels", width, height, channels)
	}
	nc := int64(channels)
	windowPx := int64(nc*4 + 4 + 1 + 8)
	if s.Alpha {
		windowPx += 4
	}
	window := func(rows int) int64 {
		if s.WindowPixels == nil {
			return s.MaxInputPixels * windowPx
		}
		return min(s.WindowPixels(rows), s.MaxInputPixels) * windowPx
	}
	// Accumulators (float64 sum and weight per channel) and the finished band (value and
	// coverage per channel, alpha); with Overlap a second finished band.
	finished := int64(width) * (nc*8 + 1)
	band := int64(width)*nc*16 + finished
	layerPx := (nc + 1) * 4
	layerWidth := int64(0)
	for _, r := range s.Boxes {
		layerWidth = max(layerWidth, int64(r.Dx()))
	}
	if len(s.Boxes) == 0 {
		layerWidth = int64(width)
	}
	need := func(rows, slots int) int64 {
		b := s.SinkBytes + int64(slots)*window(rows) + band*int64(rows)
		if !s.Layered {
			return b + int64(slots)*layerWidth*layerPx*int64(rows)
		}
		worst := int64(0)
		for y0 := 0; y0 < height; y0 += rows {
			var sum int64
			for _, r := range s.Boxes {
				if r.Min.Y < y0+rows && r.Max.Y > y0 && r.Dx() > 0 {
					sum += int64(r.Dx())
				}
			}
			worst = max(worst, sum)
		}
		return b + worst*int64(rows)*layerPx
	}
	top := min(height, mosaicMaxBandRows)
	if s.ForceRows > 0 {
		top = min(s.ForceRows, height)
	}
	rows, slots := top, max(1, s.Workers)
	for slots > 1 && need(rows, slots) > budget {
		slots--
	}
	for rows > 1 && need(rows, slots) > budget {
		rows = max(1, min(rows-1, rows*7/8))
	}
	if s.ForceRows == 0 && (need(rows, slots) > budget || s.SinkBytes+s.FinishBytes > budget) {
		why := ""
		if s.Layered {
			deepest := 0
			for y := range height {
				n := 0
				for _, r := range s.Boxes {
					if r.Min.Y <= y && r.Max.Y > y && r.Dx() > 0 {
						n++
					}
				}
				deepest = max(deepest, n)
			}
			why = fmt.Sprintf("; combine median and kappa hold every input of a band at once, and up to %d inputs overlap in one row", deepest)
		}
		return p, fmt.Errorf("pipeline: mem budget %s is too small for a %d×%d×%d mosaic (one row band needs %s%s)",
			FormatSize(budget), width, height, channels, FormatSize(max(need(1, 1), s.SinkBytes+s.FinishBytes)), why)
	}
	// The second finished band lets the sink take a band while the next one is computed. It
	// comes last: after the slots (which parallelise the bulk of the work) and at the cost of
	// at most a quarter of the band height (per-band costs are small at a few hundred rows).
	overlap := func(rows int) bool { return need(rows, slots)+finished*int64(rows) <= budget }
	orows := rows
	for s.ForceRows == 0 && orows > 1 && orows > rows*3/4 && !overlap(orows) {
		orows = max(1, min(orows-1, orows*7/8))
	}
	extra := int64(0)
	if overlap(orows) && orows*4 >= rows*3 {
		rows, p.Overlap = orows, true
		extra = finished * int64(rows)
	}
	p.BandRows, p.Slots = rows, slots
	p.Bands = (height + rows - 1) / rows
	p.PeakBytes = max(need(rows, slots)+extra, s.SinkBytes+s.FinishBytes)
	return p, nil
}
