package gpu

import (
	"context"
	"errors"
	"github.com/gogpu/wgpu"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
	_ "github.com/zmosaic/zmosaic/native/gpu" // registers Vulkan and software
)

func TestMain(m *testing.M) {
	// The Vulkan loader complains on stderr when XDG_RUNTIME_DIR is unset.
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		if dir, err := os.MkdirTemp("", "xdg"); err == nil {
			os.Setenv("XDG_RUNTIME_DIR", dir)
			defer os.RemoveAll(dir)
		}
	}
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

// shared is one device reused by the tests that do not need special options
// (opening a device costs ~100 ms on lavapipe).
var shared *Device

// testOptions accepts lavapipe and keeps workgroups small so that small
// bands still span several of them.
func testOptions() Options {
	o := DefaultOptions()
	o.AllowSoftware = true
	o.WorkgroupSize = 64
	return o
}

// openDevice opens a device with opt or skips when no adapter exists (set
// ZMOSAIC_REQUIRE_GPU=1 to fail instead, as CI with lavapipe does).
func openDevice(t testing.TB, opt Options) *Device {
	t.Helper()
	d, err := Open(context.Background(), opt)
	if errors.Is(err, ErrNoAdapter) {
		if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
			t.Fatalf("no adapter and ZMOSAIC_REQUIRE_GPU is set: %v", err)
		}
		t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe): %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// sharedDevice returns the package's shared device, opening it on first use.
func sharedDevice(t testing.TB) *Device {
	t.Helper()
	if shared == nil {
		d, err := Open(context.Background(), testOptions())
		if errors.Is(err, ErrNoAdapter) {
			if os.Getenv("ZMOSAIC_REQUIRE_GPU") != "" {
				t.Fatalf("no adapter and ZMOSAIC_REQUIRE_GPU is set: %v", err)
			}
			t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe): %v", err)
		}
		require.NoError(t, err)
		shared = d
	}
	return shared
}

// band is one random stacking problem.
type band struct {
	width, rows int
	src         [][]float32
	norm        []cpu.Affine
	weights     []float32
}

func (b band) pixels() int { return b.width * b.rows }

// randomBand draws frames around 1000 with 5 % NaN and 2 % ±Inf, gains in
// [0.5, 2], offsets in [-500, 500] and weights in [0, 2] with one in five 0.
// Pixel 0 has no valid sample; pixel 1 is covered only by zero-weight frames;
// pixel 2 cancels (gain·x ≈ −offset) so its mean is near 0.
func randomBand(rng *rand.Rand, width, rows, frames int) band {
	b := band{width: width, rows: rows}
	px := width * rows
	b.norm = make([]cpu.Affine, frames)
	b.weights = make([]float32, frames)
	for i := range frames {
		b.norm[i] = cpu.Affine{Gain: float32(0.5 + 1.5*rng.Float64()), Offset: float32(1000*rng.Float64() - 500)}
		if rng.IntN(5) > 0 {
			b.weights[i] = float32(2 * rng.Float64())
		}
	}
	nan := float32(math.NaN())
	for i := range frames {
		f := make([]float32, px)
		for j := range f {
			switch r := rng.Float64(); {
			case r < 0.05:
				f[j] = nan
			case r < 0.06:
				f[j] = float32(math.Inf(1))
			case r < 0.07:
				f[j] = float32(math.Inf(-1))
			default:
				f[j] = float32(1000 + 50*rng.NormFloat64())
			}
		}
		if px > 0 {
			f[0] = nan
		}
		if px > 1 && b.weights[i] != 0 {
			f[1] = nan
		}
		if px > 2 {
			a := b.norm[i]
			f[2] = (-a.Offset + float32(rng.NormFloat64())) / a.Gain
		}
		b.src = append(b.src, f)
	}
	return b
}

// cpuStack runs the reference.
func cpuStack(t testing.TB, b band, combine cpu.Combine) ([]float32, []uint32) {
	t.Helper()
	dst := make([]float32, b.pixels())
	kept := make([]uint32, b.pixels())
	opt := cpu.DefaultStackOptions()
	opt.Reject, opt.Combine = cpu.RejectNone, combine
	st := cpu.StackBand(dst, kept, b.src, b.norm, b.weights, b.width, opt)
	require.NoError(t, st.Err)
	return dst, kept
}

// meanScale is Σw·(|Gain·x| + |Offset|)/Σw at pixel j in float64 (equal
// weights when every valid weight is 0): the magnitude of the terms before
// any cancellation, which the mean tolerance scales with.
func meanScale(b band, j int) float64 {
	var sw, swa, sa float64
	n := 0
	for i, f := range b.src {
		x := f[j]
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		v := math.Abs(float64(b.norm[i].Gain)*float64(x)) + math.Abs(float64(b.norm[i].Offset))
		w := float64(b.weights[i])
		sw += w
		swa += w * v
		sa += v
		n++
	}
	if sw > 0 {
		return swa / sw
	}
	return sa / float64(max(n, 1))
}

// meanTol is the documented bound of StackBand for the mean:
// 2⁻²²·|m| (4 half-ulps: the numerator and the division round once each, the
// CPU's float32 conversion once) plus 2⁻³⁶·scale (the compensated sums lose
// about n·2⁻⁴⁸·Σ|w v|; 2⁻³⁶ covers n ≤ 4096 frames).
func meanTol(ref float32, scale float64) float64 {
	return math.Ldexp(math.Abs(float64(ref)), -22) + math.Ldexp(scale, -36)
}

// ulp32 is the gap above |x| in float32.
func ulp32(x float32) float64 {
	a := float32(math.Abs(float64(x)))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}

// limitsWithDim returns limits with only the dispatch limit set, for pure
// planning tests that never touch a device.
func limitsWithDim(dim uint32) (l wgpuLimits) {
	l.MaxComputeWorkgroupsPerDimension = dim
	return l
}

type wgpuLimits = wgpu.Limits
