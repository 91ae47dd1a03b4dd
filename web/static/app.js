// zmosaic preview page: the entry module. Plain ES modules, no build step: it loads
// zmosaic.wasm through Go's wasm_exec.js (a classic script that runs first), waits for the
// "zmosaic-ready" event and then drives globalThis.zmosaic (the API described in wasm/).
//
//   core.js     shared state, elements, string helpers    strings.js  UI strings (en, fr)
//   files.js    file list, drop zone, picker              options.js  stack and mosaic options
//   preview.js  canvas, zoom/pan, stretch sliders         run.js      stack, mosaic, downloads
//   status.js   status line, progress, buttons, badge     log.js      event log
import { el, state, pickLang, tr } from "./core.js";
import { initFiles, refreshFiles, renderFiles } from "./files.js";
import { addEvent, initLog, renderLog } from "./log.js";
import { fillOptions, initOptions, validateBudget } from "./options.js";
import { applyView, initViewer, showSlider, view } from "./preview.js";
import { initRun } from "./run.js";
import { renderBadge, renderButtons, renderProgress, renderStatus, setProgress, setStatus } from "./status.js";

function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = tr("doc_title");
  for (const n of document.querySelectorAll("[data-i18n]")) n.textContent = tr(n.dataset.i18n);
  for (const n of document.querySelectorAll("[data-i18n-aria]")) n.setAttribute("aria-label", tr(n.dataset.i18nAria));
  for (const n of document.querySelectorAll("[data-i18n-title]")) n.title = tr(n.dataset.i18nTitle);
  el.drop.setAttribute("aria-label", tr("drop_aria"));
  el.lang.value = state.lang;
  renderFiles();
  renderStatus();
  renderProgress();
  renderBadge();
  renderLog();
  renderButtons();
  validateBudget();
  for (const s of [el.pLow, el.pHigh, el.asinh]) showSlider(s);
  if (view.hasImage) applyView();
}

function setLang(lang) {
  state.lang = pickLang(lang);
  if (state.api && typeof state.api.setLang === "function") {
    try { state.api.setLang(state.lang); } catch (_) { /* keep the page's own language */ }
  }
  refreshFiles(); // Go may re-localise file errors
  applyTexts();
}

function onReady() {
  if (state.api) return;
  const api = globalThis.zmosaic;
  if (!api) return;
  state.api = api;
  el.version.textContent = api.version ? "v" + api.version : "";
  try {
    if (typeof api.setLang === "function") api.setLang(state.lang);
  } catch (_) { /* keep going in the page's language */ }
  for (const [key, fn] of [["defaults", api.defaults], ["mosaicDefaults", api.mosaicDefaults]]) {
    try {
      state[key] = (typeof fn === "function" && fn()) || {};
    } catch (_) {
      state[key] = {};
    }
  }
  fillOptions();
  if (typeof api.onProgress === "function") api.onProgress((phase, done, total) => setProgress(phase, done, total));
  if (typeof api.onEvent === "function") api.onEvent((ev) => addEvent(ev));
  refreshFiles();
  setStatus("ready", "ready_detail");
  renderButtons();
}

async function loadWasm() {
  if (globalThis.zmosaic) { onReady(); return; }
  if (typeof Go !== "function") throw new Error("wasm_exec.js is missing");
  const go = new Go();
  let inst;
  try {
    inst = (await WebAssembly.instantiateStreaming(fetch("zmosaic.wasm"), go.importObject)).instance;
  } catch (streamErr) {
    // A server without the application/wasm type makes instantiateStreaming fail; read it whole.
    const resp = await fetch("zmosaic.wasm");
    if (!resp.ok) throw new Error(`zmosaic.wasm: HTTP ${resp.status}`);
    inst = (await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject)).instance;
  }
  go.run(inst).then(() => {
    // The Go program only returns when it is done serving the API: say so instead of failing later.
    if (state.api) setStatus("error", "wasm_exited");
  });
}

initFiles();
initOptions();
initRun();
initLog();
initViewer();
el.lang.addEventListener("change", () => setLang(el.lang.value));
applyTexts();
document.addEventListener("zmosaic-ready", onReady);
loadWasm().catch((e) => {
  if (state.api) return;
  setStatus("error", "wasm_missing", { error: e && e.message ? e.message : String(e) });
});
