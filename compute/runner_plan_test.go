package compute

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
)

func TestPlanChunks(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                 string
		frames, width, rows  int
		budget, capBytes     int64
		wantRows, wantChunks int
		wantBytesPerRow      int64
	}{
		// 48×2048×4 = 384 KiB of input + 32 KiB of outputs per row.
		{"64 MiB budget binds before the 128 MiB cap", 48, 2048, 2048, 64 * mib, 128 * mib, 157, 14, 425984},
		{"the buffer cap binds before a large budget", 48, 2048, 2048, 1024 * mib, 128 * mib, 341, 7, 425984},
		{"a small band fits in one chunk", 4, 100, 10, 64 * mib, 128 * mib, 10, 1, 4*100*4 + 100*16},
		{"a row over budget gives no chunk", 48, 2048, 10, 400000, 128 * mib, 0, 0, 425984},
		{"a row over the cap gives no chunk", 48, 2048, 10, 64 * mib, 300000, 0, 0, 425984},
		{"empty band", 3, 10, 0, 64 * mib, 128 * mib, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanChunks(tc.frames, tc.width, tc.rows, tc.budget, tc.capBytes, false)
			assert.Equal(t, tc.wantRows, p.RowsPerChunk)
			assert.Equal(t, tc.wantChunks, p.Chunks)
			assert.Equal(t, tc.wantBytesPerRow, p.BytesPerRow)
			assert.Equal(t, 1, p.FrameBlocks)
			assert.LessOrEqual(t, p.ChunkBytes, tc.budget)
			assert.LessOrEqual(t, int64(p.RowsPerChunk*tc.frames*tc.width*4), tc.capBytes)
			assert.Equal(t, tc.rows == 0 || tc.wantRows > 0, p.Fits())
		})
	}
}

func TestPlanChunksCutsFramesIntoBlocksWhenARowDoesNotFit(t *testing.T) {
	const mib = 1 << 20
	// 5000 frames × 8192 px: one row of all frames is 156 MiB, over a 128 MiB cap.
	p := PlanChunks(5000, 8192, 100, 256*mib, 128*mib, true)
	require.Greater(t, p.RowsPerChunk, 0)
	assert.Greater(t, p.FrameBlocks, 1)
	assert.GreaterOrEqual(t, p.FramesPerBlock, 8)
	assert.Equal(t, (5000+p.FramesPerBlock-1)/p.FramesPerBlock, p.FrameBlocks)
	assert.LessOrEqual(t, p.ChunkBytes, int64(256*mib))
	assert.LessOrEqual(t, int64(p.FramesPerBlock*p.RowsPerChunk*8192*4), int64(128*mib), "a block fits one buffer")
	assert.LessOrEqual(t, int64(p.RowsPerChunk*8192*accBytesPerPixel), int64(128*mib), "the accumulators fit one buffer")

	// A kernel that cannot stream (a rejection) gets no plan: the CPU does the work.
	p = PlanChunks(5000, 8192, 100, 256*mib, 128*mib, false)
	assert.Equal(t, 0, p.RowsPerChunk)
	assert.Equal(t, 1, p.FrameBlocks)
	assert.False(t, p.Fits())

	// Rows that fit whole never use blocks.
	p = PlanChunks(10, 100, 10, 256*mib, 128*mib, true)
	assert.Equal(t, 1, p.FrameBlocks)
	assert.Equal(t, 10, p.FramesPerBlock)
}

func TestAutoGPUBudgetIsTwiceTheBufferCapAtMostOneGiB(t *testing.T) {
	tests := []struct {
		name         string
		maxBuf, bind uint64
		want         int64
	}{
		{"lavapipe: 256 MiB buffers, 128 MiB bindings", 256 << 20, 128 << 20, 256 << 20},
		{"large limits are capped at 1 GiB", 4 << 30, 2 << 30, 1 << 30},
		{"the buffer size binds when smaller", 64 << 20, 128 << 20, 128 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := capLimits(0)
			lim.MaxBufferSize, lim.MaxStorageBufferBindingSize = tc.maxBuf, tc.bind
			assert.Equal(t, tc.want, AutoGPUBudget(lim))
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())
	tests := []struct {
		name string
		opt  Options
	}{
		{"unknown backend", Options{Backend: "tpu"}},
		{"empty backend", Options{}},
		{"negative budget", Options{Backend: BackendAuto, GPUBudget: -1}},
		{"budget below 1 MiB", Options{Backend: BackendAuto, GPUBudget: 1000}},
		{"negative fault count", Options{Backend: BackendGPU, Faults: gpu.Faults{OOMAt: -1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opt.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "compute: ")
		})
	}
}

func TestOptionsJSONKeysAreTheConfigKeys(t *testing.T) {
	data, err := json.Marshal(Options{Backend: BackendGPU, GPUBudget: 64 << 20, Faults: gpu.Faults{LostAt: 1}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"backend":"gpu","gpu_budget":67108864}`, string(data))
}

func TestInvalidOptionsGiveACPURunnerWithAReason(t *testing.T) {
	var rec recorder
	r := NewRunnerWith(t.Context(), Options{Backend: "tpu"}, rec.sink(), nil)
	e := rec.one(t, "gpu_fallback_unavailable")
	assert.Contains(t, e.Params["reason"], "tpu")
	_, _, ok := r.GPU()
	assert.False(t, ok)
	assert.Zero(t, r.Plan(10, 10, 10).RowsPerChunk)
}

func TestRunnerPlanUsesTheDeviceCapAndBudget(t *testing.T) {
	fake := newFake(hardware())
	r := NewRunnerWith(t.Context(), Options{Backend: BackendAuto, GPUBudget: 64 << 20}, nil, fake.opener())
	p := r.Plan(48, 2048, 2048)
	assert.Equal(t, 157, p.RowsPerChunk)
	assert.Equal(t, int64(128<<20), p.BufferCapBytes)
	assert.Equal(t, int64(64<<20), r.Budget())
}
