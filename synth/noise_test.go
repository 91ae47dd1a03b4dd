package synth

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pixelSigma is the expected noise of a pixel whose truth is t ADU.
func pixelSigma(o Options, t float32) float64 {
	return math.Sqrt(float64(t)*o.Gain+o.ReadNoise*o.ReadNoise) / o.Gain
}

func TestMeanOfCleanFramesConvergesToTruth(t *testing.T) {
	const n = 200
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"bright sky uses the Gaussian approximation", func(o *Options) {}},
		{"faint sky samples Poisson exactly", func(o *Options) { o.Sky, o.ReadNoise = 8, 1.5 }},
		{"gain scales electrons to ADU", func(o *Options) { o.Sky, o.Gain, o.ReadNoise = 300, 2.5, 4 }},
		{"bayer frames are quantised yet unbiased", func(o *Options) { o.Bayer = "GRBG" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := smallOptions()
			o.Width, o.Height = 96, 64
			o.Frames = n
			o.Artefacts = false
			tc.edit(&o)
			g, err := newGenerator(o)
			require.NoError(t, err)

			sum := make([]float64, len(g.seen))
			for i := range n {
				for j, v := range g.frame(i).Pix {
					sum[j] += float64(v)
				}
			}
			var se, bias, wantVar float64
			for j, s := range sum {
				d := s/n - float64(g.seen[j])
				se += d * d
				bias += d
				sig := pixelSigma(o, g.seen[j])
				if o.isBayer() {
					sig = math.Sqrt(sig*sig + 1.0/12) // rounding to integers adds 1/12 ADU²
				}
				wantVar += sig * sig / n
			}
			m := float64(len(sum))
			rms, want := math.Sqrt(se/m), math.Sqrt(wantVar/m)
			t.Logf("RMS(mean-truth) = %.4g ADU, expected %.4g", rms, want)
			assert.InEpsilon(t, want, rms, 0.15, "RMS(mean-truth) = %.4g, want σ/√%d = %.4g", rms, n, want)
			assert.Less(t, math.Abs(bias/m), 4*want/math.Sqrt(m), "mean offset from truth")
		})
	}
}

func TestPoissonMatchesItsMoments(t *testing.T) {
	rng := newRand(1, 99, 0, 0)
	for _, lam := range []float64{0.3, 4, 40, 99} {
		const n = 100000
		var s, s2 float64
		for range n {
			k := float64(poisson(rng, lam))
			require.GreaterOrEqual(t, k, 0.0)
			s += k
			s2 += k * k
		}
		mean := s / n
		variance := s2/n - mean*mean
		assert.InDelta(t, lam, mean, 5*math.Sqrt(lam/n), "mean, λ=%g", lam)
		assert.InEpsilon(t, lam, variance, 0.03, "variance, λ=%g", lam)
	}
	assert.Zero(t, poisson(rng, 0))
}
