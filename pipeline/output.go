package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/cpu"
)

// PreviewPath is where a preview of out.fits goes: out_preview.png beside it.
func PreviewPath(out string) string { return sibling(out, "_preview.png") }

// CountPath is where the kept-count map of out.fits goes: out_count.fits beside it.
func CountPath(out string) string { return sibling(out, "_count.fits") }

func sibling(out, suffix string) string {
	base := out
	for _, ext := range []string{".fits.gz", ".fit.gz", ".fits", ".fit", ".fts"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return base + suffix
}

// Alpha is the ALPHA mask of an image: 255 where every channel has data, 0 elsewhere.
func Alpha(img *fits.Image) []uint8 {
	n := img.Width * img.Height
	a := make([]uint8, n)
	for i := range a {
		a[i] = 255
		for c := 0; c < img.Channels; c++ {
			if v := img.Pix[c*n+i]; v != v {
				a[i] = 0
				break
			}
		}
	}
	return a
}

// WriteCount writes the kept-count map (frames kept per pixel) as a float32 image.
func WriteCount(name string, img *fits.Image, kept []uint32) error {
	out := &fits.Image{Width: img.Width, Height: img.Height, Channels: img.Channels, Pix: make([]float32, len(kept))}
	for i, k := range kept {
		out.Pix[i] = float32(k)
	}
	h := img.Header.Clone()
	h.Set("BUNIT", "frames", "frames kept per pixel after rejection")
	out.Header = h
	return fits.Write(name, out, fits.WriteOptions{})
}

// WritePreview writes an asinh-stretched 8-bit PNG of img (RGBA, transparent where there is no
// data), through a temporary file renamed into place. It stretches on the CPU; WritePreviewWith
// lets a Runner choose the GPU.
func WritePreview(name string, img *fits.Image, opt cpu.StretchOptions) error {
	return WritePreviewWith(context.Background(), nil, name, img, opt)
}

// WritePreviewWith is WritePreview with the stretch run by r (reported as the "stretch"
// operation, on the GPU when r has one, with r's fallbacks). Both backends give the same bytes.
// A nil r stretches on the CPU.
func WritePreviewWith(ctx context.Context, r *compute.Runner, name string, img *fits.Image, opt cpu.StretchOptions) error {
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("pipeline: preview: %w", err)
	}
	var rgba *image.NRGBA
	if r == nil {
		if rgba = cpu.StretchNRGBA(img.Pix, img.Width, img.Height, img.Channels, opt); rgba == nil {
			return fmt.Errorf("pipeline: preview of %d×%d×%d with %d samples: %w", img.Width, img.Height, img.Channels, len(img.Pix), cpu.ErrShape)
		}
	} else {
		var err error
		if rgba, err = r.StretchNRGBA(ctx, img.Pix, img.Width, img.Height, img.Channels, opt); err != nil {
			return fmt.Errorf("pipeline: preview: %w", err)
		}
	}
	var buf bytes.Buffer
	// BestSpeed: a preview is looked at, not archived; default compression took a quarter of
	// a 16-frame mosaic's CPU time for files ~10 % smaller.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, rgba); err != nil {
		return fmt.Errorf("pipeline: %s: %w", name, err)
	}
	return writeFileAtomic(name, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file in the destination folder and renames it, so
// a reader never sees a partial file and an interrupted run leaves none behind.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("pipeline: %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; outputs are ordinary files
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pipeline: %s: %w", name, err)
	}
	return nil
}

// WriteStackFITS writes a stack's image with its header and an ALPHA extension (255 where the
// stack has data in every channel).
func WriteStackFITS(name string, res *StackResult) error {
	return fits.Write(name, res.Image, fits.WriteOptions{Alpha: Alpha(res.Image)})
}
