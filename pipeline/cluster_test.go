package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/compute"
)

var clusterT0 = time.Date(2024, 1, 15, 21, 0, 0, 0, time.UTC)

// field returns n frames jittered by up to jitter degrees around (ra, dec), 10 s apart from t0.
func field(rng *rand.Rand, prefix string, ra, dec, jitter float64, n int, t0 time.Time) []ClusterFrame {
	out := make([]ClusterFrame, n)
	for i := range out {
		out[i] = ClusterFrame{
			RA:   math.Mod(ra+(2*rng.Float64()-1)*jitter/math.Cos(dec*math.Pi/180)+360, 360),
			Dec:  dec + (2*rng.Float64()-1)*jitter,
			Time: t0.Add(time.Duration(i) * 10 * time.Second),
			Key:  fmt.Sprintf("%s/frame_%05d.fits", prefix, i),
		}
	}
	return out
}

// groupKeys turns groups into sorted key lists, comparable across input orders.
func groupKeys(frames []ClusterFrame, groups []Group) [][]string {
	out := make([][]string, len(groups))
	for g, gr := range groups {
		for _, m := range gr.Members {
			out[g] = append(out[g], frames[m].Key)
		}
		slices.Sort(out[g])
	}
	return out
}

func cluster(t *testing.T, frames []ClusterFrame, opt ClusterOptions) *ClusterResult {
	t.Helper()
	res, err := ClusterFrames(frames, opt, Hooks{})
	require.NoError(t, err)
	seen := make([]bool, len(frames))
	for _, g := range res.Groups {
		require.True(t, slices.IsSorted(g.Members), "members ascending")
		for _, m := range g.Members {
			require.False(t, seen[m], "frame %d in two groups", m)
			seen[m] = true
		}
	}
	require.NotContains(t, seen, false, "every frame in a group")
	return res
}

func sizes(groups []Group) []int {
	var s []int
	for _, g := range groups {
		s = append(s, len(g.Members))
	}
	return s
}

func noRelax() ClusterOptions {
	o := DefaultClusterOptions()
	o.AutoRelax = false
	return o
}

func TestClusterFramesGroupsByPosition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	line := func(ra0, dec, step float64, n int) []ClusterFrame {
		var f []ClusterFrame
		for i := range n {
			f = append(f, ClusterFrame{RA: math.Mod(ra0+float64(i)*step+360, 360), Dec: dec, Key: fmt.Sprintf("l%03d", i)})
		}
		return f
	}
	tests := []struct {
		name   string
		frames []ClusterFrame
		want   []int // group sizes in canonical order
	}{
		{"separated fields make separate groups", slices.Concat(
			field(rng, "a", 10, 20, 0.01, 10, clusterT0),
			field(rng, "b", 12, 20, 0.01, 7, clusterT0),
			field(rng, "c", 10, 23, 0.01, 5, clusterT0)), []int{10, 7, 5}},
		{"a chain of close frames is one group", line(30, 0, 0.04, 50), []int{50}},
		{"frames further apart than the threshold stay alone", line(30, 0, 0.06, 3), []int{1, 1, 1}},
		{"RA wraps at 0/360", line(359.95, 10, 0.03, 4), []int{4}},
		{"fields on both sides of 0h stay apart", slices.Concat(
			field(rng, "a", 359.5, 0, 0.01, 4, clusterT0), field(rng, "b", 0.5, 0, 0.01, 4, clusterT0)), []int{4, 4}},
		{"frames across the pole are neighbours", []ClusterFrame{
			{RA: 0, Dec: 89.985, Key: "p0"}, {RA: 180, Dec: 89.985, Key: "p1"}, {RA: 90, Dec: 89.99, Key: "p2"}}, []int{3}},
		{"a ring around the pole links through RA", func() []ClusterFrame {
			var f []ClusterFrame
			for i := range 72 {
				f = append(f, ClusterFrame{RA: float64(i) * 5, Dec: -89.7, Key: fmt.Sprintf("r%02d", i)}) // 0.026° apart
			}
			return f
		}(), []int{72}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := cluster(t, tc.frames, noRelax())
			assert.Equal(t, tc.want, sizes(res.Groups))
			assert.Equal(t, len(tc.want), res.Components)
		})
	}
}

func TestClusterFramesMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, thr := range []float64{0.05, 0.3, 2} {
		t.Run(fmt.Sprintf("threshold %g", thr), func(t *testing.T) {
			var frames []ClusterFrame
			for i := range 600 {
				// Clumps near RA 0 and the north pole, where wrap and convergence bite.
				ra := math.Mod(360+(2*rng.Float64()-1)*3, 360)
				dec := 84 + 6*rng.Float64()
				if i%2 == 0 {
					dec = (2*rng.Float64() - 1) * 3
				}
				frames = append(frames, ClusterFrame{RA: ra, Dec: dec, Key: fmt.Sprintf("f%04d", i)})
			}
			res := cluster(t, frames, ClusterOptions{ThresholdDeg: thr})
			uf := newUnionFind(len(frames))
			for i := range frames {
				for j := i + 1; j < len(frames); j++ {
					if sky.Separation(frames[i].RA, frames[i].Dec, frames[j].RA, frames[j].Dec) < thr {
						uf.union(i, j)
					}
				}
			}
			for _, g := range res.Groups {
				for _, m := range g.Members {
					assert.Equal(t, uf.find(g.Members[0]), uf.find(m), "members of a group are connected")
				}
			}
			roots := map[int]bool{}
			for i := range frames {
				roots[uf.find(i)] = true
			}
			assert.Len(t, res.Groups, len(roots), "as many groups as brute-force components")
		})
	}
}

func TestClusterFramesAutoRelax(t *testing.T) {
	var frames []ClusterFrame
	for i := range 20 {
		frames = append(frames, ClusterFrame{RA: 50 + float64(i)*0.1, Dec: 0, Key: fmt.Sprintf("f%02d", i)})
	}
	var events []compute.Event
	res, err := ClusterFrames(frames, DefaultClusterOptions(), Hooks{Events: func(e compute.Event) { events = append(events, e) }})
	require.NoError(t, err)
	assert.Equal(t, []int{20}, sizes(res.Groups), "relaxed until the frames link")
	assert.Equal(t, 2, res.RelaxSteps, "0.05 → 0.075 → 0.1125")
	assert.InDelta(t, 0.1125, res.ThresholdDeg, 1e-12)
	require.NotEmpty(t, events)
	assert.Equal(t, "cluster_relaxed", events[0].Key)
	assert.Equal(t, "cluster_done", events[len(events)-1].Key)

	res = cluster(t, frames, noRelax())
	assert.Len(t, res.Groups, 20, "without auto-relax every frame stays alone")

	far := []ClusterFrame{{RA: 10, Key: "a"}, {RA: 20, Key: "b"}, {RA: 30, Key: "c"}}
	res = cluster(t, far, DefaultClusterOptions())
	assert.Len(t, res.Groups, 3, "relaxing stops at 1° and fields 10° apart stay apart")
	assert.Equal(t, relaxMaxDeg, res.ThresholdDeg)
}

func TestClusterFramesCapSplitsInSpaceThenTime(t *testing.T) {
	t.Run("a wide strip is cut along its length", func(t *testing.T) {
		var frames []ClusterFrame
		for i := range 100 {
			frames = append(frames, ClusterFrame{RA: 100, Dec: 10 + float64(i)*0.01, Key: fmt.Sprintf("s%03d", i)})
		}
		opt := noRelax()
		opt.MaxFramesPerTile = 30
		res := cluster(t, frames, opt)
		assert.Equal(t, []int{25, 25, 25, 25}, sizes(res.Groups), "k = 4 balanced parts")
		assert.Equal(t, 1, res.Components)
		assert.Equal(t, 1, res.SplitGroups)
		for _, g := range res.Groups {
			assert.Equal(t, "space", g.Split)
			assert.Equal(t, g.Members[len(g.Members)-1]-g.Members[0], len(g.Members)-1, "each part is a contiguous stretch")
		}
	})
	t.Run("one pointing is cut into chronological chunks", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		frames := field(rng, "p", 200, -30, 0.005, 101, clusterT0)
		// Keys in reverse time order: the chunks must follow DATE-OBS, not names.
		for i := range frames {
			frames[i].Key = fmt.Sprintf("k%03d", 100-i)
		}
		opt := noRelax()
		opt.MaxFramesPerTile = 40
		res := cluster(t, frames, opt)
		require.Equal(t, []int{34, 34, 33}, sizes(res.Groups))
		start := 0
		for _, g := range res.Groups {
			assert.Equal(t, "time", g.Split)
			for k, m := range g.Members {
				assert.Equal(t, start+k, m, "chunk holds consecutive exposures")
			}
			start += len(g.Members)
		}
	})
	t.Run("a group under the cap is left whole", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		opt := noRelax()
		opt.MaxFramesPerTile = 40
		res := cluster(t, field(rng, "p", 1, 1, 0.01, 40, clusterT0), opt)
		assert.Equal(t, []int{40}, sizes(res.Groups))
		assert.Equal(t, "", res.Groups[0].Split)
	})
}

func TestClusterFramesIgnoresInputOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var frames []ClusterFrame
	for p := range 9 {
		ra := 83.8 + float64(p%3)*0.5
		dec := -5.4 + float64(p/3)*0.9
		frames = append(frames, field(rng, fmt.Sprintf("panel%d", p), ra, dec, 0.02, 60, clusterT0.Add(time.Duration(p)*time.Hour))...)
	}
	opt := DefaultClusterOptions()
	opt.ThresholdDeg = 0.03
	opt.MaxFramesPerTile = 25
	want := cluster(t, frames, opt)
	wantKeys := groupKeys(frames, want.Groups)
	for trial := range 3 {
		shuffled := slices.Clone(frames)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := cluster(t, shuffled, opt)
		assert.Equal(t, wantKeys, groupKeys(shuffled, got.Groups), "trial %d: same groups in the same order", trial)
		for g := range want.Groups {
			assert.Equal(t, want.Groups[g].Center, got.Groups[g].Center, "trial %d: centre bits", trial)
			assert.Equal(t, want.Groups[g].Split, got.Groups[g].Split)
		}
	}
}

func TestClusterFramesGroupCentre(t *testing.T) {
	frames := []ClusterFrame{{RA: 359.99, Dec: 0, Key: "a"}, {RA: 0.01, Dec: 0, Key: "b"}}
	res := cluster(t, frames, noRelax())
	require.Len(t, res.Groups, 1)
	c := res.Groups[0].Center
	assert.Less(t, sky.Separation(c[0], c[1], 0, 0), 1e-9, "mean direction, not mean RA")
}

func TestClusterFramesRejectsBadInput(t *testing.T) {
	opts := []struct {
		name string
		edit func(*ClusterOptions)
	}{
		{"zero threshold", func(o *ClusterOptions) { o.ThresholdDeg = 0 }},
		{"NaN threshold", func(o *ClusterOptions) { o.ThresholdDeg = math.NaN() }},
		{"huge threshold", func(o *ClusterOptions) { o.ThresholdDeg = 45 }},
		{"negative cap", func(o *ClusterOptions) { o.MaxFramesPerTile = -1 }},
		{"negative split extent", func(o *ClusterOptions) { o.SpatialSplitDeg = -1 }},
	}
	for _, tc := range opts {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultClusterOptions()
			tc.edit(&o)
			_, err := ClusterFrames(nil, o, Hooks{})
			require.ErrorIs(t, err, ErrInvalidClusterOptions)
			assert.True(t, strings.HasPrefix(err.Error(), "pipeline: "))
		})
	}
	for _, f := range []ClusterFrame{{RA: math.NaN(), Key: "nan.fits"}, {RA: 1, Dec: 91, Key: "dec.fits"}, {RA: math.Inf(1), Key: "inf.fits"}} {
		_, err := ClusterFrames([]ClusterFrame{{RA: 1, Key: "ok"}, f}, DefaultClusterOptions(), Hooks{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), f.Key)
	}
	res, err := ClusterFrames(nil, DefaultClusterOptions(), Hooks{})
	require.NoError(t, err)
	assert.Empty(t, res.Groups, "no frames, no groups")
}

// clusterBenchFrames is a night of Seestar mosaics: 50 panels of 200 frames jittered by 0.02°.
func clusterBenchFrames(n int) []ClusterFrame {
	rng := rand.New(rand.NewPCG(11, 12))
	var frames []ClusterFrame
	for p := 0; len(frames) < n; p++ {
		ra, dec := 10+float64(p%10)*0.6, 20+float64(p/10)*1.0
		frames = append(frames, field(rng, fmt.Sprintf("p%02d", p), ra, dec, 0.02, min(200, n-len(frames)), clusterT0)...)
	}
	return frames
}

func BenchmarkClusterFrames(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		frames := clusterBenchFrames(n)
		opt := DefaultClusterOptions()
		opt.MaxFramesPerTile = 150
		b.Run(fmt.Sprintf("frames=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ClusterFrames(frames, opt, Hooks{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
