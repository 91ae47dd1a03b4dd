package pipeline

import (
	"errors"
	"fmt"
	"math"

	"github.com/zmosaic/zmosaic/astro/fits"
)

// MosaicSink receives a mosaic band by band, top to bottom, so that the whole image never has to
// be in memory (MosaicFileSink) unless the caller wants it (Mosaic, MosaicWith).
type MosaicSink interface {
	// HeldBytes is the memory the sink keeps for the whole run for a width×height×channels
	// mosaic (the whole image in memory, a preview), counted by the plan against the budget.
	HeldBytes(width, height, channels int) int64
	// Begin is called once, before the first band, with the output size and its final header
	// (WCS, provenance, photometric corrections: all known before assembly starts).
	Begin(width, height, channels int, h *fits.Header) error
	// Band receives rows [y0, y0+rows): pix and coverage are CHW (channel c's rows at
	// c*rows*width), alpha is rows×width (255 where every channel has data). The slices are
	// reused for later bands: a sink copies what it keeps. Calls come one at a time and in
	// order, but from a goroutine of their own while the next band is computed
	// (MosaicPlan.Overlap); after an error no other band comes.
	Band(y0, rows int, pix, coverage []float32, alpha []uint8) error
}

// finishingSink is a sink that needs memory of its own after the last band (a preview's
// stretch), when the band buffers are free again; PlanMosaic checks it fits the budget.
type finishingSink interface {
	FinishBytes(width, height, channels int) int64
}

// memorySink keeps the whole mosaic: what Mosaic and MosaicWith return.
type memorySink struct {
	img      *fits.Image
	coverage []float32
	alpha    []uint8
}

func (s *memorySink) HeldBytes(width, height, channels int) int64 {
	px := int64(width) * int64(height)
	return px*int64(channels)*4*2 + px // image + coverage (float32 each) + alpha
}

func (s *memorySink) Begin(width, height, channels int, h *fits.Header) error {
	s.img = &fits.Image{Width: width, Height: height, Channels: channels, Header: h, Pix: make([]float32, width*height*channels)}
	s.coverage = make([]float32, len(s.img.Pix))
	s.alpha = make([]uint8, width*height)
	return nil
}

func (s *memorySink) Band(y0, rows int, pix, coverage []float32, alpha []uint8) error {
	w, n := s.img.Width, s.img.Width*s.img.Height
	for c := range s.img.Channels {
		off := c*n + y0*w
		copy(s.img.Pix[off:off+rows*w], pix[c*rows*w:(c+1)*rows*w])
		copy(s.coverage[off:off+rows*w], coverage[c*rows*w:(c+1)*rows*w])
	}
	copy(s.alpha[y0*w:(y0+rows)*w], alpha)
	return nil
}

// MosaicFileSink writes the mosaic band by band: the image with its ALPHA extension to Name and
// the coverage map (sum of the per-pixel weights, same header with BUNIT = 'weight') to
// Coverage unless it is "". With PreviewSide > 0 it also builds a block-mean preview no larger
// than PreviewSide on its long side (see PreviewBuilder). Nothing appears on disk until Close;
// Abort drops everything. Memory held: the preview and the encoding buffers of the writers
// (bands are written mosaicWriteRows rows at a time, so these do not grow with the band).
type MosaicFileSink struct {
	Name, Coverage string
	PreviewSide    int

	img, cov *fits.ImageWriter
	preview  *PreviewBuilder
}

// DefaultPreviewSide is the long side of the mosaic preview, in pixels.
const DefaultPreviewSide = 2048

// mosaicWriteRows is how many rows a MosaicFileSink encodes at once: its encoding buffers
// (one per file) then hold mosaicWriteRows×width float32 however tall the bands are.
const mosaicWriteRows = 32

// HeldBytes is the preview being built and the writers' encoding buffers.
func (s *MosaicFileSink) HeldBytes(width, height, channels int) int64 {
	writers := int64(1)
	if s.Coverage != "" {
		writers++
	}
	held := writers * int64(min(mosaicWriteRows, height)) * int64(width) * 4
	if s.PreviewSide > 0 {
		held += previewBuilderBytes(width, height, channels, s.PreviewSide)
	}
	return held
}

// FinishBytes is what stretching the preview adds once the mosaic is assembled: its NRGBA
// image and the stretch's sample copy (see previewHeldBytes).
func (s *MosaicFileSink) FinishBytes(width, height, channels int) int64 {
	if s.PreviewSide <= 0 {
		return 0
	}
	return previewHeldBytes(width, height, channels, s.PreviewSide) - previewBuilderBytes(width, height, channels, s.PreviewSide)
}

func (s *MosaicFileSink) Begin(width, height, channels int, h *fits.Header) error {
	if s.img != nil {
		return errors.New("pipeline: mosaic file sink used twice")
	}
	var err error
	if s.img, err = fits.Create(s.Name, width, height, channels, h, fits.CreateOptions{Alpha: true}); err != nil {
		return err
	}
	if s.Coverage != "" {
		ch := h.Clone()
		ch.Set("BUNIT", "weight", "sum of the per-pixel mosaic weights")
		if s.cov, err = fits.Create(s.Coverage, width, height, channels, ch, fits.CreateOptions{}); err != nil {
			s.Abort()
			return err
		}
	}
	if s.PreviewSide > 0 {
		s.preview = NewPreviewBuilder(width, height, channels, s.PreviewSide)
	}
	return nil
}

func (s *MosaicFileSink) Band(y0, rows int, pix, coverage []float32, alpha []uint8) error {
	if s.img == nil {
		return errors.New("pipeline: mosaic file sink: Band before Begin")
	}
	w := s.img.Width()
	n := rows * w
	for c := range len(pix) / n {
		for r0 := 0; r0 < rows; r0 += mosaicWriteRows {
			lo, hi := c*n+r0*w, c*n+min(r0+mosaicWriteRows, rows)*w
			if err := s.img.WriteRows(c, y0+r0, pix[lo:hi]); err != nil {
				return err
			}
			if s.cov != nil {
				if err := s.cov.WriteRows(c, y0+r0, coverage[lo:hi]); err != nil {
					return err
				}
			}
		}
	}
	if err := s.img.WriteAlphaRows(y0, alpha); err != nil {
		return err
	}
	if s.preview != nil {
		return s.preview.AddRows(y0, rows, pix)
	}
	return nil
}

// Preview is the downsampled preview (nil without PreviewSide), complete once every band went
// through the sink.
func (s *MosaicFileSink) Preview() *fits.Image {
	if s.preview == nil {
		return nil
	}
	return s.preview.Image()
}

// Close finishes both files (each is renamed into place only when every row was written).
func (s *MosaicFileSink) Close() error {
	if s.img == nil {
		return errors.New("pipeline: mosaic file sink closed before Begin")
	}
	if err := s.img.Close(); err != nil {
		if s.cov != nil {
			s.cov.Abort()
		}
		return err
	}
	if s.cov != nil {
		return s.cov.Close()
	}
	return nil
}

// Abort removes the files being written; nothing appears at their names.
func (s *MosaicFileSink) Abort() {
	if s.img != nil {
		s.img.Abort()
	}
	if s.cov != nil {
		s.cov.Abort()
	}
}

// PreviewBuilder downsamples an image arriving in row bands, top to bottom, into a preview no
// larger than maxSide on its long side: each preview pixel is the mean of the finite samples of
// its f×f block of image pixels (f = ceil(long side / maxSide)), NaN when the block has none, so
// no-data stays no-data and the stretch sees it as such. It holds one row of float64 block sums
// and the float32 preview, never the image.
type PreviewBuilder struct {
	w, h, nc, f int
	pw, ph      int
	pix         []float32 // the preview, CHW
	sum         []float64 // current block row: per channel pw sums
	cnt         []int32   // and counts
	next        int       // next image row expected
}

// NewPreviewBuilder starts a preview of a width×height×channels image.
func NewPreviewBuilder(width, height, channels, maxSide int) *PreviewBuilder {
	f := previewFactor(width, height, maxSide)
	p := &PreviewBuilder{w: width, h: height, nc: channels, f: f, pw: (width + f - 1) / f, ph: (height + f - 1) / f}
	p.pix = make([]float32, p.pw*p.ph*channels)
	p.sum = make([]float64, p.pw*channels)
	p.cnt = make([]int32, p.pw*channels)
	return p
}

func previewFactor(width, height, maxSide int) int {
	return max(1, (max(width, height)+maxSide-1)/maxSide)
}

// previewBuilderBytes is what a PreviewBuilder holds: the preview (float32 CHW) and one block
// row of sums and counts.
func previewBuilderBytes(width, height, channels, maxSide int) int64 {
	f := previewFactor(width, height, maxSide)
	pw, ph := int64((width+f-1)/f), int64((height+f-1)/f)
	return pw*ph*int64(channels)*4 + pw*int64(channels)*12
}

// previewHeldBytes is what a PreviewBuilder and the stretch of its result hold.
func previewHeldBytes(width, height, channels, maxSide int) int64 {
	f := previewFactor(width, height, maxSide)
	pw, ph := int64((width+f-1)/f), int64((height+f-1)/f)
	// Preview (float32 CHW), its NRGBA (4 B/px) and the stretch's sample copy (float32 CHW),
	// plus one block row of sums and counts.
	return pw*ph*(int64(channels)*8+4) + pw*int64(channels)*12
}

// AddRows adds image rows [y0, y0+rows) (CHW band, channel c at c*rows*width); bands must come
// in order.
func (p *PreviewBuilder) AddRows(y0, rows int, pix []float32) error {
	if y0 != p.next || rows < 0 || y0+rows > p.h || len(pix) != rows*p.w*p.nc {
		return fmt.Errorf("pipeline: preview: rows [%d, %d) with %d samples, expected row %d of %d×%d×%d",
			y0, y0+rows, len(pix), p.next, p.w, p.h, p.nc)
	}
	for r := range rows {
		y := y0 + r
		for c := range p.nc {
			row := pix[(c*rows+r)*p.w : (c*rows+r+1)*p.w]
			sum, cnt := p.sum[c*p.pw:(c+1)*p.pw], p.cnt[c*p.pw:(c+1)*p.pw]
			for bx := range sum {
				s, n := sum[bx], cnt[bx]
				for _, v := range row[bx*p.f : min((bx+1)*p.f, p.w)] {
					if v-v == 0 { // finite
						s += float64(v)
						n++
					}
				}
				sum[bx], cnt[bx] = s, n
			}
		}
		if (y+1)%p.f == 0 || y+1 == p.h {
			p.flush(y / p.f)
		}
	}
	p.next = y0 + rows
	return nil
}

func (p *PreviewBuilder) flush(py int) {
	nan := float32(math.NaN())
	for c := range p.nc {
		out := p.pix[(c*p.ph+py)*p.pw : (c*p.ph+py+1)*p.pw]
		for x := range out {
			i := c*p.pw + x
			out[x] = nan
			if p.cnt[i] > 0 {
				out[x] = float32(p.sum[i] / float64(p.cnt[i]))
			}
			p.sum[i], p.cnt[i] = 0, 0
		}
	}
}

// Image is the preview (rows not yet received are 0).
func (p *PreviewBuilder) Image() *fits.Image {
	return &fits.Image{Width: p.pw, Height: p.ph, Channels: p.nc, Pix: p.pix, Header: fits.NewHeader()}
}
