package compute

import "github.com/gogpu/wgpu"

// autoBudgetMax caps the automatic GPU budget. WebGPU reports no free-memory figure, so the
// budget cannot follow the hardware; 1 GiB fits the 4–8 GB GPUs of our users next to a desktop.
const autoBudgetMax = 1 << 30

// outBytesPerPixel is what one output pixel costs on the GPU: the dst and kept buffers
// (4 bytes each) and their readback copy in the staging buffer (8 bytes).
const outBytesPerPixel = 16

// BufferCap is the largest buffer one kernel binding may use on a device with these limits:
// min(maxBufferSize, maxStorageBufferBindingSize).
func BufferCap(lim wgpu.Limits) int64 {
	return int64(min(lim.MaxBufferSize, lim.MaxStorageBufferBindingSize, 1<<62))
}

// AutoGPUBudget is the budget used when Options.GPUBudget is 0: 2 × BufferCap(lim), at most
// 1 GiB and never below one buffer. WebGPU exposes no free-VRAM figure, so the device's
// per-buffer cap is the only fact to go by: a chunk fills at most one input buffer of that size,
// and the second half leaves room for the outputs, the readback buffer and the device's pool
// of idle buffers. Lower it with --gpu-budget when other programs share the GPU.
func AutoGPUBudget(lim wgpu.Limits) int64 {
	c := BufferCap(lim)
	return max(min(2*c, autoBudgetMax), min(c, autoBudgetMax))
}

// ChunkPlan is how one band of a stack is cut to fit the GPU.
type ChunkPlan struct {
	Frames         int   `json:"frames"`
	Width          int   `json:"width"`
	Rows           int   `json:"rows"`             // rows of the band
	BudgetBytes    int64 `json:"budget_bytes"`     // working-set budget in effect
	BufferCapBytes int64 `json:"buffer_cap_bytes"` // per-buffer cap (input frames of one chunk)
	BytesPerRow    int64 `json:"bytes_per_row"`    // frames×width×4 (input) + width×16 (outputs)
	RowsPerChunk   int   `json:"rows_per_chunk"`   // 0: not even one row fits, the CPU does the work
	Chunks         int   `json:"chunks"`           // ⌈Rows/RowsPerChunk⌉; 0 when nothing fits
	// FrameBlocks is how many groups the frames are cut into, FramesPerBlock frames each. It is
	// 1 unless a row of all frames does not fit and the kernel can stream frames (Reject none
	// with mean, min or max: per-pixel sums carried between blocks in frame order, so the result
	// is the same bits). A rejection needs every sample of a pixel at once: for it such a row
	// goes to the CPU instead.
	FrameBlocks    int   `json:"frame_blocks"`
	FramesPerBlock int   `json:"frames_per_block"`
	ChunkBytes     int64 `json:"chunk_bytes"` // GPU bytes of one full chunk
	InputBytes     int64 `json:"input_bytes"` // GPU bytes of the whole band (frames and outputs)
}

// Fits reports whether at least one row fits the budget and the buffer cap.
func (p ChunkPlan) Fits() bool { return p.RowsPerChunk > 0 || p.Rows == 0 }

// accBytesPerPixel is what one pixel's accumulators cost when frames stream in blocks: the
// compensated sums, count, min and max that stay on the device between blocks (compute/gpu
// StackBandBlocks).
const accBytesPerPixel = 48

// PlanChunks cuts rows of frames×width samples into chunks: rows per chunk =
// min(budget, bufferCap for the input) / bytes per row. When not one row fits and streams is
// set (the kernel can take the frames in blocks), it plans frame blocks instead: rows per chunk
// such that a chunk's accumulators and one frame fit, then as many frames per block as the
// budget allows. Results do not depend on the plan (the kernels are per pixel and keep frame
// order), only speed and memory do.
func PlanChunks(frames, width, rows int, budget, bufferCap int64, streams bool) ChunkPlan {
	p := ChunkPlan{Frames: frames, Width: width, Rows: rows, BudgetBytes: budget, BufferCapBytes: bufferCap, FrameBlocks: 1, FramesPerBlock: frames}
	if width <= 0 || rows <= 0 {
		return p
	}
	inRow := int64(max(frames, 0)) * int64(width) * 4
	p.BytesPerRow = inRow + int64(width)*outBytesPerPixel
	p.InputBytes = p.BytesPerRow * int64(rows)
	n := budget / p.BytesPerRow
	if inRow > 0 {
		n = min(n, bufferCap/inRow)
	}
	p.RowsPerChunk = int(min(n, int64(rows)))
	if p.RowsPerChunk > 0 {
		p.Chunks = (rows + p.RowsPerChunk - 1) / p.RowsPerChunk
		p.ChunkBytes = int64(p.RowsPerChunk) * p.BytesPerRow
		return p
	}
	if !streams || frames < 2 {
		return p
	}
	// Frame blocks: a chunk of R rows holds its outputs and accumulators (R×width×(16+48)) plus
	// one block of F frames (F×R×width×4), the accumulators and the block each within one
	// buffer. Take R so that at least 8 frames fit per block (fewer, larger dispatches), then F.
	perPix := int64(outBytesPerPixel + accBytesPerPixel)
	w := int64(width)
	r := min(budget/(w*(perPix+8*4)), bufferCap/(w*accBytesPerPixel), bufferCap/(w*8*4), int64(rows))
	if r < 1 {
		r = min(budget/(w*(perPix+4)), bufferCap/(w*accBytesPerPixel), bufferCap/(w*4), int64(rows))
	}
	if r < 1 {
		return p
	}
	f := min((budget-r*w*perPix)/(r*w*4), bufferCap/(r*w*4), int64(frames))
	if f < 1 {
		return p
	}
	p.RowsPerChunk, p.FramesPerBlock = int(r), int(f)
	p.FrameBlocks = (frames + p.FramesPerBlock - 1) / p.FramesPerBlock
	p.Chunks = (rows + p.RowsPerChunk - 1) / p.RowsPerChunk
	p.ChunkBytes = r*w*perPix + f*r*w*4
	return p
}
