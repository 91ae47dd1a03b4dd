package synth

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// gaussianAbove is the mean (electrons) from which Poisson noise is drawn from its Gaussian
// approximation; the skewness left there, 1/√100 = 0.1, is invisible after stacking, and exact
// sampling below keeps faint-sky frames honest (no negative photon counts).
const gaussianAbove = 100

// poisson draws a Poisson variate of mean lam < gaussianAbove by inversion of the CDF with one
// uniform draw, so each pixel consumes a fixed number of draws whatever its value.
func poisson(rng *rand.Rand, lam float64) int {
	if lam <= 0 {
		return 0
	}
	u := rng.Float64()
	p := math.Exp(-lam)
	cdf := p
	k := 0
	// The cap guards against a CDF that rounds to just below u near 1.
	limit := int(lam + 20*math.Sqrt(lam) + 30)
	for u > cdf && k < limit {
		k++
		p *= lam / float64(k)
		cdf += p
	}
	return k
}

// noiseRow writes one noisy row: truth (ADU) → electrons → shot noise + read noise → ADU.
func noiseRow(dst, truth []float32, rng *rand.Rand, gain, readNoise float64) {
	rn2 := readNoise * readNoise
	for x, t := range truth {
		lam := float64(t) * gain
		var e float64
		if lam >= gaussianAbove {
			// Shot and read noise are both Gaussian here: one draw with the summed variance.
			e = lam + math.Sqrt(lam+rn2)*rng.NormFloat64()
		} else {
			e = float64(poisson(rng, lam)) + readNoise*rng.NormFloat64()
		}
		dst[x] = float32(e / gain)
	}
}

// rowBand is how many rows a worker takes at a time: large enough to keep the shared counter
// cold, small enough to balance two to sixteen cores on a 768-row frame.
const rowBand = 16

// addNoise fills dst (w×h) with a noisy realisation of truth for frame i. Each row draws from
// its own PCG stream (Seed, frame, row), so rows run in parallel and the output does not depend
// on GOMAXPROCS or scheduling.
func addNoise(dst, truth []float32, o Options, frame int) {
	w, h := o.Width, o.Height
	seed := streamSeed(o.Seed, streamNoise, uint64(frame))
	workers := min(runtime.GOMAXPROCS(0), (h+rowBand-1)/rowBand)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			src := rand.NewPCG(0, 0)
			rng := rand.New(src)
			for {
				y0 := int(next.Add(rowBand)) - rowBand
				if y0 >= h {
					return
				}
				for y := y0; y < min(y0+rowBand, h); y++ {
					src.Seed(seed, uint64(y))
					noiseRow(dst[y*w:(y+1)*w], truth[y*w:(y+1)*w], rng, o.Gain, o.ReadNoise)
				}
			}
		})
	}
	wg.Wait()
}
