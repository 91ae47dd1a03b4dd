package pipeline

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
	"github.com/zmosaic/zmosaic/compute"
)

// Accuracy test (3) of the mosaic issue at the pipeline level: a noise-free star field rendered
// through a TAN-SIP WCS whose distortion moves the frame's corners by several pixels, mosaicked
// onto a plain, differently rotated TAN grid. Every star must land where the catalogue position
// maps through the output WCS, to 0.02 px — on the CPU and on the GPU.

// sipStar is one catalogue star: sky position and the Gaussian's amplitude.
type sipStar struct{ ra, dec, amp float64 }

const (
	sipFrame    = 512 // input side, px
	sipPSFSigma = 1.6 // Gaussian σ in input pixels (FWHM 3.8 px): well sampled
	sipBox      = 6   // centroid box half-width, px (3.75σ)
)

// sipInputWCS is the distorted input: 1″/px rotated 10°, with a cubic SIP that moves the
// corners by ~12 px (checked in the test).
func sipInputWCS(t *testing.T) *wcs.WCS {
	t.Helper()
	s := 1.0 / 3600
	sin, cos := math.Sincos(10 * math.Pi / 180)
	w, err := wcs.New("TAN", [2]float64{150.1, 2.2}, [2]float64{256.5, 256.5}, [2][2]float64{{-s * cos, s * sin}, {s * sin, s * cos}})
	require.NoError(t, err)
	w.CType = [2]string{"RA---TAN-SIP", "DEC--TAN-SIP"}
	w.SIP = &wcs.SIP{
		Order: 3,
		A:     [][]float64{{0, 0, 2.0e-5, -3.0e-8}, {0, -3.0e-5, 6.0e-8}, {4.0e-5, 2.0e-8}, {9.0e-8}},
		B:     [][]float64{{0, 0, -2.5e-5, 8.0e-8}, {0, 3.5e-5, -2.0e-8}, {-1.5e-5, 5.0e-8}, {-4.0e-8}},
	}
	require.NoError(t, w.Init())
	return w
}

// sipCatalogue draws stars (seeded) inside the input frame, at least 14 px from its edges and
// 20 px from each other, and returns them on the sky.
func sipCatalogue(t *testing.T, in *wcs.WCS) []sipStar {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	var px [][2]float64
	var out []sipStar
	for len(out) < 60 {
		x, y := 14+rng.Float64()*(sipFrame-29), 14+rng.Float64()*(sipFrame-29)
		near := false
		for _, p := range px {
			near = near || math.Hypot(p[0]-x, p[1]-y) < 20
		}
		if near {
			continue
		}
		ra, dec, err := in.PixelToWorld(x, y)
		require.NoError(t, err)
		px = append(px, [2]float64{x, y})
		out = append(out, sipStar{ra: ra, dec: dec, amp: 500 + 4500*rng.Float64()})
	}
	return out
}

// writeSIPFrame renders the catalogue through w (each star a Gaussian at w.WorldToPixel of its
// sky position, sampled at pixel centres, on a flat sky of 100) and writes it with the cards
// of header.
func writeSIPFrame(t *testing.T, w, header *wcs.WCS, stars []sipStar, name string) FrameSource {
	t.Helper()
	img := &fits.Image{Width: sipFrame, Height: sipFrame, Channels: 1, Pix: make([]float32, sipFrame*sipFrame), Header: fits.NewHeader()}
	acc := make([]float64, len(img.Pix))
	for i := range acc {
		acc[i] = 100
	}
	for _, s := range stars {
		sx, sy, err := w.WorldToPixel(s.ra, s.dec)
		require.NoError(t, err)
		for y := max(0, int(sy)-12); y <= min(sipFrame-1, int(sy)+12); y++ {
			for x := max(0, int(sx)-12); x <= min(sipFrame-1, int(sx)+12); x++ {
				r2 := (float64(x)-sx)*(float64(x)-sx) + (float64(y)-sy)*(float64(y)-sy)
				acc[y*sipFrame+x] += s.amp * math.Exp(-r2/(2*sipPSFSigma*sipPSFSigma))
			}
		}
	}
	for i, v := range acc {
		img.Pix[i] = float32(v)
	}
	for _, c := range header.Cards() {
		img.Header.Set(c.Key, c.Value, c.Comment)
	}
	require.NoError(t, fits.Write(name, img, fits.WriteOptions{}))
	return DiskFrame(name)
}

// centroidOffsets measures every star on the mosaic (background-subtracted first moment in a
// ±sipBox box around the expected position) against the catalogue mapped through the output
// WCS, and returns the worst and RMS offset and the number of stars measured.
func centroidOffsets(t *testing.T, res *MosaicResult, stars []sipStar) (worst, rms float64, n int) {
	t.Helper()
	w, h := res.Image.Width, res.Image.Height
	pix := res.Image.Pix
	// The frame's sky is 100 per input pixel; the mosaic holds flux per output pixel, so the
	// sky there is 100 times the input's flux scale (mosaic_flux.go).
	sky := 100.0
	if fs := res.Frames[0].FluxScale; fs != 0 {
		sky *= fs
	}
	for _, s := range stars {
		ex, ey, err := res.WCS.WorldToPixel(s.ra, s.dec)
		require.NoError(t, err)
		cx, cy := int(math.Round(ex)), int(math.Round(ey))
		if cx < sipBox || cy < sipBox || cx >= w-sipBox || cy >= h-sipBox {
			continue
		}
		var sw, sx, sy float64
		ok := true
		for y := cy - sipBox; y <= cy+sipBox; y++ {
			for x := cx - sipBox; x <= cx+sipBox; x++ {
				v := float64(pix[y*w+x]) - sky
				ok = ok && !math.IsNaN(v)
				sw += v
				sx += v * float64(x)
				sy += v * float64(y)
			}
		}
		if !ok {
			continue
		}
		d := math.Hypot(sx/sw-ex, sy/sw-ey)
		worst = max(worst, d)
		rms += d * d
		n++
	}
	return worst, math.Sqrt(rms / float64(max(n, 1))), n
}

func TestMosaicOfASIPDistortedFramePutsStarsWhereTheCatalogueSays(t *testing.T) {
	in := sipInputWCS(t)
	plain := in.Clone()
	plain.SIP = nil
	plain.CType = [2]string{"RA---TAN", "DEC--TAN"}
	require.NoError(t, plain.Init())
	var shift float64
	for _, c := range [][2]float64{{0, 0}, {sipFrame - 1, 0}, {0, sipFrame - 1}, {sipFrame - 1, sipFrame - 1}} {
		ra, dec, err := in.PixelToWorld(c[0], c[1])
		require.NoError(t, err)
		x, y, err := plain.WorldToPixel(ra, dec)
		require.NoError(t, err)
		shift = max(shift, math.Hypot(x-c[0], y-c[1]))
	}
	require.Greater(t, shift, 3.0, "the distortion must move the corners by pixels")

	stars := sipCatalogue(t, in)
	dir := t.TempDir()
	distorted := writeSIPFrame(t, in, in, stars, filepath.Join(dir, "sip.fits"))
	// The same pixels with the SIP cards dropped: what a reader that ignores SIP would see.
	ignored := writeSIPFrame(t, in, plain, stars, filepath.Join(dir, "nosip.fits"))

	// Output: north-up TAN (no SIP) at 0.9″/px, so the resampling rotates, scales and undoes
	// the distortion at once.
	s := 0.9 / 3600
	grid, err := wcs.New("TAN", [2]float64{150.1, 2.2}, [2]float64{320.5, 320.5}, [2][2]float64{{-s, 0}, {0, s}})
	require.NoError(t, err)

	for _, backend := range []compute.Backend{compute.BackendCPU, compute.BackendGPU} {
		t.Run(string(backend), func(t *testing.T) {
			if backend == compute.BackendGPU {
				requireGPU(t)
			}
			run := func(src FrameSource) *MosaicResult {
				opt := DefaultMosaicOptions()
				opt.Compute.Backend = backend
				opt.GridFrom, opt.GridWidth, opt.GridHeight = grid, 640, 640
				res, err := Mosaic(t.Context(), []FrameSource{src}, opt, Hooks{})
				require.NoError(t, err)
				requireReprojectedOn(t, res, backend)
				return res
			}
			worst, rms, n := centroidOffsets(t, run(distorted), stars)
			t.Logf("%s: corners moved %.2f px by SIP; %d stars: centroid − catalogue max %.4f px, RMS %.4f px", backend, shift, n, worst, rms)
			require.Equal(t, len(stars), n, "every star measured")
			assert.LessOrEqual(t, worst, 0.02)

			// Negative control: the SIP cards matter at this scale.
			worstNoSIP, _, _ := centroidOffsets(t, run(ignored), stars)
			t.Logf("%s: same pixels without the SIP cards: max offset %.2f px", backend, worstNoSIP)
			assert.Greater(t, worstNoSIP, 1.0)
		})
	}
}
