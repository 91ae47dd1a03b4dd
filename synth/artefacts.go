package synth

import (
	"math"
	"math/rand/v2"
)

// Artefact brightness, in units of the sky noise σ (noiseSigma). The minima keep every affected
// pixel well above the 20σ a rejection test looks for, even on top of a -5σ noise draw.
const (
	cosmicMinSigmas    = 60   // first pixel of a hit; neighbours get 50–100 % of it
	cosmicMaxSigmas    = 600  //
	satelliteMinSigmas = 45   // trail peak; pixels within 0.5 px of the line get ≥ 70 % of it
	satelliteMaxSigmas = 150  //
	hotMinSigmas       = 50   //
	hotMaxSigmas       = 1500 //
	trailSigmaPx       = 0.6  // Gaussian cross-section of a trail, pixels
	trailHalfWidthPx   = 2.5  // beyond this the profile is below 1e-7 of the peak
)

// hotPixel is a fixed defect: the same pixel gains the same amplitude (ADU) in every frame.
type hotPixel struct {
	index int
	amp   float32
}

// makeHotPixels draws distinct hot-pixel positions and amplitudes from the seed alone.
func makeHotPixels(o Options) []hotPixel {
	rng := newRand(o.Seed, streamHot, 0, 0)
	sigma := noiseSigma(o)
	seen := make(map[int]bool, o.HotPixels)
	hot := make([]hotPixel, 0, o.HotPixels)
	for len(hot) < o.HotPixels {
		i := rng.IntN(o.Width * o.Height)
		amp := (hotMinSigmas + rng.Float64()*(hotMaxSigmas-hotMinSigmas)) * sigma
		if seen[i] {
			continue // Validate caps the count at 1/16 of the pixels, so this ends quickly
		}
		seen[i] = true
		hot = append(hot, hotPixel{index: i, amp: float32(amp)})
	}
	return hot
}

// addArtefacts adds frame i's cosmic rays and satellite trail, then the fixed hot pixels, to
// pix. Per-frame artefacts draw from their own stream, so the noise under them is the same as in
// the clean twin.
func addArtefacts(pix []float32, o Options, hot []hotPixel, frame int) {
	rng := newRand(o.Seed, streamArtefacts, uint64(frame), 0)
	sigma := noiseSigma(o)
	addCosmicRays(pix, o, rng, sigma)
	// The trail decision and its geometry are always drawn, so Satellites changes only
	// whether a trail is drawn, not where.
	hit := rng.Float64() < o.Satellites
	theta := rng.Float64() * math.Pi
	px := (0.25 + 0.5*rng.Float64()) * float64(o.Width)
	py := (0.25 + 0.5*rng.Float64()) * float64(o.Height)
	amp := (satelliteMinSigmas + rng.Float64()*(satelliteMaxSigmas-satelliteMinSigmas)) * sigma
	if hit {
		addTrail(pix, o.Width, o.Height, theta, px, py, amp)
	}
	for _, hp := range hot {
		pix[hp.index] += hp.amp
	}
}

// addCosmicRays adds sharp hits of 1–3 connected pixels, as a particle crossing the sensor at a
// shallow angle leaves: no PSF, so a stacker cannot mistake them for stars.
func addCosmicRays(pix []float32, o Options, rng *rand.Rand, sigma float64) {
	w, h := o.Width, o.Height
	for range o.CosmicRays {
		x, y := rng.IntN(w), rng.IntN(h)
		n := 1 + rng.IntN(3)
		amp := (cosmicMinSigmas + rng.Float64()*(cosmicMaxSigmas-cosmicMinSigmas)) * sigma
		pix[y*w+x] += float32(amp)
		for range n - 1 {
			// Step to one of the 8 neighbours; a step off the frame is simply lost.
			d := rng.IntN(8)
			if d >= 4 {
				d++ // skip (0,0) in the 3×3 neighbourhood
			}
			x, y = x+d%3-1, y+d/3-1
			a := amp * (0.5 + 0.5*rng.Float64())
			if x >= 0 && x < w && y >= 0 && y < h {
				pix[y*w+x] += float32(a)
			}
		}
	}
}

// addTrail adds a straight satellite trail through (px, py) at angle theta across the whole
// frame, with a Gaussian cross-section of trailSigmaPx.
func addTrail(pix []float32, w, h int, theta, px, py, amp float64) {
	sin, cos := math.Sincos(theta)
	// Signed distance of (x, y) to the line: d = -sin·(x-px) + cos·(y-py).
	inv2s2 := 1 / (2 * trailSigmaPx * trailSigmaPx)
	for y := range h {
		x0, x1 := 0, w-1
		if math.Abs(sin) > 1e-9 {
			// Solve |d| <= half width for x on this row.
			a := px + (cos*(float64(y)-py)-trailHalfWidthPx)/sin
			b := px + (cos*(float64(y)-py)+trailHalfWidthPx)/sin
			lo, hi := math.Min(a, b), math.Max(a, b)
			if hi < 0 || lo > float64(w-1) {
				continue
			}
			x0, x1 = max(0, int(math.Floor(lo))), min(w-1, int(math.Ceil(hi)))
		}
		for x := x0; x <= x1; x++ {
			d := -sin*(float64(x)-px) + cos*(float64(y)-py)
			if math.Abs(d) <= trailHalfWidthPx {
				pix[y*w+x] += float32(amp * math.Exp(-d*d*inv2s2))
			}
		}
	}
}
