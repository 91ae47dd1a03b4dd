package cpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// skyFrame returns a frame with a background gradient, stars and noise.
func skyFrame(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		v := 200 + 50*float64(i%97)/97 + 3*rng.NormFloat64()
		if rng.Float64() < 0.02 {
			v += 2000 * rng.Float64()
		}
		x[i] = float32(v)
	}
	return x
}

func TestMeasureFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 50000)
	for i := range x {
		x[i] = float32(100 + 4*rng.NormFloat64())
	}
	x[10] = float32(math.NaN())
	x[20] = 1e6
	st := cpu.MeasureFrame(x)
	p := cpu.Percentiles(x, 25, 90)
	assert.Equal(t, p[0], st.P25)
	assert.Equal(t, p[1], st.P90)
	assert.InDelta(t, 4, st.Sigma, 0.1, "the clipped std ignores the 1e6 outlier")
	_, _, sd, _ := cpu.SigmaClippedStats(x, 3, 5)
	assert.Equal(t, sd, st.Sigma)
}

// nebulaFrame is skyFrame with a bright extended object over its last 15%,
// so that P90 sits far above the noise and a gain can be measured.
func nebulaFrame(rng *rand.Rand, n int) []float32 {
	x := skyFrame(rng, n)
	for i := n * 85 / 100; i < n; i++ {
		x[i] += float32(300 + 200*float64(i%89)/89)
	}
	return x
}

// TestNormCoefficientsRecoverGainOffset: frames made as g·ref + o must map
// back onto the reference with gain 1/g and offset −o/g.
func TestNormCoefficientsRecoverGainOffset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := nebulaFrame(rng, 40000)
	type go2 struct{ g, o float64 }
	frames := []go2{{1, 0}, {2, 10}, {0.5, -30}, {1.3, 100}}
	stats := make([][]cpu.FrameStats, len(frames))
	for f, p := range frames {
		x := make([]float32, len(ref))
		for i, v := range ref {
			x[i] = float32(p.g*float64(v) + p.o)
		}
		stats[f] = []cpu.FrameStats{cpu.MeasureFrame(x)}
	}
	for f := range stats {
		st := stats[f][0]
		require.Greater(t, st.P90-st.P25, cpu.LinearMinSpanSigmas*st.Sigma, "frame %d must carry signal above its noise", f)
	}
	coef := cpu.NormCoefficients(stats, 0, cpu.NormLinear)
	require.Len(t, coef, len(frames))
	for f, p := range frames {
		assert.InDelta(t, 1/p.g, coef[f][0].Gain, 1e-5, "frame %d gain", f)
		assert.InDelta(t, -p.o/p.g, coef[f][0].Offset, 1e-3, "frame %d offset", f)
	}
	assert.Equal(t, cpu.Identity, coef[0][0], "the reference is untouched")

	sky := cpu.NormCoefficients(stats, 0, cpu.NormSky)
	assert.Equal(t, float32(1), sky[3][0].Gain)
	assert.InDelta(t, stats[0][0].P25-stats[3][0].P25, sky[3][0].Offset, 1e-3)

	none := cpu.NormCoefficients(stats, 0, cpu.NormNone)
	for f := range none {
		assert.Equal(t, cpu.Identity, none[f][0])
	}
}

// TestNormCoefficientsNoiseSpanFitsNoGain: on pure-noise frames P90−P25 is
// ≈ 1.96σ, so a fitted gain would be a ratio of noise draws; linear
// normalisation must then align the sky level only.
func TestNormCoefficientsNoiseSpanFitsNoGain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(level, sigma float64) []float32 {
		x := make([]float32, 40000)
		for i := range x {
			x[i] = float32(level + sigma*rng.NormFloat64())
		}
		return x
	}
	stats := [][]cpu.FrameStats{
		{cpu.MeasureFrame(noise(1000, 32))},
		{cpu.MeasureFrame(noise(1250, 32))},
	}
	coef := cpu.NormCoefficients(stats, 0, cpu.NormLinear)
	assert.Equal(t, float32(1), coef[1][0].Gain, "the noise span gives no gain")
	assert.InDelta(t, -250, coef[1][0].Offset, 1.5, "the sky offset is recovered")
	assert.Equal(t, float32(stats[0][0].P25-stats[1][0].P25), coef[1][0].Offset)

	t.Run("a noise-only reference also fits no gain", func(t *testing.T) {
		ref := cpu.FrameStats{P25: 100, P90: 110, Sigma: 5}
		src := cpu.FrameStats{P25: 40, P90: 240, Sigma: 5}
		coef := cpu.NormCoefficients([][]cpu.FrameStats{{ref}, {src}}, 0, cpu.NormLinear)
		assert.Equal(t, cpu.Affine{Gain: 1, Offset: 60}, coef[1][0])
	})
	t.Run("spans above the threshold fit a gain", func(t *testing.T) {
		ref := cpu.FrameStats{P25: 100, P90: 200, Sigma: 5}
		src := cpu.FrameStats{P25: 200, P90: 400, Sigma: 10}
		coef := cpu.NormCoefficients([][]cpu.FrameStats{{ref}, {src}}, 0, cpu.NormLinear)
		assert.Equal(t, cpu.Affine{Gain: 0.5, Offset: 0}, coef[1][0])
	})
}

func TestNormCoefficientsGuards(t *testing.T) {
	ref := cpu.FrameStats{P25: 100, P90: 200}
	tests := []struct {
		name string
		ref  cpu.FrameStats
		src  cpu.FrameStats
		want cpu.Affine
	}{
		{"matching frames need no change", ref, ref, cpu.Identity},
		{"doubled frame is halved", ref, cpu.FrameStats{P25: 200, P90: 400}, cpu.Affine{Gain: 0.5, Offset: 0}},
		{"non-finite statistics leave the frame alone", ref, cpu.FrameStats{P25: math.NaN(), P90: 1}, cpu.Identity},
		{"flat source leaves the frame alone", ref, cpu.FrameStats{P25: 1000, P90: 1000.5}, cpu.Identity},
		{"gain above 20 is refused", ref, cpu.FrameStats{P25: 0, P90: 4}, cpu.Identity},
		{"flat reference aligns the level only", cpu.FrameStats{P25: 50, P90: 50}, cpu.FrameStats{P25: 20, P90: 80}, cpu.Affine{Gain: 1, Offset: 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			coef := cpu.NormCoefficients([][]cpu.FrameStats{{tc.ref}, {tc.src}}, 0, cpu.NormLinear)
			assert.Equal(t, tc.want, coef[1][0])
		})
	}
	t.Run("reference index out of range gives identity", func(t *testing.T) {
		coef := cpu.NormCoefficients([][]cpu.FrameStats{{ref}, {{P25: 200, P90: 400}}}, 5, cpu.NormLinear)
		assert.Equal(t, cpu.Identity, coef[1][0])
	})
}

func TestNoiseWeights(t *testing.T) {
	stats := [][]cpu.FrameStats{
		{{Sigma: 2}, {Sigma: 4}},
		{{Sigma: 1}, {Sigma: math.NaN()}},
		{{Sigma: 0}, {Sigma: 2}},
	}
	w := cpu.NoiseWeights(stats)
	assert.Equal(t, [][]float32{{0.25, 0.0625}, {1, 1e-6}, {1e-6, 0.25}}, w)
	assert.Nil(t, cpu.Weights(stats, cpu.WeightNone))
	assert.Equal(t, w, cpu.Weights(stats, cpu.WeightNoise))
	t.Run("no valid sigma weighs everything 1", func(t *testing.T) {
		assert.Equal(t, [][]float32{{1}, {1}}, cpu.NoiseWeights([][]cpu.FrameStats{{{Sigma: 0}}, {{Sigma: math.Inf(1)}}}))
	})
}

// BenchmarkMeasureFrame measures one 1024×768 sky frame (stars, gradient,
// noise, a few NaN).
func BenchmarkMeasureFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := skyFrame(rng, 1024*768)
	for i := 0; i < len(x); i += 1000 {
		x[i] = float32(math.NaN())
	}
	b.ReportAllocs()
	for b.Loop() {
		cpu.MeasureFrame(x)
	}
}
