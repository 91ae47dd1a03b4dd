package synth

import (
	"math"
	"math/rand/v2"
)

// Streams separate the random draws of each part of the model, so that adding or removing one
// part (for example artefacts) leaves the others' draws unchanged.
const (
	streamStars     = 1
	streamHot       = 2
	streamNoise     = 3
	streamArtefacts = 4
)

// splitmix64 is the finaliser of Steele, Lea & Flood (2014), "Fast splittable pseudorandom
// number generators": it turns nearby inputs (frame 7, frame 8) into unrelated PCG seeds.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// streamSeed derives the first PCG seed word of a stream for one frame (or 0 for per-set
// streams) from the user seed.
func streamSeed(seed, stream, frame uint64) uint64 {
	return splitmix64(seed ^ splitmix64(stream<<32^splitmix64(frame)))
}

// newRand returns a PCG source for (seed, stream, frame); sub selects a sub-stream (a row).
func newRand(seed, stream, frame, sub uint64) *rand.Rand {
	return rand.New(rand.NewPCG(streamSeed(seed, stream, frame), sub))
}

// Moffat PSF with β = 3: realistic seeing wings, and an integer power keeps rendering cheap.
const moffatBeta = 3.0

// moffat holds a Moffat profile normalised to unit integral over the plane:
// I(r) = peak · (1 + r²/α²)^-β with peak = (β-1)/(π α²).
type moffat struct {
	alpha2 float64 // α²
	peak   float64 // value at r = 0 per unit flux
}

func newMoffat(fwhm float64) moffat {
	alpha := fwhm / (2 * math.Sqrt(math.Pow(2, 1/moffatBeta)-1))
	a2 := alpha * alpha
	return moffat{alpha2: a2, peak: (moffatBeta - 1) / (math.Pi * a2)}
}

// at returns the profile per unit flux at squared distance r2.
func (m moffat) at(r2 float64) float64 {
	q := 1 + r2/m.alpha2
	return m.peak / (q * q * q)
}

// radius returns the distance beyond which a star of this flux adds less than cut ADU,
// capped so a single bright star cannot cost a full-frame stamp.
func (m moffat) radius(flux, cut float64) float64 {
	ratio := flux * m.peak / cut
	if ratio <= 1 {
		return 1
	}
	r := math.Sqrt(m.alpha2 * (math.Cbrt(ratio) - 1))
	return math.Min(math.Max(r, 1), 256)
}

// star is one catalog entry. x, y are 0-based pixel coordinates of the centre (pixel (0,0)
// covers -0.5..0.5); flux is the integrated mono flux in ADU; colour scales it per RGB
// channel and averages 1, so the mono flux is the mean of the channel fluxes.
type star struct {
	x, y   float64
	flux   float64
	colour [3]float64
}

// noiseSigma is the sky noise in ADU, the unit for detection limits and artefact brightness.
// It is floored at 1 ADU so a noiseless configuration still gets visible stars and artefacts.
func noiseSigma(o Options) float64 {
	s := math.Sqrt(o.Sky*o.Gain+o.ReadNoise*o.ReadNoise) / o.Gain
	return math.Max(s, 1)
}

// Flux model, in units of the sky noise σ at the star's peak pixel: the faintest stars peak at
// 5σ (just detectable), the power law reaches 1000σ, and the few bright ones peak at 300–1000σ.
const (
	faintPeakSigmas   = 5
	powerLawMaxRatio  = 200 // brightest / faintest flux of the power law
	brightPeakSigmasA = 300
	brightPeakSigmasB = 1000
)

// makeStars draws the star list from the seed only. The flux distribution is a truncated power
// law N(>F) ∝ 1/F, like field star counts over a few magnitudes, and the first
// 3 + Stars/100 stars are forced bright so every set has a few saturating-class stars.
func makeStars(o Options) []star {
	rng := newRand(o.Seed, streamStars, 0, 0)
	psf := newMoffat(o.FWHM)
	sigma := noiseSigma(o)
	fmin := faintPeakSigmas * sigma / psf.peak
	fmax := fmin * powerLawMaxRatio
	nBright := min(o.Stars, 3+o.Stars/100)

	stars := make([]star, o.Stars)
	for i := range stars {
		// Fixed draw order per star: x, y, flux, colour.
		s := star{
			x: rng.Float64()*float64(o.Width) - 0.5,
			y: rng.Float64()*float64(o.Height) - 0.5,
		}
		u := rng.Float64()
		if i < nBright {
			s.flux = (brightPeakSigmasA + u*(brightPeakSigmasB-brightPeakSigmasA)) * sigma / psf.peak
		} else {
			s.flux = fmin / (1 - u*(1-fmin/fmax))
		}
		// Colour from blue-white (t = 0) to orange (t = 1); the channel weights average 1.
		t := rng.Float64()
		s.colour = [3]float64{0.6 + 0.8*t, 1, 1.4 - 0.8*t}
		stars[i] = s
	}
	return stars
}

// Sky gradient: +-2 % across the width and -+1.5 % across the height.
const (
	gradientX = 0.04
	gradientY = -0.03
)

// renderTruth returns the noise-free image in ADU: one plane for mono, an RGB CHW cube when
// rgb is set. Stars are added in catalog order into float64 planes, so the sum of overlapping
// wings does not depend on anything but the catalog.
func renderTruth(o Options, stars []star, rgb bool) []float32 {
	w, h := o.Width, o.Height
	nch := 1
	if rgb {
		nch = 3
	}
	acc := make([]float64, nch*w*h)
	plane := acc[:w*h]
	for y := range h {
		v := float64(y)/float64(h) - 0.5
		row := plane[y*w : (y+1)*w]
		for x := range row {
			u := float64(x)/float64(w) - 0.5
			row[x] = o.Sky * (1 + gradientX*u + gradientY*v)
		}
	}
	for c := 1; c < nch; c++ {
		copy(acc[c*w*h:(c+1)*w*h], plane) // the sky is grey
	}

	psf := newMoffat(o.FWHM)
	cut := 1e-3 * noiseSigma(o) // far below the noise: truncation is invisible in any stack
	for _, s := range stars {
		r := psf.radius(s.flux, cut)
		x0, x1 := max(0, int(math.Floor(s.x-r))), min(w-1, int(math.Ceil(s.x+r)))
		y0, y1 := max(0, int(math.Floor(s.y-r))), min(h-1, int(math.Ceil(s.y+r)))
		for y := y0; y <= y1; y++ {
			dy := float64(y) - s.y
			for x := x0; x <= x1; x++ {
				dx := float64(x) - s.x
				f := s.flux * psf.at(dx*dx+dy*dy)
				if !rgb {
					acc[y*w+x] += f
					continue
				}
				for c := range 3 {
					acc[c*w*h+y*w+x] += f * s.colour[c]
				}
			}
		}
	}

	out := make([]float32, len(acc))
	for i, v := range acc {
		out[i] = float32(v)
	}
	return out
}

// cfaTruth samples the channel each CFA site sees from an RGB CHW truth cube.
func cfaTruth(rgb []float32, w, h int, sites []int) []float32 {
	out := make([]float32, w*h)
	for y := range h {
		for x := range w {
			c := sites[(y%2)*2+x%2]
			out[y*w+x] = rgb[c*w*h+y*w+x]
		}
	}
	return out
}
