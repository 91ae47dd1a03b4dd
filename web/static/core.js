// Shared state of the page, its elements and the string helpers every module uses.
import { UI } from "./strings.js";

const LANGS = Object.keys(UI);

export const $ = (id) => document.getElementById(id);

export const el = {
  badge: $("backend-badge"), badgeDetail: $("backend-detail"), lang: $("lang"), version: $("version"),
  drop: $("drop"), fileInput: $("file-input"), files: $("files"), filesSummary: $("files-summary"),
  clearFiles: $("clear-files"), form: $("options"), reset: $("reset-options"),
  budget: $("opt-gpu-budget"), reject: $("opt-reject"), backend: $("opt-backend"),
  stackBtn: $("stack-btn"), mosaicBtn: $("mosaic-btn"), mosaicHint: $("mosaic-hint"),
  progress: $("progress"), progressLabel: $("progress-label"),
  status: $("status"), statusDetail: $("status-detail"),
  viewer: $("viewer"), canvas: $("preview"), previewEmpty: $("preview-empty"),
  zoomIn: $("zoom-in"), zoomOut: $("zoom-out"), zoomFit: $("zoom-fit"), zoom1: $("zoom-1"),
  zoomLevel: $("zoom-level"),
  pLow: $("p-low"), pHigh: $("p-high"), asinh: $("asinh"),
  pLowOut: $("p-low-out"), pHighOut: $("p-high-out"), asinhOut: $("asinh-out"),
  dlFits: $("download-fits"), dlPng: $("download-png"), dlCoverage: $("download-coverage"),
  log: $("log"), logEmpty: $("log-empty"), clearLog: $("clear-log"),
};

// Everything the page shows is re-rendered from here when the language changes.
export const state = {
  lang: pickLang(navigator.language),
  api: null,            // globalThis.zmosaic once ready
  defaults: null,       // zmosaic.defaults() (stack)
  mosaicDefaults: null, // zmosaic.mosaicDefaults()
  files: new Map(),     // name → file info, in insertion order (ok and failed)
  status: { state: "loading", key: "loading_detail", params: null, text: null },
  result: null,         // last resolved zmosaic.stack() or zmosaic.mosaic() value (kind says which)
  skipped: new Map(),   // name → {reason, key, params}: files the last mosaic left out
  events: [],           // {key, level, message, params, time}
  running: null,        // null, "stack" or "mosaic"
  reading: false,
  progress: null,       // {phase, done, total}
};

export function pickLang(tag) {
  const l = String(tag || "en").slice(0, 2).toLowerCase();
  return LANGS.includes(l) ? l : "en";
}

export function fmt(template, params) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) =>
    params && params[k] !== undefined && params[k] !== null ? String(params[k]) : m);
}

// tr formats a UI string of the current language (English when a key is missing).
export function tr(key, params) {
  const s = (UI[state.lang] && UI[state.lang][key]) ?? UI.en[key] ?? key;
  return fmt(s, params);
}

// goT asks the Go catalog; it returns "" when the API is not there or does not know the key.
export function goT(key, params) {
  if (!state.api || typeof state.api.t !== "function" || !key) return "";
  try {
    const s = state.api.t(key, params || {});
    return typeof s === "string" && s !== "" && s !== key ? s : "";
  } catch (_) {
    return "";
  }
}

export function num(x, digits) {
  if (typeof x !== "number" || !Number.isFinite(x)) return String(x ?? "");
  return new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(x);
}

// API calls may return plain values or Promises; await both the same way.
export const call = async (fn, ...args) => fn(...args);

export function errText(e) {
  if (e === null || e === undefined) return "?";
  if (typeof e === "string") return e;
  return e.message || String(e);
}
