package session

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/cpu"
)

// Last returns the last finished stack or mosaic, or nil.
func (s *Session) Last() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// result returns the last stack or a localised "no stack yet" error.
func (s *Session) result() (*Result, error) {
	if r := s.Last(); r != nil {
		return r, nil
	}
	return nil, errors.New(s.T("wasm_no_result", nil))
}

// stretched is the last stack stretched on the CPU (the GPU device is closed after a stack;
// a preview of a few megapixels takes milliseconds here).
func (s *Session) stretched(pLow, pHigh, asinh float64) (*image.NRGBA, error) {
	r, err := s.result()
	if err != nil {
		return nil, err
	}
	opt := cpu.StretchOptions{PLow: or(pLow, r.Stretch.PLow), PHigh: or(pHigh, r.Stretch.PHigh), Asinh: or(asinh, r.Stretch.Asinh)}
	if err := opt.Validate(); err != nil {
		return nil, errors.New(s.T("wasm_options_invalid", map[string]any{"error": err.Error()}))
	}
	img := r.Image()
	rgba := cpu.StretchNRGBA(img.Pix, img.Width, img.Height, img.Channels, opt)
	if rgba == nil {
		return nil, fmt.Errorf("session: stretch of %d×%d×%d: %w", img.Width, img.Height, img.Channels, cpu.ErrShape)
	}
	return rgba, nil
}

// or is v, or def when v is NaN (an argument the page left out).
func or(v, def float64) float64 {
	if v != v {
		return def
	}
	return v
}

// PreviewRGBA stretches the last stack into non-premultiplied RGBA bytes, row by row, as a
// canvas ImageData wants them (alpha 0 where there is no data). A NaN argument takes the value
// given with the stack (p_low, p_high, asinh of its options).
func (s *Session) PreviewRGBA(pLow, pHigh, asinh float64) (width, height int, rgba []byte, err error) {
	img, err := s.stretched(pLow, pHigh, asinh)
	if err != nil {
		return 0, 0, nil, err
	}
	return img.Rect.Dx(), img.Rect.Dy(), img.Pix, nil
}

// PNGBytes is PreviewRGBA encoded as PNG.
func (s *Session) PNGBytes(pLow, pHigh, asinh float64) ([]byte, error) {
	img, err := s.stretched(pLow, pHigh, asinh)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("session: png: %w", err)
	}
	return buf.Bytes(), nil
}

// FITSBytes encodes the last result as zmosaic stack or mosaic writes it: float32 with its
// header (the output WCS for a mosaic) and an ALPHA extension.
func (s *Session) FITSBytes() ([]byte, error) {
	r, err := s.result()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := fits.Encode(&buf, r.Image(), fits.WriteOptions{Alpha: r.Alpha()}); err != nil {
		return nil, fmt.Errorf("session: fits: %w", err)
	}
	return buf.Bytes(), nil
}

// ResultFloat32 is the last result's pixels, CHW (shared, not copied: do not modify).
func (s *Session) ResultFloat32() ([]float32, error) {
	r, err := s.result()
	if err != nil {
		return nil, err
	}
	return r.Image().Pix, nil
}

// CoverageFITSBytes encodes the last mosaic's coverage map (Σ per-pixel weights, CHW) as
// zmosaic mosaic writes OUT_coverage.fits: float32, the mosaic's header, BUNIT weight.
func (s *Session) CoverageFITSBytes() ([]byte, error) {
	r, err := s.result()
	if err != nil {
		return nil, err
	}
	if r.Mosaic == nil {
		return nil, errors.New(s.T("wasm_no_mosaic", nil))
	}
	img := r.Mosaic.Image
	h := img.Header.Clone()
	h.Set("BUNIT", "weight", "sum of the per-pixel mosaic weights")
	cov := &fits.Image{Width: img.Width, Height: img.Height, Channels: img.Channels, Pix: r.Mosaic.Coverage, Header: h}
	var buf bytes.Buffer
	if err := fits.Encode(&buf, cov, fits.WriteOptions{}); err != nil {
		return nil, fmt.Errorf("session: coverage fits: %w", err)
	}
	return buf.Bytes(), nil
}
