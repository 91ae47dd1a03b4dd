package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatcherNetworkSortsAllZeroOneInputs checks the networks up to 20 wires
// on every 0/1 input, which by the 0-1 principle (Knuth, TAOCP vol. 3,
// §5.3.4, Theorem Z) proves they sort anything. The inputs are bit-sliced:
// bit b of word w is input number 64·batch+b on wire w.
func TestBatcherNetworkSortsAllZeroOneInputs(t *testing.T) {
	for n := 2; n <= 20; n++ {
		net := batcherNetwork(n)
		wires := make([]uint64, n)
		for batch := range max(1, (1<<n)/64) {
			for w := range wires {
				wires[w] = 0
				for b := range 64 {
					if x := batch*64 + b; x>>w&1 == 1 {
						wires[w] |= 1 << b
					}
				}
			}
			for k := 0; k < len(net); k += 2 {
				i, j := net[k], net[k+1]
				wires[i], wires[j] = wires[i]&wires[j], wires[i]|wires[j] // min, max
			}
			for w := 1; w < n; w++ {
				// sorted: a 1 on wire w-1 implies a 1 on wire w
				require.Zero(t, wires[w-1]&^wires[w], "n=%d batch=%d wire %d", n, batch, w)
			}
		}
	}
}

// TestBatcherNetworkIsPrunedPowerOfTwo checks the claim of batcherNetwork's
// doc: the network for n is the one for the next power of two without the
// compare-exchanges that touch a wire >= n.
func TestBatcherNetworkIsPrunedPowerOfTwo(t *testing.T) {
	for n := 2; n <= netMaxLen; n++ {
		p := 1
		for p < n {
			p <<= 1
		}
		full := batcherNetwork(p)
		var pruned []uint8
		for k := 0; k < len(full); k += 2 {
			if int(full[k+1]) < n {
				pruned = append(pruned, full[k], full[k+1])
			}
		}
		require.Equal(t, pruned, batcherNetwork(n), "n=%d", n)
	}
}

// TestNetworkSortMatchesSlicesSort sorts random samples with ties for every
// network length.
func TestNetworkSortMatchesSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s [netMaxLen]float64
	for n := 2; n <= netMaxLen; n++ {
		for range 20 {
			x := make([]float64, n)
			for i := range x {
				x[i] = float64(rng.IntN(2*n)) - float64(n)/2 + rng.NormFloat64()*float64(rng.IntN(2))
			}
			copy(s[:], x)
			networkSort(&s, sortingNetwork(n))
			slices.Sort(x)
			assert.Equal(t, x, s[:n], "n=%d", n)
		}
	}
}

// mergeMAD is the original O(n) merge of sortedMAD, kept as its reference.
func mergeMAD(s []float64, m float64) float64 {
	n := len(s)
	p := n / 2
	for p > 0 && s[p-1] >= m {
		p--
	}
	l, r := p-1, p
	k1, k2 := (n-1)/2, n/2
	var d1, d2 float64
	for k := 0; k <= k2; k++ {
		var d float64
		if r >= n || (l >= 0 && m-s[l] <= s[r]-m) {
			d = m - s[l]
			l--
		} else {
			d = s[r] - m
			r++
		}
		if k == k1 {
			d1 = d
		}
		d2 = d
	}
	if k1 == k2 {
		return d1
	}
	return 0.5 * (d1 + d2)
}

// TestSortedMADMatchesMerge compares the bisection with the merge bit for bit
// on skewed, tied and outlier-laden samples of every length up to 70.
func TestSortedMADMatchesMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		for trial := range 300 {
			s := make([]float64, n)
			for i := range s {
				switch trial % 3 {
				case 0: // continuous
					s[i] = rng.NormFloat64()
				case 1: // heavy ties
					s[i] = float64(rng.IntN(4))
				default: // one-sided outliers
					s[i] = rng.NormFloat64()
					if rng.IntN(3) == 0 {
						s[i] = 100 + rng.Float64()
					}
				}
			}
			slices.Sort(s)
			m := sortedMedian(s)
			want, got := mergeMAD(s, m), sortedMAD(s, m)
			require.Equal(t, math.Float64bits(want), math.Float64bits(got), "n=%d trial=%d s=%v", n, trial, s)
		}
	}
}

// BenchmarkPixelSorts times the per-pixel sorts on Gaussian samples (the
// table in sortnet.go).
func BenchmarkPixelSorts(b *testing.B) {
	for _, n := range []int{16, 20, 24, 28, 32, 100} {
		rng := rand.New(rand.NewPCG(1, 2))
		d := make([][]float64, 1024)
		for i := range d {
			d[i] = make([]float64, n)
			for j := range d[i] {
				d[i][j] = rng.NormFloat64()
			}
		}
		var s [netMaxLen]float64
		b.Run(fmt.Sprint("network/", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				copy(s[:], d[i&1023])
				networkSort(&s, sortingNetwork(n))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sort")
		})
		b.Run(fmt.Sprint("sortSamples/", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				copy(s[:], d[i&1023])
				sortSamples(s[:n])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sort")
		})
	}
}
