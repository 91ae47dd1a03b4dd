package testsuite

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	_ "github.com/zmosaic/zmosaic/native/gpu" // registers the Vulkan and software backends
)

var (
	update = flag.Bool("update", false, "rewrite testdata/*_golden.fits from the CPU reference")
	seed   = flag.Uint64("seed", 0, "seed of the fresh random cases (0: from the clock; logged)")
)

// band is one stacking problem: frames × (width × rows) samples plus normalisation and weights.
type band struct {
	width, rows int
	src         [][]float32
	norm        []cpu.Affine
	weights     []float32
}

// randomBand draws a band with everything a kernel must survive: NaN (no data), ±Inf, cosmic-ray
// outliers high and low, zero weights, a gain/offset per frame, a pixel with no valid sample and
// a pixel where every sample is equal.
func randomBand(rng *rand.Rand, frames, width, rows int) band {
	b := band{width: width, rows: rows, src: make([][]float32, frames), norm: make([]cpu.Affine, frames), weights: make([]float32, frames)}
	n := width * rows
	for f := range frames {
		b.norm[f] = cpu.Affine{Gain: float32(0.8 + 0.4*rng.Float64()), Offset: float32(20 * rng.NormFloat64())}
		b.weights[f] = float32(rng.Float64())
		if f == 1 {
			b.weights[f] = 0
		}
		s := make([]float32, n)
		for i := range s {
			v := 1000 + 30*rng.NormFloat64() + float64(i%13)*50
			switch r := rng.Float64(); {
			case r < 0.04:
				v = math.NaN()
			case r < 0.05:
				v = math.Inf(1 - 2*rng.IntN(2))
			case r < 0.08:
				v += 5000 * rng.Float64()
			case r < 0.09:
				v -= 3000 * rng.Float64()
			}
			s[i] = float32(v)
		}
		s[0] = float32(math.NaN()) // pixel 0: no sample at all
		s[1] = 42                  // pixel 1: all samples equal before normalisation
		b.src[f] = s
	}
	return b
}

type result struct {
	value []float32
	kept  []uint32
	stats cpu.StackStats
}

// stacker runs one backend.
type stacker struct {
	name string
	run  func(ctx context.Context, b band, opt cpu.StackOptions) (result, error)
}

func cpuStacker() stacker {
	return stacker{"cpu", func(_ context.Context, b band, opt cpu.StackOptions) (result, error) {
		r := result{value: make([]float32, b.width*b.rows), kept: make([]uint32, b.width*b.rows)}
		r.stats = cpu.StackBand(r.value, r.kept, b.src, b.norm, b.weights, b.width, opt)
		return r, r.stats.Err
	}}
}

// openGPU opens the Vulkan adapter (lavapipe in CI). It skips without one, unless
// ZMOSAIC_REQUIRE_GPU is set (CI sets it: the Vulkan cases must run there, not skip).
func openGPU(t *testing.T) *gpu.Device {
	t.Helper()
	o := gpu.DefaultOptions()
	o.AllowSoftware = true
	d, err := gpu.Open(t.Context(), o)
	if errors.Is(err, gpu.ErrNoAdapter) {
		if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
			t.Fatalf("no GPU adapter and ZMOSAIC_REQUIRE_GPU is set: %v", err)
		}
		t.Skipf("no GPU adapter (apt-get install mesa-vulkan-drivers for lavapipe): %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	t.Logf("GPU: %s (%v, %v)", d.Info().Name, d.Info().Backend, d.Info().DeviceType)
	return d
}

func gpuStacker(d *gpu.Device) stacker {
	return stacker{"gpu", func(ctx context.Context, b band, opt cpu.StackOptions) (result, error) {
		r := result{value: make([]float32, b.width*b.rows), kept: make([]uint32, b.width*b.rows)}
		var err error
		r.stats, err = d.StackBand(ctx, r.value, r.kept, b.src, b.norm, b.weights, b.width, opt)
		return r, err
	}}
}

// runnerStacker goes through the Runner with --backend gpu and a tiny budget, so that the band
// is cut into chunks: results must not depend on the chunk size.
func runnerStacker(t *testing.T, budget int64) stacker {
	return runnerStackerCounting(t, budget, new(int))
}

// runnerStackerCounting is runnerStacker that also counts the GPU chunks the Runner ran.
func runnerStackerCounting(t *testing.T, budget int64, gpuChunks *int) stacker {
	return stacker{fmt.Sprintf("runner-gpu-%dKiB", budget>>10), func(ctx context.Context, b band, opt cpu.StackOptions) (result, error) {
		r := compute.NewRunner(ctx, compute.Options{Backend: compute.BackendGPU, GPUBudget: budget}, func(e compute.Event) {
			if e.Level >= compute.Warn {
				t.Errorf("runner warned: %s %v", e.Key, e.Params)
			}
		})
		defer r.Close()
		res := result{value: make([]float32, b.width*b.rows), kept: make([]uint32, b.width*b.rows)}
		var err error
		res.stats, err = r.StackBand(ctx, res.value, res.kept, b.src, b.norm, b.weights, b.width, opt)
		for _, op := range r.Report() {
			*gpuChunks += op.ChunksGPU
		}
		return res, err
	}}
}

// methods are every reject × combine pair.
func methods() []cpu.StackOptions {
	var out []cpu.StackOptions
	for _, rj := range []cpu.Reject{"none", "winsor", "kappa", "linear"} {
		for _, cb := range []cpu.Combine{"mean", "median", "min", "max"} {
			o := cpu.DefaultStackOptions()
			o.Reject, o.Combine = rj, cb
			out = append(out, o)
		}
	}
	return out
}

func caseName(o cpu.StackOptions) string { return fmt.Sprintf("stack_%s_%s", o.Reject, o.Combine) }

// compareToReference checks got against the CPU reference with the tolerance of the method and
// returns the worst value error in ulps and the fraction of pixels whose counts differ.
func compareToReference(t *testing.T, b band, opt cpu.StackOptions, want, got result) (worstULP, mismatch float64) {
	t.Helper()
	tol := Tolerances["stack/"+string(opt.Reject)]
	var bad int
	for j := range want.value {
		maxAbs := 0.0
		lo, hi := math.Inf(1), math.Inf(-1)
		for f := range b.src {
			x := float64(b.src[f][j])
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			v := float64(b.norm[f].Gain)*x + float64(b.norm[f].Offset)
			maxAbs = max(maxAbs, math.Abs(v))
			lo, hi = min(lo, v), max(hi, v)
		}
		w, g := float64(want.value[j]), float64(got.value[j])
		if want.kept[j] != got.kept[j] {
			bad++
			// A flipped threshold decision: the result stays within the samples' spread.
			if !(math.IsNaN(w) && math.IsNaN(g)) {
				assert.LessOrEqual(t, math.Abs(w-g), hi-lo, "pixel %d: counts differ (%d vs %d) and the value left the sample range", j, want.kept[j], got.kept[j])
			}
			continue
		}
		if math.IsNaN(w) || math.IsNaN(g) {
			assert.True(t, math.IsNaN(w) && math.IsNaN(g), "pixel %d: %v vs %v", j, w, g)
			continue
		}
		u := math.Abs(w-g) / ulpAt(maxAbs)
		worstULP = max(worstULP, u)
		if u > tol.ValueULP {
			t.Errorf("pixel %d: %v vs reference %v = %.1f ulp > %.0f", j, g, w, u, tol.ValueULP)
		}
	}
	mismatch = float64(bad) / float64(len(want.value))
	assert.LessOrEqual(t, mismatch, tol.CountMismatch, "fraction of pixels whose kept counts differ")
	if mismatch == 0 {
		assert.Equal(t, want.stats.RejectedLow, got.stats.RejectedLow)
		assert.Equal(t, want.stats.RejectedHigh, got.stats.RejectedHigh)
	}
	assert.Equal(t, want.stats.Samples, got.stats.Samples)
	return worstULP, mismatch
}

// TestStackGoldens: the fixed-seed cases reproduce their golden files bit for bit on the CPU,
// and every other backend stays within the tolerance table of the golden.
func TestStackGoldens(t *testing.T) {
	backends := []stacker{cpuStacker()}
	if !testing.Short() || os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
		d := openGPU(t)
		backends = append(backends, gpuStacker(d), runnerStacker(t, 1<<20))
	}
	for i, opt := range methods() {
		name := caseName(opt)
		t.Run(name, func(t *testing.T) {
			b := randomBand(rand.New(rand.NewPCG(uint64(100+i), 7)), 23, 61, 7)
			golden := filepath.Join("testdata", name+"_golden.fits")
			ref, err := cpuStacker().run(t.Context(), b, opt)
			require.NoError(t, err)
			if *update {
				require.NoError(t, writeGolden(golden, b, ref))
			}
			want, err := readGolden(golden, b)
			require.NoError(t, err, "golden missing: run go test ./testsuite -update")
			for _, be := range backends {
				got, err := be.run(t.Context(), b, opt)
				require.NoError(t, err, be.name)
				if be.name == "cpu" {
					requireBitIdentical(t, want, got)
					continue
				}
				ulp, mm := compareToReference(t, b, opt, want, got)
				t.Logf("%s: worst %.2f ulp, %.4f%% pixels with other counts", be.name, ulp, 100*mm)
			}
		})
	}
}

// TestStackFreshSeeds explores new inputs each run (the seed is logged), sizes that are not
// multiples of a workgroup, and frame counts around the GPU's private-array sizes.
func TestStackFreshSeeds(t *testing.T) {
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		t.Skip("GPU cross-check")
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with go test ./testsuite -run FreshSeeds -seed %d)", s, s)
	d := openGPU(t)
	rng := rand.New(rand.NewPCG(s, 99))
	g := gpuStacker(d)
	for _, frames := range []int{1, 2, 3, 20, 64, 65} {
		for _, opt := range methods() {
			t.Run(fmt.Sprintf("%d/%s", frames, caseName(opt)), func(t *testing.T) {
				b := randomBand(rng, frames, 29+rng.IntN(40), 1+rng.IntN(4))
				want, err := cpuStacker().run(t.Context(), b, opt)
				require.NoError(t, err)
				got, err := g.run(t.Context(), b, opt)
				require.NoError(t, err)
				compareToReference(t, b, opt, want, got)
			})
		}
	}
}

// TestChunkingDoesNotChangeResults: the same backend gives the same bits whatever the chunking.
func TestChunkingDoesNotChangeResults(t *testing.T) {
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		t.Skip("GPU cross-check")
	}
	d := openGPU(t)
	b := randomBand(rand.New(rand.NewPCG(5, 5)), 64, 1100, 9) // 281 KiB per row of all frames
	opt := cpu.DefaultStackOptions()
	whole, err := gpuStacker(d).run(t.Context(), b, opt)
	require.NoError(t, err)
	for _, budget := range []int64{1 << 20, 2 << 20} {
		var chunks int
		got, err := runnerStackerCounting(t, budget, &chunks).run(t.Context(), b, opt)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, chunks, 2, "a %d KiB budget cuts the band into chunks on the GPU", budget>>10)
		requireBitIdentical(t, whole, got)
	}
}

// TestSoftwareBackendIsRefused documents why the gogpu software backend runs no zmosaic kernel:
// it gets bit-pattern NaN tests wrong, and every kernel is NaN-aware.
func TestSoftwareBackendIsRefused(t *testing.T) {
	o := gpu.DefaultOptions()
	o.AllowSoftware = true
	d, err := gpu.Open(t.Context(), o)
	if err != nil {
		t.Skipf("no adapter at all: %v", err)
	}
	defer d.Close()
	assert.NotEqual(t, "BackendEmpty", fmt.Sprint(d.Info().Backend), "the software interpreter must never be picked")
}

func requireBitIdentical(t *testing.T, want, got result) {
	t.Helper()
	require.Equal(t, len(want.value), len(got.value))
	for j := range want.value {
		if math.Float32bits(want.value[j]) != math.Float32bits(got.value[j]) && !(want.value[j] != want.value[j] && got.value[j] != got.value[j]) {
			t.Fatalf("pixel %d: %v vs %v (bits differ)", j, got.value[j], want.value[j])
		}
	}
	require.Equal(t, want.kept, got.kept)
}

// writeGolden stores a result as a 3-channel float32 FITS image (value, kept, unused: FITS
// cubes here have 1 or 3 planes) with the rejection totals in the header.
func writeGolden(name string, b band, r result) error {
	n := b.width * b.rows
	img := &fits.Image{Width: b.width, Height: b.rows, Channels: 3, Pix: make([]float32, 3*n), Header: fits.NewHeader()}
	copy(img.Pix, r.value)
	for j := range n {
		img.Pix[n+j] = float32(r.kept[j])
	}
	img.Header.Set("ZMCASE", filepath.Base(name), "zmosaic testsuite golden: value, kept")
	img.Header.Set("ZMREJLO", r.stats.RejectedLow, "")
	img.Header.Set("ZMREJHI", r.stats.RejectedHigh, "")
	img.Header.Set("ZMSAMPL", r.stats.Samples, "valid samples")
	return fits.Write(name, img, fits.WriteOptions{})
}

func readGolden(name string, b band) (result, error) {
	img, err := fits.ReadImage(name, "")
	if err != nil {
		return result{}, err
	}
	n := b.width * b.rows
	if img.Width != b.width || img.Height != b.rows || img.Channels != 3 {
		return result{}, fmt.Errorf("%s: shape %d×%d×%d, want %d×%d×3", name, img.Width, img.Height, img.Channels, b.width, b.rows)
	}
	r := result{value: img.Pix[:n], kept: make([]uint32, n)}
	for j := range n {
		r.kept[j] = uint32(img.Pix[n+j])
	}
	r.stats.RejectedLow, _ = img.Header.Int("ZMREJLO")
	r.stats.RejectedHigh, _ = img.Header.Int("ZMREJHI")
	r.stats.Samples, _ = img.Header.Int("ZMSAMPL")
	return r, nil
}

// TestFrameBlocksGiveTheSameBits: when one row of all frames does not fit the GPU budget, the
// Runner streams the frames in blocks for the kernels that can (Reject none with mean, min,
// max; winsor and kappa above cpu.MaxSortFrames frames). Per-pixel sums are carried between blocks in frame order, so the result is the same
// bits as the GPU kernel given all frames at once (same backend, other chunking), and within
// the table of the CPU.
func TestFrameBlocksGiveTheSameBits(t *testing.T) {
	if testing.Short() && os.Getenv("ZMOSAIC_REQUIRE_GPU") == "" {
		t.Skip("GPU cross-check")
	}
	d := openGPU(t)
	b := randomBand(rand.New(rand.NewPCG(8, 9)), 300, 900, 3) // a row of all frames: 1.04 MiB
	cases := []struct {
		reject  cpu.Reject
		combine cpu.Combine
	}{
		{"none", "mean"}, {"none", "min"}, {"none", "max"},
		// Above cpu.MaxSortFrames, winsor and kappa follow the streamed rule on both backends.
		{"winsor", "mean"}, {"kappa", "mean"}, {"winsor", "max"},
	}
	for _, tc := range cases {
		t.Run(string(tc.reject)+"_"+string(tc.combine), func(t *testing.T) {
			opt := cpu.DefaultStackOptions()
			opt.Reject, opt.Combine = tc.reject, tc.combine
			whole, err := gpuStacker(d).run(t.Context(), b, opt)
			require.NoError(t, err)
			var chunks int
			got, err := runnerStackerCounting(t, 1<<20, &chunks).run(t.Context(), b, opt)
			require.NoError(t, err)
			assert.Positive(t, chunks, "the GPU did the work, in frame blocks")
			requireBitIdentical(t, whole, got)
			ref, err := cpuStacker().run(t.Context(), b, opt)
			require.NoError(t, err)
			ulp, _ := compareToReference(t, b, opt, ref, got)
			t.Logf("frame blocks vs CPU: worst %.2f ulp", ulp)
		})
	}
}
