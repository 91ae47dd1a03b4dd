package pipeline

import (
	"fmt"
	"math"
	"slices"
)

// Per-input weight modes of MosaicOptions.InputWeights.
const (
	InputWeightsNone     = "none"     // every input weighs 1
	InputWeightsFrames   = "frames"   // weight ∝ frame count (inverse variance of equal frames)
	InputWeightsTempered = "tempered" // √(frames / median frames), clipped to [0.75, 1.35]
)

// Bounds of the tempered weight (ZeMosaic's tile-weight clip, spec §3.1).
const (
	temperedWeightMin = 0.75
	temperedWeightMax = 1.35
)

// frameCountKeys are the header keys that say how many frames an input combines, in order of
// preference: ours (NCOMBINE, written by zmosaic stack and run) and ZeMosaic's master tiles.
var frameCountKeys = []string{"NCOMBINE", "MT_NFRAMES", "ZMT_NRAW"}

// frameCount is the number of frames input in combines: the first positive count among
// frameCountKeys, else 1 (a single frame).
func frameCount(in *mosaicInput) float64 {
	for _, k := range frameCountKeys {
		if n, ok := in.r.meta.Header.Int(k); ok && n > 0 {
			return float64(n)
		}
	}
	return 1
}

// inputWeights returns the per-input weights of mode for inputs, in input order; each
// multiplies the feather weights of its input, so it scales the input's share of every pixel
// it covers and its coverage.
//
// frames weighs an input by its frame count relative to the median count: the inverse
// variance of a mean of equal frames, the statistically best blend. tempered (the default)
// takes the square root of that ratio and clips it to [0.75, 1.35], as ZeMosaic does: a tile
// of 200 frames beside one of 20 then weighs 1.35/0.75 instead of 10, which keeps the noise
// texture of the mosaic even across tile boundaries at a small cost in depth.
func inputWeights(inputs []*mosaicInput, mode string) ([]float32, error) {
	w := make([]float32, len(inputs))
	if mode == InputWeightsNone || mode == "" {
		for i := range w {
			w[i] = 1
		}
		return w, nil
	}
	n := make([]float64, len(inputs))
	for i, in := range inputs {
		n[i] = frameCount(in)
	}
	s := slices.Clone(n)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	for i := range n {
		r := n[i] / med
		switch mode {
		case InputWeightsFrames:
			w[i] = float32(r)
		case InputWeightsTempered:
			w[i] = float32(min(max(math.Sqrt(r), temperedWeightMin), temperedWeightMax))
		default:
			return nil, fmt.Errorf("pipeline: unknown input weights %q (want none, frames or tempered)", mode)
		}
	}
	return w, nil
}
