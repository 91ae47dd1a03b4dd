// The options form: stack and mosaic options, filled from the wasm's defaults (the CLI's), and
// collected into the object zmosaic.stack / zmosaic.mosaic take.
import { $, el, state, tr } from "./core.js";
import { renderBadge } from "./status.js";
import { setSlider, stretchValues } from "./preview.js";

// Form controls by option key. backend and gpu_budget are shared by both runs.
const COMPUTE = { backend: "opt-backend", gpu_budget: "opt-gpu-budget" };
const FIELDS = {
  stack: {
    reject: "opt-reject", combine: "opt-combine", kappa_low: "opt-kappa-low", kappa_high: "opt-kappa-high",
    iterations: "opt-iterations", weight: "opt-weight", norm: "opt-norm", ...COMPUTE,
  },
  mosaic: {
    interp: "opt-interp", feather: "opt-feather", match: "opt-match", projection: "opt-projection",
    combine: "opt-mosaic-combine", kappa_low: "opt-mosaic-kappa-low", kappa_high: "opt-mosaic-kappa-high",
    pixel_scale: "opt-pixel-scale", north_up: "opt-north-up", ...COMPUTE,
  },
};
const NUMERIC = new Set(["kappa_low", "kappa_high", "iterations", "feather", "pixel_scale"]);

function defaultsOf(kind) {
  return (kind === "mosaic" ? state.mosaicDefaults : state.defaults) || {};
}

function fill(fields, d) {
  for (const [key, id] of Object.entries(fields)) {
    const c = $(id);
    if (!(key in d)) continue;
    if (key === "gpu_budget") c.value = budgetToText(d[key]);
    else if (c.type === "checkbox") c.checked = !!d[key];
    else if (c.tagName === "SELECT") {
      const v = String(d[key]);
      if (![...c.options].some((o) => o.value === v)) c.add(new Option(v, v)); // a newer Go value
      c.value = v;
    } else c.value = String(d[key]);
  }
}

// fillOptions resets every control to the wasm's defaults.
export function fillOptions() {
  fill(FIELDS.mosaic, defaultsOf("mosaic"));
  const d = defaultsOf("stack");
  fill(FIELDS.stack, d);
  setSlider(el.pLow, d.p_low);
  setSlider(el.pHigh, d.p_high);
  setSlider(el.asinh, d.asinh);
  syncRejectFields();
  validateBudget();
  renderBadge();
}

function budgetToText(v) {
  if (typeof v === "number") {
    if (v <= 0) return "auto";
    if (v % (1 << 30) === 0) return `${v / (1 << 30)}GiB`;
    if (v % (1 << 20) === 0) return `${v / (1 << 20)}MiB`;
    return String(v);
  }
  return v === undefined || v === null || v === "" ? "auto" : String(v);
}

// parseBudget mirrors pipeline.ParseSize: binary and decimal units, a bare number is bytes;
// "auto" is 0. It returns NaN for anything else.
function parseBudget(text) {
  const t = String(text).trim().toLowerCase();
  if (t === "" || t === "auto") return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(kib|mib|gib|tib|kb|mb|gb|tb|k|m|g|t|b)?$/.exec(t);
  if (!m) return NaN;
  const units = {
    kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
    k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, b: 1,
  };
  const b = Math.floor(parseFloat(m[1]) * (m[2] ? units[m[2]] : 1));
  return b > 0 && b < 2 ** 20 ? NaN : b;
}

export function validateBudget() {
  const bad = Number.isNaN(parseBudget(el.budget.value));
  el.budget.setCustomValidity(bad ? tr("gpu_budget_invalid") : "");
  el.budget.setAttribute("aria-invalid", String(bad));
}

// Rejection thresholds mean nothing without rejection: grey them out rather than hide them.
export function syncRejectFields() {
  const none = el.reject.value === "none";
  for (const id of ["opt-kappa-low", "opt-kappa-high", "opt-iterations"]) $(id).disabled = none || !!state.running;
  const clip = $("opt-mosaic-combine").value === "kappa";
  for (const id of ["opt-mosaic-kappa-low", "opt-mosaic-kappa-high"]) $(id).disabled = !clip || !!state.running;
}

// formValid reports (and shows) invalid controls before a run.
export function formValid() {
  validateBudget();
  if (el.form.checkValidity()) return true;
  el.form.reportValidity();
  return false;
}

// collectOptions is the options object of a run of kind "stack" or "mosaic": the defaults,
// overridden by the form and the stretch sliders.
export function collectOptions(kind) {
  const d = defaultsOf(kind);
  const o = { ...d };
  for (const [key, id] of Object.entries(FIELDS[kind])) {
    const c = $(id);
    if (key === "gpu_budget") {
      // Send the budget in the type defaults() used: bytes when it is a number, text otherwise.
      o[key] = typeof d.gpu_budget === "number" ? parseBudget(c.value) : (c.value.trim() || "auto");
    } else if (c.type === "checkbox") {
      o[key] = c.checked;
    } else if (NUMERIC.has(key)) {
      o[key] = c.value === "" ? d[key] : Number(c.value);
    } else {
      o[key] = c.value;
    }
  }
  Object.assign(o, stretchValues());
  return o;
}

export function initOptions() {
  el.reset.addEventListener("click", () => { if (state.defaults) fillOptions(); });
  el.reject.addEventListener("change", syncRejectFields);
  $("opt-mosaic-combine").addEventListener("change", syncRejectFields);
  el.backend.addEventListener("change", renderBadge);
  el.budget.addEventListener("input", validateBudget);
}
