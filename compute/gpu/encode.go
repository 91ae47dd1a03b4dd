package gpu

import (
	"fmt"

	"github.com/gogpu/wgpu"
)

// encodeDispatch records one compute pass that runs pipe with bind group bg over a gx×gy grid
// and returns the encoder, still open for the copies that follow (readback). On an error the
// encoder is discarded, so the caller has nothing to release.
func (e *engine) encodeDispatch(pipe *pipeline, bg *wgpu.BindGroup, gx, gy uint32) (*wgpu.CommandEncoder, error) {
	enc, err := e.dev.CreateCommandEncoder(nil)
	if err != nil {
		return nil, fmt.Errorf("gpu: command encoder: %w", err)
	}
	pass, err := enc.BeginComputePass(nil)
	if err != nil {
		enc.DiscardEncoding()
		return nil, fmt.Errorf("gpu: compute pass: %w", err)
	}
	pass.SetPipeline(pipe.cp)
	pass.SetBindGroup(0, bg, nil)
	pass.Dispatch(gx, gy, 1)
	if err := pass.End(); err != nil {
		enc.DiscardEncoding()
		return nil, fmt.Errorf("gpu: dispatch %d×%d: %w", gx, gy, err)
	}
	return enc, nil
}
