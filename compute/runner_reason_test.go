package compute

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/compute/gpu"
	"github.com/zmosaic/zmosaic/cpu"
	"github.com/zmosaic/zmosaic/locales"
)

// Every reason the Runner decides itself is said in the user's language: its key exists, its
// placeholders are filled from the event, and the French words are French. Only the GPU's own
// error text (data) may stay English.
func TestRunnerReasonsRenderInFrench(t *testing.T) {
	cat, err := locales.Load()
	require.NoError(t, err)
	en, fr := cat.Localizer("en"), cat.Localizer("fr")
	enRaw, err := locales.Raw("en")
	require.NoError(t, err)
	gpuErr := fmt.Errorf("fake: vkAllocateMemory: %w", gpu.ErrOutOfMemory)
	tests := []struct {
		name    string
		why     reason
		english []string // our English words that must not reach a French user
	}{
		{"--backend cpu", reasonBackendCPU(), []string{"asks for"}},
		{"invalid options", reasonInvalidOptions(fmt.Errorf("compute: unknown backend")), []string{"invalid compute options"}},
		{"no adapter", reasonNoAdapter(gpu.ErrNoAdapter), []string{"no usable adapter", "could be opened"}},
		{"no adapter, with the driver's words", reasonNoAdapter(fmt.Errorf("%w: wgpu: no suitable GPU adapter found", gpu.ErrNoAdapter)),
			[]string{"no usable adapter", "could be opened"}},
		{"software adapter skipped in auto", reasonSoftwareAdapter("llvmpipe"), []string{"is CPU-emulated", "faster"}},
		{"too many frames for the sorting kernels", reasonTooManyFrames("winsor", "median", 8, 10), []string{"holds at most", "samples per pixel", "frames"}},
		{"a row over budget", reasonRowOverBudget(10, 4096, 3<<20, 1<<20, 2<<20), []string{"one image row", "needs", "budget of"}},
		{"allocation failures", reasonAllocationFailed(4, 5, gpuErr), []string{"kept failing", "rows in the last chunk"}},
		{"an operation over memory", reasonOpAllocationFailed("stretch", 5<<20, gpuErr), []string{"did not fit"}},
		{"device lost", reasonDeviceLost(fmt.Errorf("fake: submit: %w", gpu.ErrDeviceLost)), []string{"was lost"}},
		{"another GPU error", reasonGPUError(fmt.Errorf("fake: %w", gpu.ErrCompile)), []string{"GPU error"}},
		{"runner closed", reasonClosed(), []string{"runner closed", "was closed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.why.eventParams()
			require.True(t, fr.Has(tc.why.key), "locale key %q", tc.why.key)
			for _, name := range locales.Placeholders(enRaw[tc.why.key]) {
				assert.Contains(t, p, name, "placeholder {%s} of %s", name, tc.why.key)
			}
			msg := fr.Event("stack_using_cpu", tc.why.into(map[string]any{"workers": 1}))
			t.Log(msg)
			assert.True(t, strings.HasPrefix(msg, "empilement sur le CPU (threads : 1) : "), msg)
			assert.NotContains(t, msg, "{")
			for _, w := range tc.english {
				assert.NotContains(t, msg, w)
			}
			assert.NotEqual(t, en.T(tc.why.key, p), fr.T(tc.why.key, p))
		})
	}
}

// The Runner's events name their reasons by key, and a French front end shows them in French
// while the English text stays in the event for the report.
func TestRunnerEventsSayTheirReasonInFrench(t *testing.T) {
	cat, err := locales.Load()
	require.NoError(t, err)
	fr := cat.Localizer("fr")
	tests := []struct {
		name   string
		opt    Options
		open   OpenFunc
		want   string // French words of the stack_using_cpu reason
		absent string // the English text of the reason
	}{
		{"--backend cpu", Options{Backend: BackendCPU}, nil, "--backend cpu demande le CPU seul", "asks for"},
		{"no adapter", Options{Backend: BackendAuto},
			failOpen(fmt.Errorf("%w: wgpu: no suitable GPU adapter found", gpu.ErrNoAdapter)),
			"aucun adaptateur GPU n'a pu être ouvert (wgpu: no suitable GPU adapter found)", "no usable adapter"},
		{"software adapter in auto", Options{Backend: BackendAuto}, newFake(software()).opener(),
			"llvmpipe (fake) est émulé par le CPU", "is CPU-emulated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			open := tc.open
			if open == nil {
				open = func(context.Context, gpu.Options) (Device, error) { panic("opened a GPU with --backend cpu") }
			}
			r := NewRunnerWith(t.Context(), tc.opt, rec.sink(), open)
			defer r.Close()
			b := newBand(3, 8, 4)
			b.run(t, r, cpu.DefaultStackOptions())
			e := rec.one(t, "stack_using_cpu")
			assert.NotEmpty(t, e.Params["reason"], "the English text stays for reports")
			msg := fr.Event(e.Key, e.Params)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, tc.absent)
			assert.Equal(t, r.Summary().GPUOff, r.OffParams()["reason"])
		})
	}
}

func TestOffParamsIsNilWhileTheGPUIsUsable(t *testing.T) {
	r := NewRunnerWith(t.Context(), DefaultOptions(), nil, newFake(hardware()).opener())
	assert.Nil(t, r.OffParams())
	require.NoError(t, r.Close())
	assert.Equal(t, "reason_runner_closed", r.OffParams()["reason_key"])
}
