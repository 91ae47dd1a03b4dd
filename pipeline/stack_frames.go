package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// frameReader reads row bands of one input. It keeps the file open when keep is set; otherwise
// it opens and closes it around each read, so thousands of inputs need no file descriptors.
// One goroutine at a time uses a frameReader.
type frameReader struct {
	src  FrameSource
	info int // index in StackResult.Frames
	sel  string
	keep bool
	meta *fits.ImageHDU // header and geometry from the scan; stays valid when the file is closed
	f    *fits.File
	hdu  *fits.ImageHDU // the open HDU, nil while closed
	// With --align wcs: the frame's WCS, and how the reference grid maps onto it (nil on the
	// reference, which is read as it is). Mosaic readers leave both nil.
	wcs   *wcs.WCS
	align *frameAlign
}

func (r *frameReader) open() error {
	if r.hdu != nil {
		return nil
	}
	f, err := r.src.Open()
	if err != nil {
		return err
	}
	hdu, err := f.Image(r.sel)
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.hdu = f, hdu
	return nil
}

func (r *frameReader) readRows(c, y0, y1 int, dst []float32) error {
	if err := r.open(); err != nil {
		return fmt.Errorf("pipeline: %s: %w", r.src.Name(), err)
	}
	err := r.hdu.ReadRows(c, y0, y1, dst)
	if !r.keep {
		r.close()
	}
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", r.src.Name(), err)
	}
	return nil
}

// hold keeps r open across a group of reads (every channel of a window and its ALPHA) until
// the returned release: the file is then closed again unless r keeps it open anyway, so the
// group costs one open (one decompression of a .gz input) instead of one per read.
func (r *frameReader) hold() (release func()) {
	keep := r.keep
	r.keep = true
	return func() {
		r.keep = keep
		if !keep {
			r.close()
		}
	}
}

func (r *frameReader) close() {
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.hdu = nil, nil
}

// scanFrames opens every input once to read its header and checks that all share one shape.
// Bad inputs fail the run with every reason listed, or are skipped with opt.SkipBad. The returned
// readers hold their header (meta) but no open file.
func scanFrames(srcs []FrameSource, opt StackOptions, hooks Hooks, res *StackResult) ([]*frameReader, error) {
	var frames []*frameReader
	var bad []error
	var ref *fits.ImageHDU
	for i, src := range srcs {
		info := FrameInfo{File: src.Name()}
		r := &frameReader{src: src, sel: opt.HDU, info: i}
		err := r.open()
		if err == nil {
			h := r.hdu
			info.Width, info.Height, info.Channels, info.Bitpix = h.Width, h.Height, h.Channels, h.Bitpix
			info.Warnings = r.f.Warnings
			for _, w := range r.f.Warnings {
				hooks.Events.Emit(compute.Warn, "fits_card_skipped", map[string]any{"file": src.Name(), "reason": w})
			}
			switch {
			case opt.Align == AlignWCS:
				// Frames of any size are resampled onto the reference grid; the channels must agree.
				r.wcs, err = readFrameWCS(h)
				if err == nil && ref != nil && h.Channels != ref.Channels {
					err = fmt.Errorf("%d channels differ from %d of %s", h.Channels, ref.Channels, frames[0].src.Name())
				}
			case ref != nil && (h.Width != ref.Width || h.Height != ref.Height || h.Channels != ref.Channels):
				err = fmt.Errorf("shape %d×%d×%d differs from %d×%d×%d of %s (frames of other shapes need --align wcs)",
					h.Width, h.Height, h.Channels, ref.Width, ref.Height, ref.Channels, frames[0].src.Name())
			}
		}
		if err != nil {
			info.Error = err.Error()
			bad = append(bad, fmt.Errorf("pipeline: %s: %w", src.Name(), err))
			hooks.Events.Emit(compute.Warn, "stack_frame_skipped", map[string]any{"file": src.Name(), "reason": err.Error()})
			r.close()
		} else {
			r.meta = r.hdu
			r.close() // reopened by the bands as the plan allows
			if ref == nil {
				ref = r.meta
			}
			frames = append(frames, r)
		}
		res.Frames = append(res.Frames, info)
		hooks.progress("scan", i+1, len(srcs))
	}
	if len(bad) > 0 && !opt.SkipBad {
		return nil, errors.Join(bad...)
	}
	if len(frames) == 0 {
		return nil, errors.New("pipeline: no readable frame to stack")
	}
	return frames, nil
}

// measureFrames reads each frame once (or a regular subset of its rows when the budget is
// tight) to measure per-channel statistics, then derives normalisation and weights. It returns
// nil slices for norm "none" and weight "none".
func measureFrames(ctx context.Context, frames []*frameReader, opt StackOptions, plan StackPlan, hooks Hooks, res *StackResult) ([][]cpu.Affine, [][]float32, error) {
	if opt.Norm == "none" && opt.Weight == "none" {
		return nil, nil, nil
	}
	w, h, nc := plan.Width, plan.Height, plan.Channels
	stats := make([][]cpu.FrameStats, len(frames))
	var mu sync.Mutex
	done := 0
	err := forEach(len(frames), plan.StatsWorkers, func(i int) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pipeline: measuring stopped: %w", err)
		}
		// The sample (see PlanStack): the whole plane, or every StatsStride-th band. Contiguous
		// bands are cheap to read and spread the sample over the frame.
		rows, step := h, h
		if plan.StatsStride > 1 {
			rows, step = StatsBandRows, StatsBandRows*plan.StatsStride
		}
		buf := make([]float32, 0, sampledRows(h, plan.StatsStride)*int64(w))
		st := make([]cpu.FrameStats, nc)
		for c := range nc {
			buf = buf[:0]
			for y0 := 0; y0 < h; y0 += step {
				y1 := min(y0+rows, h)
				n := len(buf)
				buf = buf[:n+(y1-y0)*w]
				if err := frames[i].readBand(c, y0, y1, buf[n:]); err != nil {
					return err
				}
			}
			st[c] = cpu.MeasureFrame(buf)
		}
		frames[i].close()
		stats[i] = st
		mu.Lock()
		done++
		hooks.progress("measure", done, len(frames))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var norm [][]cpu.Affine
	var weights [][]float32
	if opt.Norm != "none" {
		norm = cpu.NormCoefficients(stats, opt.Reference, opt.Norm)
	}
	if opt.Weight == "noise" {
		weights = cpu.NoiseWeights(stats)
	}
	for i, f := range frames {
		info := &res.Frames[f.info]
		info.Stats = stats[i]
		if norm != nil {
			info.Norm = norm[i]
		}
		if weights != nil {
			info.Weights = weights[i]
		}
	}
	return norm, weights, nil
}
