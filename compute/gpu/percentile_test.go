package gpu

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zmosaic/zmosaic/cpu"
)

// samePercentile reports whether a GPU result equals the CPU's bit for bit,
// NaN equal to NaN and −0 equal to +0 (the documented exception).
func samePercentile(want, got float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if want == 0 && got == 0 {
		return true
	}
	return math.Float64bits(want) == math.Float64bits(got)
}

// randomSamples draws n values of kind: "sky" (a Gaussian around 1000 with 4 %
// NaN and 2 % ±Inf), "ties" (a few distinct values, zeros of both signs),
// "wide" (random bit patterns: every exponent, denormals, both signs).
func randomSamples(rng *rand.Rand, n int, kind string) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch kind {
		case "ties":
			x[i] = []float32{-2, float32(math.Copysign(0, -1)), 0, 1.5, 1.5, 3}[rng.IntN(6)]
		case "wide":
			x[i] = math.Float32frombits(rng.Uint32())
		default:
			x[i] = float32(1000 + 50*rng.NormFloat64())
		}
		switch r := rng.Float64(); {
		case r < 0.04:
			x[i] = float32(math.NaN())
		case r < 0.05:
			x[i] = float32(math.Inf(1))
		case r < 0.06:
			x[i] = float32(math.Inf(-1))
		}
	}
	return x
}

// allPs covers the ends, ties of the virtual index, the stretch defaults,
// and invalid percentiles.
var allPs = []float64{0, 0.1, 1, 2.5, 25, 50, 50, 75, 99, 99.9, 100, 33.333, -1, 101, math.NaN()}

func TestPercentilesMatchCPU(t *testing.T) {
	d := sharedDevice(t)
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name  string
		x     []float32
		chunk uint64 // testChunkBytes; 0 = device limit
	}{
		{"one sample", []float32{42}, 0},
		{"one finite sample among no data", []float32{nan, -inf, 7.25, inf}, 0},
		{"all NaN", []float32{nan, nan, nan}, 0},
		{"all Inf", []float32{inf, -inf}, 0},
		{"empty", nil, 0},
		{"two samples", []float32{3, -1}, 0},
		{"sky, not a multiple of the workgroup", randomSamples(rand.New(rand.NewPCG(1, 2)), 10007, "sky"), 0},
		{"ties and signed zeros", randomSamples(rand.New(rand.NewPCG(3, 4)), 5003, "ties"), 0},
		{"every exponent and denormals", randomSamples(rand.New(rand.NewPCG(5, 6)), 20011, "wide"), 0},
		{"sky, multi-chunk (1 KiB chunks)", randomSamples(rand.New(rand.NewPCG(7, 8)), 3001, "sky"), 1024},
		{"wide, multi-chunk (4 KiB chunks)", randomSamples(rand.New(rand.NewPCG(9, 10)), 9999, "wide"), 4096},
		{"sky, 300k", randomSamples(rand.New(rand.NewPCG(11, 12)), 300_000, "sky"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testChunkBytes.Store(tt.chunk)
			defer testChunkBytes.Store(0)
			orig := append([]float32(nil), tt.x...)
			got, n, err := d.PercentilesCount(context.Background(), tt.x, allPs...)
			require.NoError(t, err)
			want := cpu.Percentiles(tt.x, allPs...)
			for i, p := range allPs {
				assert.True(t, samePercentile(want[i], got[i]), "p=%v: cpu %v (%#x) gpu %v (%#x)", p, want[i], math.Float64bits(want[i]), got[i], math.Float64bits(got[i]))
			}
			finite := 0
			for _, v := range tt.x {
				if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
					finite++
				}
			}
			assert.Equal(t, finite, n, "count of finite samples")
			require.Equal(t, len(orig), len(tt.x))
			for i := range orig {
				require.Equal(t, math.Float32bits(orig[i]), math.Float32bits(tt.x[i]), "input modified at %d", i)
			}
		})
	}
}

func TestPercentilesManyRanksUseSeveralPrefixGroups(t *testing.T) {
	// 40 percentiles need up to 80 ranks: more than maxSlots distinct
	// prefixes per pass, so each pass runs several dispatch groups.
	d := sharedDevice(t)
	x := randomSamples(rand.New(rand.NewPCG(13, 14)), 50_000, "wide")
	ps := make([]float64, 40)
	for i := range ps {
		ps[i] = 2.5*float64(i) + 0.37
	}
	got, err := d.Percentiles(context.Background(), x, ps...)
	require.NoError(t, err)
	want := cpu.Percentiles(x, ps...)
	for i := range ps {
		assert.True(t, samePercentile(want[i], got[i]), "p=%v: cpu %v gpu %v", ps[i], want[i], got[i])
	}
}

func TestPercentilesTwoDimensionalGrid(t *testing.T) {
	opt := testOptions()
	opt.MaxWorkgroupsPerDim = 3
	d := openDevice(t, opt)
	x := randomSamples(rand.New(rand.NewPCG(15, 16)), 64*histPer*7+5, "sky")
	got, err := d.Percentiles(context.Background(), x, 1, 50, 99.9)
	require.NoError(t, err)
	want := cpu.Percentiles(x, 1, 50, 99.9)
	for i := range want {
		assert.True(t, samePercentile(want[i], got[i]), "cpu %v gpu %v", want[i], got[i])
	}
}

func TestNeedsAtomicsRefusesInterpreter(t *testing.T) {
	require.ErrorIs(t, needsAtomics(Info{Name: "software", Backend: gputypes.BackendEmpty}), ErrUnsupported)
	require.NoError(t, needsAtomics(Info{Name: "llvmpipe", Backend: gputypes.BackendVulkan, DeviceType: gputypes.DeviceTypeCPU}))
}

func TestFloatKeyOrdersNumerically(t *testing.T) {
	vals := []float32{float32(-math.MaxFloat32), -1, -math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32, 1, math.MaxFloat32}
	for i := 1; i < len(vals); i++ {
		a, b := floatKey(math.Float32bits(vals[i-1])), floatKey(math.Float32bits(vals[i]))
		if vals[i-1] == vals[i] {
			assert.Equal(t, a, b, "−0 and +0 share a key")
		} else {
			assert.Less(t, a, b, "%v < %v", vals[i-1], vals[i])
		}
		assert.Equal(t, vals[i], keyFloat(floatKey(math.Float32bits(vals[i]))))
	}
}

func TestHistogramPassCountsUnderEachPrefix(t *testing.T) {
	d := sharedDevice(t)
	for _, kind := range []string{"ties", "wide"} {
		for _, shift := range []uint32{24, 16, 8, 0} {
			for _, np := range []int{1, 2, 5} {
				x := randomSamples(rand.New(rand.NewPCG(3, 4)), 5003, kind)
				mask := ^uint32(0) << (shift + 8)
				var pre []uint32
				seen := map[uint32]bool{}
				for _, v := range x {
					if f := float64(v); len(pre) < np && !math.IsNaN(f) && !math.IsInf(f, 0) {
						if k := floatKey(math.Float32bits(v)) & mask; !seen[k] {
							seen[k] = true
							pre = append(pre, k)
						}
					}
				}
				want := make([]uint32, maxSlots*256)
				for _, v := range x {
					if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
						k := floatKey(math.Float32bits(v))
						for s, p := range pre {
							if k&mask == p {
								want[s*256+int((k>>shift)&255)]++
							}
						}
					}
				}
				var got []uint32
				require.NoError(t, d.do(context.Background(), func(ctx context.Context, e *engine) error {
					bs := bufSet{e: e}
					buf, err := bs.get("test data", 4*align64(uint64(len(x))), wgpuStorageCopyDst)
					if err == nil {
						got, err = e.histogramPass(ctx, &bs, buf, []piece{{data: x}}, [][]int{{0}}, []selectGroup{{0, pre}}, shift, e.workgroupSize(), true)
					}
					bs.done(err)
					return err
				}))
				require.Equal(t, want, got, "%s shift %d, %d prefixes", kind, shift, len(pre))
			}
		}
	}
}

const wgpuStorageCopyDst = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst
