package synth

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallOptions is the default scene on a small frame, fast enough for many frames per test.
func smallOptions() Options {
	o := DefaultOptions()
	o.Width, o.Height = 160, 120
	o.Frames = 8
	o.Stars = 30
	o.CosmicRays = 10
	o.HotPixels = 8
	return o
}

func requireBitIdentical(t *testing.T, want, got []float32, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: pixel %d differs: %v != %v", msg, i, want[i], got[i])
		}
	}
}

func TestGenerateFrameIsDeterministic(t *testing.T) {
	for _, bayer := range []string{"none", "RGGB"} {
		t.Run("bayer="+bayer, func(t *testing.T) {
			o := smallOptions()
			o.Bayer = bayer
			o.Satellites = 1

			a, err := GenerateFrame(o, 3)
			require.NoError(t, err)
			b, err := GenerateFrame(o, 3)
			require.NoError(t, err)
			requireBitIdentical(t, a.Pix, b.Pix, "two calls")
			assert.Equal(t, a.Header, b.Header)

			g, err := newGenerator(o)
			require.NoError(t, err)
			var inRun Frame
			for i := range o.Frames {
				f := g.frame(i)
				if i == 3 {
					inRun = f
				}
			}
			requireBitIdentical(t, a.Pix, inRun.Pix, "frame alone vs frame in a run")
			assert.Equal(t, a.Name, inRun.Name)
		})
	}
}

func TestGenerateFrameDoesNotDependOnGOMAXPROCS(t *testing.T) {
	o := smallOptions()
	prev := runtime.GOMAXPROCS(1)
	one, err := GenerateFrame(o, 1)
	runtime.GOMAXPROCS(7)
	seven, err2 := GenerateFrame(o, 1)
	runtime.GOMAXPROCS(prev)
	require.NoError(t, err)
	require.NoError(t, err2)
	requireBitIdentical(t, one.Pix, seven.Pix, "GOMAXPROCS 1 vs 7")
}

func TestFramesDifferByIndexAndSeed(t *testing.T) {
	o := smallOptions()
	f0, err := GenerateFrame(o, 0)
	require.NoError(t, err)
	f1, err := GenerateFrame(o, 1)
	require.NoError(t, err)
	o.Seed = 2
	g0, err := GenerateFrame(o, 0)
	require.NoError(t, err)
	assert.NotEqual(t, f0.Pix, f1.Pix, "frames of one set have independent noise")
	assert.NotEqual(t, f0.Pix, g0.Pix, "another seed gives another set")
}

func TestStarsComeFromTheSeedOnly(t *testing.T) {
	o := smallOptions()
	a := makeStars(o)
	o.Frames, o.CosmicRays, o.Artefacts = 99, 0, false
	assert.Equal(t, a, makeStars(o), "frame count and artefacts do not move stars")
	o.Seed++
	assert.NotEqual(t, a, makeStars(o))
}

func TestStarFluxesFollowThePowerLawWithAFewBrightOnes(t *testing.T) {
	o := DefaultOptions()
	o.Stars = 2000
	stars := makeStars(o)
	psf := newMoffat(o.FWHM)
	sigma := noiseSigma(o)
	fmin := faintPeakSigmas * sigma / psf.peak
	nBright := 3 + o.Stars/100
	for i, s := range stars {
		assert.GreaterOrEqual(t, s.flux, fmin*(1-1e-12), "star %d", i)
		if i < nBright {
			assert.GreaterOrEqual(t, s.flux*psf.peak, brightPeakSigmasA*sigma*(1-1e-12), "bright star %d", i)
		}
		assert.InDelta(t, 1, (s.colour[0]+s.colour[1]+s.colour[2])/3, 1e-12)
	}
	// N(>F) ∝ 1/F: twice as many stars above F as above 2F (faint end, far from the cap).
	var above2, above4 int
	for _, s := range stars[nBright:] {
		if s.flux > 2*fmin {
			above2++
		}
		if s.flux > 4*fmin {
			above4++
		}
	}
	assert.InDelta(t, 2, float64(above2)/float64(above4), 0.25)
}

func TestCatalogFluxMatchesApertureSum(t *testing.T) {
	o := smallOptions()
	s := star{x: 80.3, y: 60.7, flux: 5e4, colour: [3]float64{1, 1, 1}}
	truth := renderTruth(o, []star{s}, false)
	sky := renderTruth(o, nil, false)
	var sum float64
	for i := range truth {
		sum += float64(truth[i] - sky[i])
	}
	assert.InDelta(t, s.flux, sum, 0.02*s.flux, "pixel sum of an isolated star recovers its flux")
	peak := truth[61*o.Width+80] - sky[61*o.Width+80]
	assert.Greater(t, float64(peak), 0.5*s.flux*newMoffat(o.FWHM).peak, "star is centred where the catalog says")
}

func TestMoffatHasTheRequestedFWHM(t *testing.T) {
	for _, fwhm := range []float64{1, 2.5, 6} {
		m := newMoffat(fwhm)
		half := fwhm / 2
		assert.InDelta(t, 0.5, m.at(half*half)/m.at(0), 1e-12, "fwhm %g", fwhm)
	}
}

func TestFrameHeaderHasWCSAndAcquisitionKeys(t *testing.T) {
	o := smallOptions()
	f0, err := GenerateFrame(o, 0)
	require.NoError(t, err)
	f2, err := GenerateFrame(o, 2)
	require.NoError(t, err)

	want := map[string]any{
		"OBJECT": "SYNTH", "CREATOR": "zmosaic synth", "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
		"CRPIX1": 80.5, "CRPIX2": 60.5, "CRVAL1": o.RA, "CRVAL2": o.Dec, "EXPTIME": 10.0,
	}
	for k, v := range want {
		got, ok := f0.Value(k)
		require.True(t, ok, "key %s", k)
		assert.Equal(t, v, got, "key %s", k)
	}
	_, hasBayer := f0.Value("BAYERPAT")
	assert.False(t, hasBayer, "mono frames have no BAYERPAT")

	// CD is the pixel scale with a small rotation and east-left parity.
	cd11, _ := f0.Value("CD1_1")
	cd12, _ := f0.Value("CD1_2")
	cd21, _ := f0.Value("CD2_1")
	cd22, _ := f0.Value("CD2_2")
	a, b, c, d := cd11.(float64), cd12.(float64), cd21.(float64), cd22.(float64)
	s := o.ScaleArcsec / 3600
	assert.InDelta(t, -s*s, a*d-b*c, 1e-15)
	assert.NotZero(t, b)
	assert.Less(t, math.Abs(b), 0.01*s)

	d0, _ := f0.Value("DATE-OBS")
	d2, _ := f2.Value("DATE-OBS")
	t0, err := time.Parse("2006-01-02T15:04:05.000", d0.(string))
	require.NoError(t, err)
	t2, err := time.Parse("2006-01-02T15:04:05.000", d2.(string))
	require.NoError(t, err)
	assert.Equal(t, 20*time.Second, t2.Sub(t0), "frames are 10 s apart")
	assert.Equal(t, "frame_0003.fits", f2.Name)
}

func TestFrameNameSortsInFrameOrder(t *testing.T) {
	assert.Equal(t, "frame_0001.fits", frameName(0, 16))
	assert.Equal(t, "frame_9999.fits", frameName(9998, 9999))
	assert.Equal(t, "frame_00012.fits", frameName(11, 12345))
}

// BenchmarkGenerateFrame measures one default 1024×768 frame alone (truth included) and a frame
// within a set (truth computed once, as Write does).
func BenchmarkGenerateFrame(b *testing.B) {
	for _, bayer := range []string{"none", "RGGB"} {
		o := DefaultOptions()
		o.Bayer = bayer
		b.Run("alone/bayer="+bayer, func(b *testing.B) {
			b.SetBytes(int64(o.Width * o.Height * 4)) // float32 samples produced per op
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := GenerateFrame(o, i%o.Frames); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("in-set/bayer="+bayer, func(b *testing.B) {
			g, err := newGenerator(o)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(o.Width * o.Height * 4))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = g.frame(i % o.Frames)
			}
		})
	}
}

// BenchmarkGenerateSet is the `zmosaic synth` default: 16 frames of 1024×768, without I/O.
func BenchmarkGenerateSet(b *testing.B) {
	o := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		g, err := newGenerator(o)
		if err != nil {
			b.Fatal(err)
		}
		for i := range o.Frames {
			_ = g.frame(i)
		}
	}
}
