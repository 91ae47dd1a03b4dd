package compute

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/zmosaic/zmosaic/compute/gpu"
)

// reason is why work runs on the CPU. The English text goes to reports and logs; the locale
// key and its parameters let a front end say the same in the user's language (see
// locales.Localizer.Event). Only the Runner's own decisions are worded by a key: an error
// from the GPU or its driver is carried as a parameter, as it is (data, not prose).
type reason struct {
	text   string
	key    string         // "reason_…" in locales/*.json
	params map[string]any // the key's placeholders; their names never clash with an event's own
}

// into adds the reason to an event's parameters: "reason" (the English text), "reason_key"
// and the key's placeholders. It returns params for chaining.
func (w reason) into(params map[string]any) map[string]any {
	maps.Copy(params, w.params)
	params["reason"] = w.text
	params["reason_key"] = w.key
	return params
}

// eventParams returns the reason as event parameters (see into), or nil for no reason.
func (w reason) eventParams() map[string]any {
	if w.text == "" {
		return nil
	}
	return w.into(map[string]any{})
}

func reasonBackendCPU() reason {
	return reason{text: "--backend cpu", key: "reason_backend_cpu"}
}

func reasonInvalidOptions(err error) reason {
	return reason{text: err.Error(), key: "reason_invalid_options", params: map[string]any{"error": err.Error()}}
}

// reasonNoAdapter words a failed gpu.Open. The gpu package's sentinel is our prose and gets a
// key; what it wraps (wgpu's or the driver's message, or the gpu package's explanation) stays
// as it is, in {detail}.
func reasonNoAdapter(err error) reason {
	detail := err.Error()
	if errors.Is(err, gpu.ErrNoAdapter) {
		detail = strings.TrimPrefix(strings.TrimPrefix(detail, gpu.ErrNoAdapter.Error()), ": ")
	}
	if detail == "" {
		return reason{text: err.Error(), key: "reason_no_adapter"}
	}
	return reason{text: err.Error(), key: "reason_no_adapter_detail", params: map[string]any{"detail": detail}}
}

func reasonSoftwareAdapter(name string) reason {
	return reason{text: name + " is CPU-emulated", key: "reason_software_adapter", params: map[string]any{"name": name}}
}

func reasonTooManyFrames(reject, combine string, maxFrames, frames int) reason {
	return reason{
		text: fmt.Sprintf("reject %s with combine %s on the GPU holds at most %d samples per pixel, %d frames given", reject, combine, maxFrames, frames),
		key:  "reason_too_many_frames",
		params: map[string]any{
			"reject": reject, "combine": combine, "max_frames": maxFrames, "frames": frames,
		},
	}
}

func reasonRowOverBudget(frames, width int, rowBytes, budget, bufCap int64) reason {
	return reason{
		text: fmt.Sprintf("one row of %d frames × %d pixels needs %.1f MiB on the GPU; budget %.1f MiB, buffer cap %.1f MiB",
			frames, width, mib(rowBytes), mib(budget), mib(bufCap)),
		key: "reason_row_over_budget",
		params: map[string]any{
			// Dimensions as strings: "× 4096 pixels", not "× 4,096 pixels".
			"frames": frames, "width": fmt.Sprint(width), "row_mb": mib(rowBytes), "budget_mb": mib(budget), "cap_mb": mib(bufCap),
		},
	}
}

func reasonAllocationFailed(attempts, rows int, err error) reason {
	return reason{
		text: fmt.Sprintf("GPU allocation failed %d times in a row, last with %d rows: %v", attempts, rows, err),
		key:  "reason_allocation_failed",
		params: map[string]any{
			"attempts": attempts, "rows": rows, "error": err.Error(),
		},
	}
}

// reasonOpAllocationFailed is an allocation failure of an operation sent whole (percentiles,
// stretch); op is the OpReport name, the {operation} of gpu_forced_fallback too.
func reasonOpAllocationFailed(op string, bytes int64, err error) reason {
	return reason{
		text: fmt.Sprintf("%s of %.1f MiB: %v", op, mib(bytes), err),
		key:  "reason_op_allocation_failed",
		params: map[string]any{
			"operation": op, "size_mb": mib(bytes), "error": err.Error(),
		},
	}
}

func reasonDeviceLost(err error) reason {
	return reason{text: "device lost: " + err.Error(), key: "reason_device_lost", params: map[string]any{"error": err.Error()}}
}

// reasonGPUError is any other GPU failure (compile, unsupported, validation): the error is
// the GPU's, as it is.
func reasonGPUError(err error) reason {
	return reason{text: err.Error(), key: "reason_gpu_error", params: map[string]any{"error": err.Error()}}
}

func reasonClosed() reason {
	return reason{text: "runner closed", key: "reason_runner_closed"}
}

// OffParams returns why the GPU is off for the whole run as event parameters: "reason" (the
// English text of Summary().GPUOff), "reason_key" (a locale key) and that key's placeholders,
// for a message with a {reason} placeholder (see locales.Localizer.Event). It is nil while the
// GPU is usable.
func (r *Runner) OffParams() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.off.eventParams()
}
