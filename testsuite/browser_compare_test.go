//go:build !(js && wasm)

package testsuite

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/pipeline"
	"github.com/zmosaic/zmosaic/synth"
)

// writeFrames writes a small synthetic set (6 mono frames of 96×64, seed 3, with cosmic rays
// and hot pixels so that rejection has work) and returns the frame paths.
func writeFrames(t *testing.T, dir string) []string {
	t.Helper()
	o := synth.DefaultOptions()
	o.Frames, o.Width, o.Height, o.Seed = 6, 96, 64, 3
	o.Stars, o.CosmicRays, o.HotPixels = 25, 6, 5
	paths, err := synth.Write(context.Background(), dir, o, nil)
	require.NoError(t, err)
	frames := paths[:o.Frames] // then truth.fits and catalog.csv
	for _, p := range frames {
		require.Equal(t, synth.LightsDir, filepath.Base(filepath.Dir(p)))
	}
	return frames
}

// reference is the native CPU stack of some files and the per-pixel spread of the normalised
// samples it combined.
type reference struct {
	res     *pipeline.StackResult
	seconds float64
	lo, hi  []float64 // per pixel (CHW): smallest and largest normalised finite sample
	absMax  []float64 // per pixel: largest |normalised sample|, the scale of the tolerance
}

// cpuReference runs pipeline.Stack on the CPU with the browser's options (the defaults, and
// skip_bad: the page skips unreadable files).
func cpuReference(t *testing.T, paths []string) reference {
	t.Helper()
	srcs := make([]pipeline.FrameSource, len(paths))
	for i, p := range paths {
		srcs[i] = pipeline.DiskFrame(p)
	}
	opt := pipeline.DefaultStackOptions()
	opt.SkipBad = true
	opt.Compute.Backend = compute.BackendCPU
	start := time.Now()
	res, err := pipeline.Stack(context.Background(), srcs, opt, pipeline.Hooks{})
	require.NoError(t, err)
	ref := reference{res: res, seconds: time.Since(start).Seconds()}

	n := len(res.Image.Pix)
	ref.lo, ref.hi, ref.absMax = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		ref.lo[i], ref.hi[i] = math.Inf(1), math.Inf(-1)
	}
	plane := res.Image.Width * res.Image.Height
	for _, fi := range res.Frames {
		if fi.Error != "" {
			continue
		}
		f, err := fits.Open(fi.File)
		require.NoError(t, err)
		hdu, err := f.Image("")
		require.NoError(t, err)
		img, err := hdu.ReadImage()
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.Len(t, img.Pix, n, fi.File)
		for i, x := range img.Pix {
			a := fi.Norm[i/plane]
			v := float64(a.Gain)*float64(x) + float64(a.Offset)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			ref.lo[i], ref.hi[i] = min(ref.lo[i], v), max(ref.hi[i], v)
			ref.absMax[i] = max(ref.absMax[i], math.Abs(v))
		}
	}
	return ref
}

// comparison summarises a browser result against the reference.
type comparison struct {
	pixels    int
	worstULP  float64 // largest |Δ| in ulps of the pixel's largest |sample|
	offULP    int     // pixels beyond Tolerance.ValueULP
	identical bool    // every float32 bit equal
}

func (c comparison) String() string {
	return fmt.Sprintf("%d pixels, worst %.2f ulp, %d beyond the ulp bound, bit-identical %v",
		c.pixels, c.worstULP, c.offULP, c.identical)
}

// compareWithTolerance checks got against the CPU reference with the table entry for the stack's
// rejection: a backend that judged a sample on a threshold differently keeps or rejects
// another sample, which moves that pixel by up to the sample spread and is not visible here (the
// kept counts are not exposed to the page), so such pixels are allowed up to
// Tolerance.CountMismatch of the image and must stay within the spread; every other pixel is
// within ValueULP ulps of its largest |sample|. NaN (no data) must be at the same pixels.
func compareWithTolerance(ref reference, got []float32, tol Tolerance) (comparison, error) {
	want := ref.res.Image.Pix
	c := comparison{pixels: len(want), identical: true}
	if len(got) != len(want) {
		return c, fmt.Errorf("result has %d values, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if math.Float32bits(g) != math.Float32bits(w) {
			c.identical = false
		}
		wn, gn := w != w, g != g
		if wn || gn {
			if wn != gn {
				return c, fmt.Errorf("pixel %d: got %v, want %v (NaN means no data on both sides)", i, g, w)
			}
			continue
		}
		d := math.Abs(float64(g) - float64(w))
		u := d / ulpAt(max(ref.absMax[i], math.Abs(float64(w))))
		c.worstULP = max(c.worstULP, u)
		if u <= tol.ValueULP {
			continue
		}
		c.offULP++
		// Beyond the ulp bound only a different kept set explains it, and no choice of kept
		// samples moves a mean or median outside the samples' range.
		spread := ref.hi[i] - ref.lo[i]
		slack := tol.ValueULP * ulpAt(ref.absMax[i])
		if d > spread+slack || float64(g) < ref.lo[i]-slack || float64(g) > ref.hi[i]+slack {
			return c, fmt.Errorf("pixel %d: got %v, want %v: |Δ| %.4g outside the sample range [%.6g, %.6g]",
				i, g, w, d, ref.lo[i], ref.hi[i])
		}
	}
	if frac := float64(c.offULP) / float64(len(want)); frac > tol.CountMismatch {
		return c, fmt.Errorf("%d of %d pixels (%.3g) are beyond %.0f ulp; the table allows %.3g (%s)",
			c.offULP, len(want), frac, tol.ValueULP, tol.CountMismatch, tol.Why)
	}
	return c, nil
}

// TestCompareWithToleranceCatchesWrongPixels proves the comparison can fail: the browser tests
// rely on it, and they pass only when the browser is right.
func TestCompareWithToleranceCatchesWrongPixels(t *testing.T) {
	ref := reference{res: &pipeline.StackResult{Image: &fits.Image{Pix: []float32{100, 200, float32(math.NaN()), 400}}},
		lo: []float64{90, 190, 0, 390}, hi: []float64{110, 210, 0, 410}, absMax: []float64{110, 210, 0, 410}}
	tol := Tolerance{ValueULP: 2, CountMismatch: 0.25}
	ulp100 := float32(ulpAt(110))
	tests := []struct {
		name    string
		got     []float32
		wantErr string
	}{
		{"identical values pass", []float32{100, 200, float32(math.NaN()), 400}, ""},
		{"one ulp off passes", []float32{100 + ulp100, 200, float32(math.NaN()), 400}, ""},
		{"one pixel moved within its spread passes under the mismatch fraction", []float32{105, 200, float32(math.NaN()), 400}, ""},
		{"two moved pixels exceed the mismatch fraction", []float32{105, 205, float32(math.NaN()), 400}, "beyond 2 ulp"},
		{"a value outside the sample range fails", []float32{120, 200, float32(math.NaN()), 400}, "outside the sample range"},
		{"a NaN where the reference has data fails", []float32{float32(math.NaN()), 200, float32(math.NaN()), 400}, "NaN means no data"},
		{"data where the reference has none fails", []float32{100, 200, 0, 400}, "NaN means no data"},
		{"a wrong length fails", []float32{100, 200}, "has 2 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compareWithTolerance(ref, tt.got, tol)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
		})
	}
}
