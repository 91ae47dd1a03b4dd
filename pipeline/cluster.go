package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/zmosaic/zmosaic/astro/sky"
	"github.com/zmosaic/zmosaic/compute"
)

// Clustering groups frames into future master tiles (phase 2 of a hierarchical run; ZeMosaic's
// cluster_seestar_stacks_connected, spec §1.3): two frames are linked when their centres are
// closer than ClusterOptions.ThresholdDeg, and a group is a connected component of that graph.
//
// Determinism: frames are first put in a canonical order by (Key, Time, RA, Dec), so the
// groups, their order (by their first frame in canonical order) and every split are the same
// whatever order the caller lists the frames in; only the reported indices follow the input.
//
// Cost: centres become unit vectors hashed on a 3-D grid whose cells are small enough that two
// frames in one cell are always linked, so only neighbouring cells are compared pairwise, and
// a pair of cells already in one component is skipped. 10,000 frames take milliseconds
// (BenchmarkClusterFrames); working on unit vectors also makes RA wrap-around and the poles
// ordinary cases.

// ClusterOptions control ClusterFrames. Start from DefaultClusterOptions; Validate holds every
// range check.
type ClusterOptions struct {
	// ThresholdDeg links two frames whose centres are closer than this, degrees (flag
	// --cluster-deg). ZeMosaic's code default 0.05° (its GUI used 0.03°).
	ThresholdDeg float64 `json:"cluster_deg"`
	// AutoRelax retries with a larger threshold when clustering links almost nothing, which
	// happens when the threshold is smaller than the pointing scatter of the frames of one
	// field: while groups >= max(3, 0.9·frames), the threshold is multiplied by 1.5, up to 1°
	// (ZeMosaic relaxes once to 1.2× the 90th percentile of nearest-neighbour distances,
	// clamped to 0.01..1°; steps of 1.5 reach a similar place without an O(n log n) NN search
	// and stop at the first threshold that links the frames).
	AutoRelax bool `json:"cluster_auto_relax"`
	// MaxFramesPerTile caps a group's size (flag --max-frames-per-tile; 0 = no cap). A larger
	// group is cut spatially first, then in time: see splitGroup.
	MaxFramesPerTile int `json:"max_frames_per_tile"`
	// SpatialSplitDeg is the smallest extent, degrees along a group's longer axis, worth
	// cutting in space; a group more compact than this (one pointing with its dithers and
	// field rotation) is cut into chronological chunks instead.
	SpatialSplitDeg float64 `json:"cluster_split_deg"`
}

// DefaultClusterOptions returns ZeMosaic's defaults: 0.05°, auto-relax on, no cap, spatial
// splits for groups wider than 0.2° (about a quarter of a Seestar field, ZeMosaic's
// 0.25·FOV dispersion rule).
func DefaultClusterOptions() ClusterOptions {
	return ClusterOptions{ThresholdDeg: 0.05, AutoRelax: true, SpatialSplitDeg: 0.2}
}

// Auto-relax constants, see ClusterOptions.AutoRelax.
const (
	relaxFactor   = 1.5
	relaxMaxDeg   = 1.0
	relaxMinGroup = 3   // never relax when there are fewer groups than this
	relaxFraction = 0.9 // relax when groups >= this fraction of the frames
)

// maxClusterThresholdDeg bounds ThresholdDeg: beyond it "nearby" means nothing for a tile.
const maxClusterThresholdDeg = 10

// ErrInvalidClusterOptions is wrapped by every error ClusterOptions.Validate returns.
var ErrInvalidClusterOptions = errors.New("pipeline: invalid cluster options")

// Validate reports the first option out of range, wrapping ErrInvalidClusterOptions.
func (o ClusterOptions) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidClusterOptions, fmt.Sprintf(format, args...))
	}
	switch {
	case !(o.ThresholdDeg > 0 && o.ThresholdDeg <= maxClusterThresholdDeg):
		return bad("cluster_deg = %g, want > 0 and <= %d", o.ThresholdDeg, maxClusterThresholdDeg)
	case o.MaxFramesPerTile < 0:
		return bad("max_frames_per_tile = %d, want >= 0 (0 = no cap)", o.MaxFramesPerTile)
	case !(o.SpatialSplitDeg >= 0 && o.SpatialSplitDeg <= 180):
		return bad("cluster_split_deg = %g, want 0..180", o.SpatialSplitDeg)
	}
	return nil
}

// ClusterFrame is what clustering knows of one frame.
type ClusterFrame struct {
	RA, Dec float64   // centre, degrees (from the WCS; hints only if the caller accepts them)
	Time    time.Time // DATE-OBS; the zero time when unknown (sorts first)
	Key     string    // a unique stable name, the file path: it fixes the canonical order
}

// Group is one future master tile.
type Group struct {
	Members []int      `json:"members"` // indices into ClusterFrames' input, ascending
	Center  [2]float64 `json:"center"`  // RA, Dec of the members' mean direction, degrees
	// Split is "" for a whole connected component, else how it was cut from one:
	// "space" (last cut along the group's longer axis) or "time" (a chronological chunk).
	Split string `json:"split,omitempty"`
}

// ClusterResult is the grouping and the decisions that made it.
type ClusterResult struct {
	Groups       []Group `json:"groups"`
	ThresholdDeg float64 `json:"cluster_deg"`      // threshold finally used, after any relaxing
	RelaxSteps   int     `json:"relax_steps"`      // how many times AutoRelax widened it
	Components   int     `json:"components"`       // connected components before capping
	SplitGroups  int     `json:"split_components"` // components cut by MaxFramesPerTile
}

// ClusterFrames groups frames by sky position as described at the top of this file, then
// applies the MaxFramesPerTile cap. Decisions (relaxing, splitting, the final count) are sent
// to hooks.Events as cluster_relaxed, cluster_split and cluster_done. An empty input gives no
// groups; a non-finite centre or a declination outside ±90° is an error naming the frame.
func ClusterFrames(frames []ClusterFrame, opt ClusterOptions, hooks Hooks) (*ClusterResult, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	for i, f := range frames {
		if math.IsNaN(f.RA) || math.IsInf(f.RA, 0) || !(f.Dec >= -90 && f.Dec <= 90) {
			return nil, fmt.Errorf("pipeline: cluster: frame %d (%s): centre (%g, %g) is not a sky position", i, f.Key, f.RA, f.Dec)
		}
	}
	res := &ClusterResult{ThresholdDeg: opt.ThresholdDeg}
	if len(frames) == 0 {
		return res, nil
	}
	order := canonicalOrder(frames)
	vecs := make([][3]float64, len(order))
	for r, i := range order {
		vecs[r] = sky.UnitVector(frames[i].RA, frames[i].Dec)
	}

	comps := connectedComponents(vecs, res.ThresholdDeg)
	for opt.AutoRelax && len(comps) >= max(relaxMinGroup, int(math.Ceil(relaxFraction*float64(len(vecs))))) &&
		res.ThresholdDeg < relaxMaxDeg {
		from := res.ThresholdDeg
		res.ThresholdDeg = min(res.ThresholdDeg*relaxFactor, relaxMaxDeg)
		res.RelaxSteps++
		comps = connectedComponents(vecs, res.ThresholdDeg)
		hooks.Events.Emit(compute.Info, "cluster_relaxed", map[string]any{
			"from_deg": from, "to_deg": res.ThresholdDeg, "groups": len(comps), "frames": len(vecs),
		})
	}
	res.Components = len(comps)

	times := make([]time.Time, len(order))
	for r, i := range order {
		times[r] = frames[i].Time
	}
	for _, c := range comps {
		parts := []rankGroup{{ranks: c}}
		if opt.MaxFramesPerTile > 0 && len(c) > opt.MaxFramesPerTile {
			parts = splitGroup(c, vecs, times, opt)
			res.SplitGroups++
			hooks.Events.Emit(compute.Info, "cluster_split", map[string]any{
				"frames": len(c), "parts": len(parts), "cap": opt.MaxFramesPerTile,
			})
		}
		for _, p := range parts {
			g := Group{Members: make([]int, len(p.ranks)), Split: p.split}
			for k, r := range p.ranks {
				g.Members[k] = order[r]
			}
			slices.Sort(g.Members)
			g.Center[0], g.Center[1] = sky.FromVector(meanVector(vecs, p.ranks))
			res.Groups = append(res.Groups, g)
		}
	}
	hooks.Events.Emit(compute.Info, "cluster_done", map[string]any{
		"frames": len(frames), "groups": len(res.Groups), "cluster_deg": res.ThresholdDeg,
	})
	return res, nil
}

// canonicalOrder returns the input indices sorted by (Key, Time, RA, Dec, index): the order
// every later step works in, so the result does not depend on the caller's order.
func canonicalOrder(frames []ClusterFrame) []int {
	order := make([]int, len(frames))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		fa, fb := frames[a], frames[b]
		return cmp.Or(
			cmp.Compare(fa.Key, fb.Key),
			fa.Time.Compare(fb.Time),
			cmp.Compare(fa.RA, fb.RA),
			cmp.Compare(fa.Dec, fb.Dec),
		)
	})
	return order
}

// meanVector is the sum of the members' unit vectors, added in canonical order so the bits do
// not depend on the input order; FromVector normalises it.
func meanVector(vecs [][3]float64, ranks []int) [3]float64 {
	var s [3]float64
	for _, r := range ranks {
		for k := range 3 {
			s[k] += vecs[r][k]
		}
	}
	return s
}
