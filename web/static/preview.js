// The preview: the canvas holds the stretched result at its own resolution (so its pixels are
// the previewRGBA bytes); zoom and pan are a CSS transform inside #viewer. The stretch sliders
// re-stretch the stored float result in Go, without recomputing the stack or mosaic.
import { el, state, num, call, errText } from "./core.js";
import { setStatus } from "./status.js";

export const view = { scale: 1, x: 0, y: 0, fitted: true, hasImage: false };
const ctx = el.canvas.getContext("2d");

export function stretchValues() {
  return {
    p_low: Number(el.pLow.value), p_high: Number(el.pHigh.value), asinh: Number(el.asinh.value),
  };
}

export function setSlider(input, v) {
  if (typeof v === "number" && Number.isFinite(v)) input.value = String(v);
  showSlider(input);
}

export function showSlider(input) {
  const out = { "p-low": el.pLowOut, "p-high": el.pHighOut, asinh: el.asinhOut }[input.id];
  if (out) out.textContent = num(Number(input.value), 3);
}

export async function renderPreview(refit) {
  if (!state.api || !state.result) return;
  const s = stretchValues();
  let p;
  try {
    p = await call(state.api.previewRGBA, s.p_low, s.p_high, s.asinh);
  } catch (e) {
    setStatus("error", null, null, errText(e));
    return;
  }
  if (!p || !p.width || !p.height || !p.data) return;
  const data = p.data instanceof Uint8ClampedArray
    ? p.data
    : new Uint8ClampedArray(p.data.buffer, p.data.byteOffset, p.data.byteLength);
  const sizeChanged = el.canvas.width !== p.width || el.canvas.height !== p.height;
  el.canvas.width = p.width;
  el.canvas.height = p.height;
  ctx.putImageData(new ImageData(data, p.width, p.height), 0, 0);
  view.hasImage = true;
  el.viewer.classList.add("has-image");
  el.previewEmpty.hidden = true;
  if (refit || sizeChanged || view.fitted) fit();
  else applyView();
}

function viewerSize() {
  return { w: el.viewer.clientWidth || 1, h: el.viewer.clientHeight || 1 };
}

function fit() {
  const { w, h } = viewerSize();
  const cw = el.canvas.width, ch = el.canvas.height;
  view.scale = Math.min(w / cw, h / ch);
  view.x = (w - cw * view.scale) / 2;
  view.y = (h - ch * view.scale) / 2;
  view.fitted = true;
  applyView();
}

// zoomAt scales by factor around the viewer point (px, py), keeping that image point still.
function zoomAt(factor, px, py) {
  if (!view.hasImage) return;
  const { w, h } = viewerSize();
  if (px === undefined) { px = w / 2; py = h / 2; }
  const s = Math.min(64, Math.max(0.02, view.scale * factor));
  const f = s / view.scale;
  view.x = px - (px - view.x) * f;
  view.y = py - (py - view.y) * f;
  view.scale = s;
  view.fitted = false;
  applyView();
}

function zoomTo(s) {
  zoomAt(s / view.scale);
}

export function applyView() {
  el.canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  el.canvas.classList.toggle("pixelated", view.scale >= 2);
  el.zoomLevel.textContent = `${num(view.scale * 100, view.scale < 0.1 ? 1 : 0)} %`;
}

export function initViewer() {
  el.viewer.addEventListener("wheel", (e) => {
    if (!view.hasImage) return;
    e.preventDefault();
    const r = el.viewer.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  let drag = null;
  el.viewer.addEventListener("pointerdown", (e) => {
    if (!view.hasImage || e.button !== 0) return;
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    try { el.viewer.setPointerCapture(e.pointerId); } catch (_) { /* synthetic pointers cannot be captured */ }
    el.viewer.classList.add("dragging");
  });
  el.viewer.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    view.x = drag.vx + (e.clientX - drag.x);
    view.y = drag.vy + (e.clientY - drag.y);
    view.fitted = false;
    applyView();
  });
  const end = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    el.viewer.classList.remove("dragging");
  };
  el.viewer.addEventListener("pointerup", end);
  el.viewer.addEventListener("pointercancel", end);
  el.viewer.addEventListener("dblclick", (e) => {
    const r = el.viewer.getBoundingClientRect();
    zoomAt(2, e.clientX - r.left, e.clientY - r.top);
  });
  el.viewer.addEventListener("keydown", (e) => {
    if (!view.hasImage) return;
    const step = e.shiftKey ? 100 : 30;
    const keys = {
      "+": () => zoomAt(1.25), "=": () => zoomAt(1.25), "-": () => zoomAt(0.8), "0": fit, "1": () => zoomTo(1),
      ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0),
      ArrowUp: () => pan(0, step), ArrowDown: () => pan(0, -step),
    };
    const k = keys[e.key];
    if (k) { e.preventDefault(); k(); }
  });
  el.zoomIn.addEventListener("click", () => zoomAt(1.25));
  el.zoomOut.addEventListener("click", () => zoomAt(0.8));
  el.zoomFit.addEventListener("click", fit);
  el.zoom1.addEventListener("click", () => zoomTo(1));
  new ResizeObserver(() => { if (view.hasImage && view.fitted) fit(); }).observe(el.viewer);
  for (const s of [el.pLow, el.pHigh, el.asinh]) s.addEventListener("input", onSlider);
}

function pan(dx, dy) {
  view.x += dx;
  view.y += dy;
  view.fitted = false;
  applyView();
}

// Sliders re-stretch the stored float result (no recompute), debounced so a drag does not queue
// one percentile pass per pixel of travel.
let stretchTimer = 0;
function onSlider(e) {
  const input = e.target;
  // Keep p_high ≥ p_low + 0.1 (cpu.StretchOptions.Validate) by pushing the other slider.
  const lo = Number(el.pLow.value), hi = Number(el.pHigh.value);
  if (hi < lo + 0.1) {
    if (input === el.pLow) el.pHigh.value = String(Math.min(100, lo + 0.1));
    else el.pLow.value = String(Math.max(0, hi - 0.1));
  }
  showSlider(el.pLow);
  showSlider(el.pHigh);
  showSlider(el.asinh);
  clearTimeout(stretchTimer);
  stretchTimer = setTimeout(() => { if (!state.running) renderPreview(false); }, 150);
}
