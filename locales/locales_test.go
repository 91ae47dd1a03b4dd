package locales

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLanguageFilesHaveTheSameKeysAndPlaceholders(t *testing.T) {
	en, err := Raw("en")
	require.NoError(t, err)
	fr, err := Raw("fr")
	require.NoError(t, err)
	require.NotEmpty(t, en)
	assert.Equal(t, slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(fr)), "en.json and fr.json must hold the same keys")
	for k, msg := range en {
		if frMsg, ok := fr[k]; ok {
			assert.Equal(t, Placeholders(msg), Placeholders(frMsg), "placeholders of %q", k)
			assert.NotEmpty(t, strings.TrimSpace(frMsg), "empty French message %q", k)
		}
	}
}

func TestGPUKeysOfTheChecklistExist(t *testing.T) {
	en, err := Raw("en")
	require.NoError(t, err)
	for _, k := range []string{"gpu_info_summary", "gpu_fallback_unavailable", "gpu_fallback_insufficient_memory",
		"gpu_fallback_runtime_error", "gpu_chunking_rows", "gpu_oom_backoff", "gpu_device_lost", "stack_using_gpu", "stack_using_cpu"} {
		assert.Contains(t, en, k)
	}
}

func TestLocalizerRendersNamedParametersPerLanguage(t *testing.T) {
	cat, err := Load()
	require.NoError(t, err)
	params := map[string]any{"estimated_mb": 1234.56, "allowed_mb": 512.0}
	en := cat.Localizer("en_US.UTF-8").T("gpu_fallback_insufficient_memory", params)
	assert.Contains(t, en, "estimated 1,234.6 MiB vs allowed 512.0 MiB")
	fr := cat.Localizer("fr_FR.UTF-8").T("gpu_fallback_insufficient_memory", params)
	assert.Contains(t, fr, "Mio estimés")
	assert.Contains(t, fr, "1\u00a0234,6", "French groups thousands with a no-break space and uses a decimal comma")
	assert.NotContains(t, fr, "{")
}

func TestLocalizerKeepsLiteralPercentAndReordersArguments(t *testing.T) {
	tpl := compile("{b} then {a:.1f} at 5 %")
	assert.Equal(t, "%[1]v then %.1[2]f at 5 %%", tpl.format)
	assert.Equal(t, []string{"b", "a"}, tpl.params)
	cat, err := Load()
	require.NoError(t, err)
	got := cat.Localizer("en").T("stack_done", map[string]any{"frames": 3, "seconds": 1.5, "rejected_low_pct": 0.25, "rejected_high_pct": 1.0})
	assert.Equal(t, "stacked 3 frames in 1.50 s; rejected 0.25 % low, 1.00 % high", got)
}

func TestUnknownKeyOrMissingParameterIsNeverSilent(t *testing.T) {
	cat, err := Load()
	require.NoError(t, err)
	l := cat.Localizer("en")
	assert.Equal(t, "no_such_key {a=1 b=x}", l.T("no_such_key", map[string]any{"b": "x", "a": 1}))
	assert.Contains(t, l.T("read_failed", map[string]any{"file": "a.fits"}), "a.fits: ?")
}

func TestMatchPicksASupportedLanguage(t *testing.T) {
	cat, err := Load()
	require.NoError(t, err)
	tests := []struct{ in, want string }{
		{"fr_FR.UTF-8", "fr"}, {"fr", "fr"}, {"fr-CA", "fr"}, {"en_GB.UTF-8", "en"},
		{"C", "en"}, {"POSIX", "en"}, {"", "en"}, {"de_DE.UTF-8", "en"}, {"???", "en"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, cat.Localizer(tc.in).Lang())
		})
	}
}

func TestEventSaysAKeyedReasonInTheUsersLanguage(t *testing.T) {
	cat, err := Load()
	require.NoError(t, err)
	fr, en := cat.Localizer("fr"), cat.Localizer("en")
	params := map[string]any{"workers": 1, "reason": "--backend cpu", "reason_key": "reason_backend_cpu"}
	tests := []struct {
		name string
		l    *Localizer
		p    map[string]any
		want string
	}{
		{"French reason by its key", fr, params, "empilement sur le CPU (threads : 1) : --backend cpu demande le CPU seul"},
		{"English reason by its key", en, params, "stacking on the CPU (threads: 1): --backend cpu asks for the CPU only"},
		{"no key keeps the reason as given", fr, map[string]any{"workers": 4, "reason": "gpu: boom"},
			"empilement sur le CPU (threads : 4) : gpu: boom"},
		{"an unknown key keeps the English reason", fr, map[string]any{"workers": 4, "reason": "gpu: boom", "reason_key": "reason_from_the_future"},
			"empilement sur le CPU (threads : 4) : gpu: boom"},
		{"the reason's own placeholders come from the same params", fr,
			map[string]any{"workers": 2, "reason": "llvmpipe is CPU-emulated", "reason_key": "reason_software_adapter", "name": "llvmpipe"},
			"empilement sur le CPU (threads : 2) : llvmpipe est émulé par le CPU, et notre propre code CPU est plus rapide"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := maps.Clone(tc.p)
			assert.Equal(t, tc.want, tc.l.Event("stack_using_cpu", tc.p))
			assert.Equal(t, before, tc.p, "the event's params are not modified")
		})
	}
}

func TestReasonKeysExistForEveryRunnerDecision(t *testing.T) {
	en, err := Raw("en")
	require.NoError(t, err)
	for _, k := range []string{"reason_backend_cpu", "reason_invalid_options", "reason_no_adapter", "reason_no_adapter_detail",
		"reason_software_adapter", "reason_too_many_frames", "reason_row_over_budget", "reason_allocation_failed",
		"reason_op_allocation_failed", "reason_device_lost", "reason_gpu_error", "reason_runner_closed"} {
		assert.Contains(t, en, k)
	}
}
