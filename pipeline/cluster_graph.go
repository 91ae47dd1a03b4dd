package pipeline

import (
	"math"
	"slices"
	"time"
)

// cellKey indexes a cube of the 3-D grid that hashes unit vectors.
type cellKey [3]int32

// connectedComponents links frames (unit vectors in canonical order) whose angular separation
// is below thresholdDeg and returns the components as ascending ranks, ordered by their first
// rank.
//
// Separation θ < t is tested as chord length |u−v| < 2·sin(t/2), which is exact and monotonic.
// The grid's cube side is that chord over √3, so two frames in one cube are always linked
// (without a test: pairs within a few ulp of the threshold may fall either way) and a linked
// pair is at most two cubes apart along each axis. Each cube is one component after the first
// pass; a pair of cubes then needs only its first link, and none if the cubes are already
// joined.
func connectedComponents(vecs [][3]float64, thresholdDeg float64) [][]int {
	chord := 2 * math.Sin(thresholdDeg*math.Pi/360)
	side := chord / math.Sqrt(3)
	chord2 := chord * chord

	cells := make(map[cellKey][]int)
	var keys []cellKey // first-seen order, itself canonical
	for r, v := range vecs {
		var k cellKey
		for a := range 3 {
			k[a] = int32(math.Floor(v[a] / side))
		}
		if _, ok := cells[k]; !ok {
			keys = append(keys, k)
		}
		cells[k] = append(cells[k], r)
	}

	uf := newUnionFind(len(vecs))
	for _, k := range keys {
		m := cells[k]
		for _, r := range m[1:] {
			uf.union(m[0], r)
		}
	}
	for _, ka := range keys {
		a := cells[ka]
		for _, d := range neighbourOffsets {
			b, ok := cells[cellKey{ka[0] + d[0], ka[1] + d[1], ka[2] + d[2]}]
			if !ok || uf.find(a[0]) == uf.find(b[0]) {
				continue
			}
			linkCells(uf, vecs, a, b, chord2)
		}
	}

	index := make(map[int]int) // root → component
	var comps [][]int
	for r := range vecs {
		root := uf.find(r)
		c, ok := index[root]
		if !ok {
			c = len(comps)
			index[root] = c
			comps = append(comps, nil)
		}
		comps[c] = append(comps[c], r)
	}
	return comps
}

// linkCells joins cubes a and b if any pair of their frames is closer than the chord.
func linkCells(uf *unionFind, vecs [][3]float64, a, b []int, chord2 float64) {
	for _, i := range a {
		for _, j := range b {
			dx, dy, dz := vecs[i][0]-vecs[j][0], vecs[i][1]-vecs[j][1], vecs[i][2]-vecs[j][2]
			if dx*dx+dy*dy+dz*dz < chord2 {
				uf.union(i, j)
				return
			}
		}
	}
}

// neighbourOffsets are the cube offsets within ±2 per axis that come after (0,0,0) in
// lexicographic order: each unordered pair of cubes is visited once.
var neighbourOffsets = func() [][3]int32 {
	var out [][3]int32
	for x := int32(-2); x <= 2; x++ {
		for y := int32(-2); y <= 2; y++ {
			for z := int32(-2); z <= 2; z++ {
				if x > 0 || (x == 0 && (y > 0 || (y == 0 && z > 0))) {
					out = append(out, [3]int32{x, y, z})
				}
			}
		}
	}
	return out
}()

// unionFind is a disjoint-set forest with union by size and path halving.
type unionFind struct {
	parent, size []int
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int, n), size: make([]int, n)}
	for i := range u.parent {
		u.parent[i] = i
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *unionFind) union(a, b int) {
	a, b = u.find(a), u.find(b)
	if a == b {
		return
	}
	if u.size[a] < u.size[b] {
		a, b = b, a
	}
	u.parent[b] = a
	u.size[a] += u.size[b]
}

// rankGroup is a group as canonical ranks, before they are turned back into input indices.
type rankGroup struct {
	ranks []int
	split string // "", "space" or "time", as Group.Split
}

// splitGroup cuts a component larger than opt.MaxFramesPerTile into k = ⌈n/cap⌉ parts of
// nearly equal size. While a part is wider than opt.SpatialSplitDeg along the longer axis of
// its bounding box (orthographic projection about its mean direction, axes east and north),
// it is cut across that axis, k-d style, so that its left side holds ⌊k/2⌋/k of the frames:
// neighbouring frames stay together and the parts come out balanced. A part that is compact
// but still too large (one pointing observed for hours) is cut into k chronological chunks
// by (Time, rank), their sizes differing by at most one, so each master tile spans one stretch
// of the night. ZeMosaic uses spatial k-means then chronological chunks (spec §1.3); a
// median-style cut is deterministic without iterations.
func splitGroup(ranks []int, vecs [][3]float64, times []time.Time, opt ClusterOptions) []rankGroup {
	limit := opt.MaxFramesPerTile
	var out []rankGroup
	var cut func(ranks []int, how string)
	cut = func(ranks []int, how string) {
		n := len(ranks)
		if n <= limit {
			out = append(out, rankGroup{ranks: ranks, split: how})
			return
		}
		k := (n + limit - 1) / limit
		if coord, extent := longerAxis(vecs, ranks); extent > opt.SpatialSplitDeg {
			s := slices.Clone(ranks)
			slices.SortFunc(s, func(a, b int) int {
				if c := cmpFloat(coord[a], coord[b]); c != 0 {
					return c
				}
				return a - b
			})
			left := int(math.Round(float64(n) * float64(k/2) / float64(k)))
			l, r := s[:left], s[left:]
			slices.Sort(l)
			slices.Sort(r)
			cut(l, "space")
			cut(r, "space")
			return
		}
		s := slices.Clone(ranks)
		slices.SortFunc(s, func(a, b int) int {
			if c := times[a].Compare(times[b]); c != 0 {
				return c
			}
			return a - b
		})
		for c, start := 0, 0; c < k; c++ {
			size := n / k
			if c < n%k {
				size++
			}
			part := s[start : start+size]
			slices.Sort(part)
			out = append(out, rankGroup{ranks: part, split: "time"})
			start += size
		}
	}
	cut(ranks, "")
	return out
}

// longerAxis projects the members orthographically about their mean direction and returns the
// coordinate along the longer side of their bounding box (by rank) and that side's extent in
// degrees.
func longerAxis(vecs [][3]float64, ranks []int) (map[int]float64, float64) {
	c := meanVector(vecs, ranks)
	norm := math.Sqrt(c[0]*c[0] + c[1]*c[1] + c[2]*c[2])
	for k := range 3 {
		c[k] /= norm
	}
	east := [3]float64{-c[1], c[0], 0}
	if e := math.Hypot(east[0], east[1]); e > 1e-12 {
		east[0], east[1] = east[0]/e, east[1]/e
	} else {
		east = [3]float64{0, 1, 0} // at a pole any east will do
	}
	north := [3]float64{c[1]*east[2] - c[2]*east[1], c[2]*east[0] - c[0]*east[2], c[0]*east[1] - c[1]*east[0]}
	dot := func(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
	xs, ys := make(map[int]float64, len(ranks)), make(map[int]float64, len(ranks))
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, r := range ranks {
		x, y := dot(vecs[r], east), dot(vecs[r], north)
		xs[r], ys[r] = x, y
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	deg := 180 / math.Pi
	if maxX-minX >= maxY-minY {
		return xs, (maxX - minX) * deg
	}
	return ys, (maxY - minY) * deg
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
