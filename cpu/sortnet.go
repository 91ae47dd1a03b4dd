package cpu

import "sync"

// Per-pixel sorts of 18..256 samples run a sorting network: a fixed list of
// compare-exchanges (i, j), i < j, that leaves the smaller value at i. Each
// step is a min and a max, which compile to branch-free code (MINSD/MAXSD on
// amd64, f64.min/f64.max in WebAssembly, min/max in WGSL), where insertion
// sort mispredicts a branch on almost every sample of noisy data. Measured on
// Gaussian samples, one core, ns per sort (BenchmarkPixelSorts):
//
//	samples          16    20    24    28    32    100
//	insertion        65   156   249   320   393   3125
//	network          79   125   157   197   230   1400 (slices.Sort: 5200)
//
// An unrolled 32-wire network over local variables sorted 32 samples in
// 161 ns on its own and made kappa 15% faster, but made the winsor clip 10%
// slower (probably its ~10 KB of straight code crowding out the clip's own
// loops from the instruction caches), so the network stays a loop over a
// comparator table.
//
// A sort's output is unique up to the order of equal values, and equal
// float64 values have equal bits except +0 and −0: min/max order −0 before +0
// whatever their frame order, where the stable insertion sort keeps frame
// order and slices.Sort does something else again. The order of tied zeros
// reaches a result only through median/min/max combinations, but to keep
// every result bit-identical to the original kernels a pixel holding a −0
// sample is sorted the old way (see pixelScratch.sorted).
const (
	netMinLen = 18  // below: insertion sort
	netMaxLen = 256 // wire indices are uint8
)

// netCache holds one network per length, built on first use and shared by
// every goroutine (a network depends only on its length).
var netCache [netMaxLen + 1]struct {
	once sync.Once
	net  []uint8
}

// sortingNetwork returns the network for n wires (2 <= n <= netMaxLen) as
// flat pairs i0, j0, i1, j1, ...
func sortingNetwork(n int) []uint8 {
	c := &netCache[n]
	c.once.Do(func() { c.net = batcherNetwork(n) })
	return c.net
}

// batcherNetwork lists the compare-exchanges of Batcher's odd–even merge sort
// for n wires (K. E. Batcher, "Sorting networks and their applications",
// AFIPS 1968) in its usual iterative form: for each merge size 2p, for each
// stride k = p, p/2, ..., 1, compare wires i and i+k that lie in the same
// block of 2p, skipping pairs that reach past wire n−1. That is the network
// for the next power of two without its compare-exchanges on wires >= n, and
// it still sorts: +Inf placed on those wires would never move (every
// compare-exchange keeps the larger value on the higher wire), so they were
// no-ops. 32 wires take 191 compare-exchanges, 100 wires 1104. The order is
// layer by layer, and a shader may run the same list.
func batcherNetwork(n int) []uint8 {
	var net []uint8
	for p := 1; p < n; p <<= 1 {
		for k := p; k >= 1; k >>= 1 {
			for j := k % p; j+k < n; j += 2 * k {
				for i := 0; i < k && i+j+k < n; i++ {
					if (i+j)/(2*p) == (i+j+k)/(2*p) {
						net = append(net, uint8(i+j), uint8(i+j+k))
					}
				}
			}
		}
	}
	return net
}

// networkSort applies net to s. s holds no NaN (min would not order it).
// The array pointer lets the compiler drop the bounds checks of the uint8
// wire indices.
func networkSort(s *[netMaxLen]float64, net []uint8) {
	for k := 0; k+1 < len(net); k += 2 {
		i, j := net[k], net[k+1]
		a, b := s[i], s[j]
		s[i] = min(a, b)
		s[j] = max(a, b)
	}
}
