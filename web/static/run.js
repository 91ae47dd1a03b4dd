// Runs (stack, mosaic) and the downloads of their result.
import { el, state, call, errText } from "./core.js";
import { renderBadge, renderButtons, resetProgress, setStatus, wcsCount } from "./status.js";
import { refreshFiles, renderFiles } from "./files.js";
import { collectOptions, formValid } from "./options.js";
import { renderPreview, stretchValues } from "./preview.js";

// run starts zmosaic.stack or zmosaic.mosaic (kind) with the form's options, then shows the
// result. A failed run keeps the previous result on screen.
async function run(kind) {
  if (!state.api || state.running || state.reading) return;
  refreshFiles(); // files may also have been added through the API directly
  const okCount = [...state.files.values()].filter((f) => f.ok).length;
  if (okCount === 0) {
    setStatus("error", "no_files");
    return;
  }
  const frames = kind === "mosaic" ? wcsCount() : okCount;
  if (frames === 0) {
    setStatus("error", "mosaic_btn_hint");
    return;
  }
  if (!formValid()) return;
  const opts = collectOptions(kind);
  state.running = kind;
  resetProgress();
  setStatus("running", kind === "mosaic" ? "running_mosaic_detail" : "running_detail", { frames });
  renderButtons();
  renderFiles();
  try {
    const res = await call(kind === "mosaic" ? state.api.mosaic : state.api.stack, opts);
    state.result = Object.assign({ kind }, res || {});
    state.skipped = new Map();
    for (const s of state.result.skipped_files || []) state.skipped.set(s.name, s);
    state.running = null;
    renderBadge();
    await renderPreview(true);
    setStatus("done", "done_detail");
  } catch (e) {
    state.running = null;
    setStatus("error", null, null, errText(e));
  } finally {
    state.running = null;
    renderButtons();
    renderFiles();
  }
}

// download saves the last result: its FITS (with ALPHA; a mosaic's carries the output WCS),
// the stretched PNG, or a mosaic's coverage map.
async function download(what) {
  if (!state.api || !state.result) return;
  const base = state.result.kind === "mosaic" ? "mosaic" : "stack";
  try {
    let bytes, type, name;
    if (what === "fits") {
      bytes = await call(state.api.fitsBytes);
      type = "application/fits";
      name = base + ".fits";
    } else if (what === "coverage") {
      bytes = await call(state.api.coverageFitsBytes);
      type = "application/fits";
      name = base + "_coverage.fits";
    } else {
      const s = stretchValues();
      bytes = await call(state.api.pngBytes, s.p_low, s.p_high, s.asinh);
      type = "image/png";
      name = base + ".png";
    }
    const url = URL.createObjectURL(new Blob([bytes], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.rel = "noopener";
    document.body.append(a);
    a.click();
    a.remove();
    // Revoke later: some browsers read the URL after click() returns.
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    setStatus("error", null, null, errText(e));
  }
}

export function initRun() {
  el.stackBtn.addEventListener("click", () => run("stack"));
  el.mosaicBtn.addEventListener("click", () => run("mosaic"));
  el.form.addEventListener("submit", (e) => { e.preventDefault(); run("stack"); });
  el.dlFits.addEventListener("click", () => download("fits"));
  el.dlPng.addEventListener("click", () => download("png"));
  el.dlCoverage.addEventListener("click", () => download("coverage"));
}
