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
	// FrameBlocks is how many groups the frames are cut into. Always 1: a rejection kernel
	// needs every sample of a pixel at once, so a row that does not fit with all its frames
	// goes to the CPU instead of being split along the frames.
	FrameBlocks int   `json:"frame_blocks"`
	ChunkBytes  int64 `json:"chunk_bytes"` // GPU bytes of one full chunk
	InputBytes  int64 `json:"input_bytes"` // GPU bytes of the whole band (frames and outputs)
}

// Fits reports whether at least one row fits the budget and the buffer cap.
func (p ChunkPlan) Fits() bool { return p.RowsPerChunk > 0 || p.Rows == 0 }

// PlanChunks cuts rows of frames×width samples into chunks: rows per chunk =
// min(budget, bufferCap for the input) / bytes per row. Results do not depend on the plan (the
// kernels are per pixel), only speed and memory do.
func PlanChunks(frames, width, rows int, budget, bufferCap int64) ChunkPlan {
	p := ChunkPlan{Frames: frames, Width: width, Rows: rows, BudgetBytes: budget, BufferCapBytes: bufferCap, FrameBlocks: 1}
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
	}
	return p
}
