package gpu

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/zmosaic/zmosaic/shaders"
)

// pipeKey identifies a compiled kernel: shader name plus its constants.
type pipeKey struct {
	name   string
	consts string // sorted "K=V" list
}

// pipeline is one compiled kernel and the objects it needs.
type pipeline struct {
	module *wgpu.ShaderModule
	bgl    *wgpu.BindGroupLayout
	layout *wgpu.PipelineLayout
	cp     *wgpu.ComputePipeline
}

func (p *pipeline) release() {
	if p.cp != nil {
		p.cp.Release()
	}
	if p.layout != nil {
		p.layout.Release()
	}
	if p.bgl != nil {
		p.bgl.Release()
	}
	if p.module != nil {
		p.module.Release()
	}
}

// injectedFault is appended to WGSL under Faults.Compile: a real syntax
// error, so the injected failure takes the same path as a genuine one.
const injectedFault = "\nfn injected_fault( { let = ; }\n"

// pipelineFor returns the cached pipeline for (name, consts), compiling it on
// first use. bindings lists the buffer binding types of group 0, in binding
// order. Failures wrap ErrCompile and are not cached.
func (e *engine) pipelineFor(name string, consts map[string]any, bindings []gputypes.BufferBindingType) (*pipeline, error) {
	key := pipeKey{name: name, consts: constKey(consts)}
	if p := e.pipes[key]; p != nil {
		return p, nil
	}
	src, err := shaders.Source(name, consts)
	if err != nil {
		return nil, fmt.Errorf("gpu: %w: %w", ErrCompile, err)
	}
	if e.opt.Faults.Compile {
		src += injectedFault
	}
	p := &pipeline{}
	fail := func(step string, err error) (*pipeline, error) {
		p.release()
		return nil, fmt.Errorf("gpu: %s %s [%s]: %w: %w", step, name, key.consts, ErrCompile, err)
	}
	if p.module, err = e.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: name, WGSL: src}); err != nil {
		return fail("compile", err)
	}
	entries := make([]wgpu.BindGroupLayoutEntry, len(bindings))
	for i, t := range bindings {
		entries[i] = wgpu.BindGroupLayoutEntry{
			Binding: uint32(i), Visibility: wgpu.ShaderStageCompute,
			Buffer: &gputypes.BufferBindingLayout{Type: t},
		}
	}
	if p.bgl, err = e.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries}); err != nil {
		return fail("bind group layout", err)
	}
	// Vulkan needs an explicit layout ("automatic layouts are not supported").
	if p.layout, err = e.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{
		Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{p.bgl},
	}); err != nil {
		return fail("pipeline layout", err)
	}
	if p.cp, err = e.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Label: name, Layout: p.layout, Module: p.module, EntryPoint: "main",
	}); err != nil {
		return fail("pipeline", err)
	}
	e.pipes[key] = p
	e.compiled++
	return p, nil
}

// constKey formats consts deterministically for the cache key.
func constKey(consts map[string]any) string {
	parts := make([]string, 0, len(consts))
	for k, v := range consts {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
