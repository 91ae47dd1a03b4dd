package main

import (
	"encoding/json"
	"fmt"

	"github.com/gogpu/wgpu"
	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
)

// gpuReport is `zmosaic gpu --json`: every adapter zmosaic can open (the public WebGPU API
// offers one: the preferred hardware adapter, else a CPU-emulated one), or why there is none.
type gpuReport struct {
	Adapters []gpuAdapterReport `json:"adapters"`
	Error    string             `json:"error,omitempty"` // why no adapter opened
	why      map[string]any     // Error as event parameters, to say it in the user's language
}

type gpuAdapterReport struct {
	compute.Adapter
	Limits      gpuLimits         `json:"limits"`
	MaxFrames   int               `json:"max_frames"` // samples per pixel of the sorting kernels
	BudgetBytes int64             `json:"budget_bytes"`
	BudgetAuto  bool              `json:"budget_auto"`
	Plan        compute.ChunkPlan `json:"plan"`
	Height      int               `json:"height"`
	AutoBackend string            `json:"auto_backend"`          // what --backend auto would use: gpu or cpu
	AutoReason  string            `json:"auto_reason,omitempty"` // why auto would not use it
}

// gpuLimits are the device limits that shape zmosaic's kernels and chunks.
type gpuLimits struct {
	MaxBufferSize                     uint64 `json:"max_buffer_size"`
	MaxStorageBufferBindingSize       uint64 `json:"max_storage_buffer_binding_size"`
	MaxUniformBufferBindingSize       uint64 `json:"max_uniform_buffer_binding_size"`
	MaxStorageBuffersPerShaderStage   uint32 `json:"max_storage_buffers_per_shader_stage"`
	MaxBindGroups                     uint32 `json:"max_bind_groups"`
	MaxBindingsPerBindGroup           uint32 `json:"max_bindings_per_bind_group"`
	MinStorageBufferOffsetAlignment   uint32 `json:"min_storage_buffer_offset_alignment"`
	MaxComputeWorkgroupsPerDimension  uint32 `json:"max_compute_workgroups_per_dimension"`
	MaxComputeInvocationsPerWorkgroup uint32 `json:"max_compute_invocations_per_workgroup"`
	MaxComputeWorkgroupSizeX          uint32 `json:"max_compute_workgroup_size_x"`
	MaxComputeWorkgroupSizeY          uint32 `json:"max_compute_workgroup_size_y"`
	MaxComputeWorkgroupSizeZ          uint32 `json:"max_compute_workgroup_size_z"`
	MaxComputeWorkgroupStorageSize    uint32 `json:"max_compute_workgroup_storage_size"`
}

func limitsOf(l wgpu.Limits) gpuLimits {
	return gpuLimits{
		MaxBufferSize: l.MaxBufferSize, MaxStorageBufferBindingSize: l.MaxStorageBufferBindingSize,
		MaxUniformBufferBindingSize: l.MaxUniformBufferBindingSize, MaxStorageBuffersPerShaderStage: l.MaxStorageBuffersPerShaderStage,
		MaxBindGroups: l.MaxBindGroups, MaxBindingsPerBindGroup: l.MaxBindingsPerBindGroup,
		MinStorageBufferOffsetAlignment: l.MinStorageBufferOffsetAlignment, MaxComputeWorkgroupsPerDimension: l.MaxComputeWorkgroupsPerDimension,
		MaxComputeInvocationsPerWorkgroup: l.MaxComputeInvocationsPerWorkgroup, MaxComputeWorkgroupSizeX: l.MaxComputeWorkgroupSizeX,
		MaxComputeWorkgroupSizeY: l.MaxComputeWorkgroupSizeY, MaxComputeWorkgroupSizeZ: l.MaxComputeWorkgroupSizeZ,
		MaxComputeWorkgroupStorageSize: l.MaxComputeWorkgroupStorageSize,
	}
}

func gpuCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	frames := fs.Int("frames", 48, a.t("flag_gpu_frames", nil))
	width := fs.Int("width", 1920, a.t("flag_width", nil))
	height := fs.Int("height", 1080, a.t("flag_height", nil))
	cf := addComputeFlags(a, fs, false)
	asJSON := fs.Bool("json", false, a.t("flag_gpu_json", nil))
	return func(args []string) int {
		if len(args) > 0 || *frames < 1 || *width < 1 || *height < 1 {
			a.errorf("usage_error", map[string]any{"command": "gpu", "error": fmt.Sprintf("want --frames, --width and --height >= 1 and no arguments, got %d, %d, %d and %q", *frames, *width, *height, args)})
			return exitUsage
		}
		opt, ok := cf.options(a, "gpu")
		if !ok {
			return exitUsage
		}
		opt.Backend = compute.BackendGPU // open whatever exists; auto's choice is reported below
		r := compute.NewRunner(a.ctx, opt, nil)
		defer r.Close()
		rep := gpuReport{Adapters: []gpuAdapterReport{}}
		info, lim, ok := r.GPU()
		if !ok {
			rep.Error, rep.why = r.Summary().GPUOff, r.OffParams()
		} else {
			ad := gpuAdapterReport{
				Adapter: compute.AdapterOf(info), Limits: limitsOf(lim), MaxFrames: r.MaxFrames(),
				BudgetBytes: r.Budget(), BudgetAuto: opt.GPUBudget == 0, Plan: r.Plan(*frames, *width, *height), Height: *height,
				AutoBackend: "gpu",
			}
			if info.Software() {
				ad.AutoBackend, ad.AutoReason = "cpu", info.Name+" is CPU-emulated; our CPU code is faster"
			}
			rep.Adapters = append(rep.Adapters, ad)
		}
		if *asJSON {
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				a.errorf("write_failed", map[string]any{"file": "stdout", "error": err.Error()})
				return exitFailure
			}
			return exitOK
		}
		a.printGPU(rep)
		return exitOK
	}
}

// printGPU writes the report as text.
func (a *app) printGPU(rep gpuReport) {
	w := a.stdout
	if len(rep.Adapters) == 0 {
		why := rep.why
		if why == nil {
			why = map[string]any{"reason": rep.Error}
		}
		fmt.Fprintln(w, a.loc.Event("gpu_none", why))
		return
	}
	for _, ad := range rep.Adapters {
		fmt.Fprintln(w, a.t("gpu_adapter", map[string]any{"name": ad.Name, "backend": ad.Backend, "device_type": ad.DeviceType,
			"vendor": ad.Vendor, "driver": ad.Driver, "driver_info": ad.DriverInfo}))
		l := ad.Limits
		fmt.Fprintln(w, a.t("gpu_limits", map[string]any{
			"max_buffer_mb": mib(l.MaxBufferSize), "max_binding_mb": mib(l.MaxStorageBufferBindingSize),
			"max_storage_buffers": l.MaxStorageBuffersPerShaderStage, "max_workgroups": l.MaxComputeWorkgroupsPerDimension,
			"max_invocations": l.MaxComputeInvocationsPerWorkgroup, "max_x": l.MaxComputeWorkgroupSizeX,
			"max_y": l.MaxComputeWorkgroupSizeY, "max_z": l.MaxComputeWorkgroupSizeZ,
			"workgroup_storage": l.MaxComputeWorkgroupStorageSize, "alignment": l.MinStorageBufferOffsetAlignment,
		}))
		p := ad.Plan
		// Dimensions as strings: "2048×2048", not "2,048×2,048".
		params := map[string]any{"frames": p.Frames, "width": fmt.Sprint(p.Width), "height": fmt.Sprint(ad.Height),
			"budget_mb": float64(p.BudgetBytes) / (1 << 20), "cap_mb": float64(p.BufferCapBytes) / (1 << 20),
			"bytes_per_row": p.BytesPerRow, "rows": p.RowsPerChunk, "chunks": p.Chunks, "frame_blocks": p.FrameBlocks,
			"chunk_mb": float64(p.ChunkBytes) / (1 << 20)}
		if p.Fits() {
			fmt.Fprintln(w, a.t("gpu_plan", params))
		} else {
			fmt.Fprintln(w, a.t("gpu_plan_cpu", params))
		}
		choice := a.t("gpu_choice_gpu", nil)
		if ad.AutoBackend == "cpu" {
			choice = a.t("gpu_choice_cpu", map[string]any{"name": ad.Name})
		}
		fmt.Fprintln(w, a.t("gpu_auto_choice", map[string]any{"choice": choice}))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
