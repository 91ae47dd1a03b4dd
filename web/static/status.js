// Status line, progress bar, run and download buttons, and the backend badge.
import { el, state, tr, goT, num } from "./core.js";
import { syncRejectFields } from "./options.js";

export function setStatus(s, key, params, text) {
  state.status = { state: s, key: key || null, params: params || null, text: text || null };
  renderStatus();
}

export function renderStatus() {
  const s = state.status;
  el.status.dataset.state = s.state;
  el.status.textContent = tr("state_" + s.state);
  let detail = s.text || "";
  if (s.key === "done_detail" && state.result) detail = doneDetail(state.result);
  else if (s.key) detail = tr(s.key, s.params);
  el.statusDetail.textContent = detail;
}

function doneDetail(r) {
  if (r.kind === "mosaic") {
    return tr("done_mosaic_detail", {
      frames: r.frames, width: r.width, height: r.height, scale: num(r.pixel_scale, 3),
      seconds: num(r.seconds, 2), skipped: r.skipped,
    });
  }
  const go = goT("stack_done", r);
  if (go) return go;
  return tr("done_detail", {
    frames: r.frames, width: r.width, height: r.height,
    seconds: num(r.seconds, 2), low: num(r.rejected_low_pct, 2), high: num(r.rejected_high_pct, 2),
  });
}

export function renderProgress() {
  const p = state.progress;
  if (!p) {
    el.progressLabel.textContent = tr("progress_idle");
    return;
  }
  const phase = tr("phase_" + p.phase) !== "phase_" + p.phase ? tr("phase_" + p.phase) : p.phase;
  el.progressLabel.textContent = tr("progress_phase", { phase, done: p.done, total: p.total });
}

export function setProgress(phase, done, total) {
  state.progress = { phase: String(phase), done: Number(done) || 0, total: Number(total) || 0 };
  if (state.progress.total > 0) {
    el.progress.max = state.progress.total;
    el.progress.value = Math.min(state.progress.done, state.progress.total);
  } else {
    el.progress.removeAttribute("value"); // indeterminate
  }
  el.progress.dataset.phase = state.progress.phase;
  renderProgress();
}

export function resetProgress() {
  state.progress = null;
  el.progress.value = 0;
  el.progress.max = 1;
  renderProgress();
}

// wcsCount is how many readable files carry a WCS: the mosaic needs at least one.
export function wcsCount() {
  return [...state.files.values()].filter((f) => f.ok && f.wcs).length;
}

export function renderButtons() {
  const busy = !!state.running || state.reading;
  const ready = !!state.api && !busy;
  el.stackBtn.disabled = !ready;
  el.stackBtn.textContent = tr(state.running === "stack" ? "stack_btn_running" : "stack_btn");
  el.stackBtn.setAttribute("aria-busy", String(state.running === "stack"));
  const nWCS = wcsCount();
  el.mosaicBtn.disabled = !ready || nWCS === 0;
  el.mosaicBtn.textContent = tr(state.running === "mosaic" ? "mosaic_btn_running" : "mosaic_btn");
  el.mosaicBtn.setAttribute("aria-busy", String(state.running === "mosaic"));
  el.mosaicHint.textContent = nWCS === 0 ? tr("mosaic_btn_hint") : tr("mosaic_btn_ready", { count: nWCS });
  const hasResult = !!state.result && !state.running;
  el.dlFits.disabled = !hasResult;
  el.dlPng.disabled = !hasResult;
  el.dlCoverage.hidden = !(state.result && state.result.kind === "mosaic");
  el.dlCoverage.disabled = !hasResult;
  el.clearFiles.disabled = busy || state.files.size === 0;
  el.drop.setAttribute("aria-disabled", String(!ready));
  for (const c of el.form.elements) if (c.tagName !== "FIELDSET") c.disabled = !state.api || !!state.running;
  if (state.api && !state.running) syncRejectFields();
}

// Backend badge: a prediction before the first run, what ran after it.
export function renderBadge() {
  const b = el.badge;
  const r = state.result;
  let text, title, kind;
  if (r && r.backend) {
    const lines = [];
    const a = r.adapter;
    if (String(r.backend).startsWith("webgpu")) {
      const name = (a && (a.name || a.description || a.vendor)) || tr("badge_adapter_unknown");
      text = (r.backend === "webgpu" ? "WebGPU" : "WebGPU+CPU") + " — " + name;
      kind = "gpu";
    } else {
      text = "CPU — " + (r.backend_reason || "");
      kind = "cpu";
    }
    if (r.backend_reason) lines.push(tr("badge_reason", { reason: r.backend_reason }));
    if (a) {
      if (a.name) lines.push(tr("badge_adapter", { name: a.name }));
      if (a.vendor) lines.push(tr("badge_vendor", { vendor: a.vendor }));
      if (a.architecture) lines.push(tr("badge_arch", { architecture: a.architecture }));
      if (a.description) lines.push(tr("badge_desc", { description: a.description }));
    }
    if (r.limits && typeof r.limits === "object") {
      const l = Object.entries(r.limits).map(([k, v]) => `${k}=${v}`).join(", ");
      if (l) lines.push(tr("badge_limits", { limits: l }));
    }
    title = lines.join("\n");
  } else {
    const choice = el.backend.value || "auto";
    const hasGPU = typeof navigator !== "undefined" && !!navigator.gpu;
    if (choice === "cpu") { text = tr("badge_cpu_forced"); kind = "cpu"; }
    else if (hasGPU) { text = tr("badge_gpu_planned"); kind = "pending"; }
    else if (choice === "gpu") { text = tr("badge_gpu_missing"); kind = "cpu"; }
    else { text = tr("badge_cpu_no_gpu"); kind = "cpu"; }
    title = tr("badge_before_title");
  }
  b.textContent = text.replace(/ — $/, "");
  b.title = title;
  el.badgeDetail.textContent = title;
  b.dataset.kind = kind;
  b.dataset.measured = String(!!(r && r.backend));
  b.className = "badge badge-" + kind;
}
