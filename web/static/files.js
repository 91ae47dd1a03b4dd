// The file list, the drop zone and the file picker.
import { el, state, tr, goT, call, errText } from "./core.js";
import { renderButtons, setProgress } from "./status.js";

// refreshFiles re-reads the list from Go (files may also be added through the API directly).
export function refreshFiles() {
  if (!state.api) return;
  let list = [];
  try { list = state.api.files() || []; } catch (_) { list = []; }
  const seen = new Set();
  const next = new Map();
  // Keep insertion order of what we know; entries the API no longer lists survive only when
  // they failed (a failed addFile may or may not be kept by the Go side).
  for (const f of list) seen.add(f.name);
  for (const [name, info] of state.files) {
    if (seen.has(name)) next.set(name, list.find((f) => f.name === name));
    else if (info && info.ok === false) next.set(name, info);
  }
  for (const f of list) if (!next.has(f.name)) next.set(f.name, f);
  state.files = next;
  renderFiles();
}

function fileMeta(f) {
  const parts = [];
  if (f.width && f.height) parts.push(tr("file_shape", f));
  if (f.channels) parts.push(f.channels === 1 ? tr("file_mono") : tr("file_channels", f));
  if (f.bitpix !== undefined && f.bitpix !== null && f.bitpix !== 0) parts.push(tr("file_bitpix", f));
  parts.push(tr(f.wcs ? "file_wcs_yes" : "file_wcs_no"));
  return parts.join(" · ");
}

// skipReason is why the last mosaic left a file out, in the current language when Go knows
// the message (the reason it gave is in the language of the run).
function skipReason(s) {
  return goT(s.key, s.params) || s.reason || tr("file_skipped");
}

export function renderFiles() {
  const frag = document.createDocumentFragment();
  let ok = 0;
  for (const [name, f] of state.files) {
    if (f.ok) ok++;
    const li = document.createElement("li");
    li.dataset.name = name;
    li.className = "file" + (f.ok ? "" : " error");
    const main = document.createElement("div");
    main.className = "file-main";
    const nm = document.createElement("span");
    nm.className = "file-name";
    nm.textContent = name;
    nm.title = name;
    const meta = document.createElement("span");
    meta.className = f.ok ? "file-meta" : "file-error";
    meta.textContent = f.ok ? fileMeta(f) : (f.error || tr("file_read_failed", { error: "?" }));
    main.append(nm, meta);
    const skip = state.skipped.get(name);
    if (skip && f.ok) {
      // An unreadable file already shows its error; a readable one says why the mosaic left it out.
      li.classList.add("skipped");
      const why = document.createElement("span");
      why.className = "file-skipped";
      why.textContent = skipReason(skip);
      main.append(why);
    }
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "btn btn-quiet btn-remove";
    rm.textContent = tr("remove");
    rm.setAttribute("aria-label", tr("remove_aria", { name }));
    rm.disabled = !!state.running || state.reading;
    rm.addEventListener("click", () => removeFile(name));
    li.append(main, rm);
    frag.append(li);
  }
  el.files.replaceChildren(frag);
  if (!state.reading) {
    el.filesSummary.textContent = state.files.size === 0
      ? tr("files_empty")
      : tr("files_summary", { count: state.files.size, ok });
  }
  el.clearFiles.disabled = !!state.running || state.reading || state.files.size === 0;
}

async function addFiles(fileList) {
  if (!state.api || state.running || state.reading) return;
  const files = Array.from(fileList || []);
  if (files.length === 0) return;
  state.reading = true;
  renderButtons();
  try {
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      el.filesSummary.textContent = tr("files_reading", { done: i + 1, total: files.length, name: f.name });
      setProgress("read", i, files.length);
      let info;
      try {
        const buf = await f.arrayBuffer();
        info = await call(state.api.addFile, f.name, new Uint8Array(buf));
      } catch (e) {
        info = { name: f.name, ok: false, error: tr("file_read_failed", { error: errText(e) }) };
      }
      if (!info || typeof info !== "object") info = { name: f.name, ok: false, error: tr("file_read_failed", { error: "?" }) };
      info.name = info.name || f.name;
      state.files.delete(info.name); // a re-added file moves to the end, as the Go side replaces it
      state.files.set(info.name, info);
      state.skipped.delete(info.name);
      renderFiles();
      // Let the browser paint between files: reading many frames would otherwise freeze the page.
      await new Promise((r) => setTimeout(r, 0));
    }
    setProgress("read", files.length, files.length);
  } finally {
    state.reading = false;
    refreshFiles();
    renderButtons();
  }
}

function removeFile(name) {
  if (!state.api || state.running) return;
  try { state.api.removeFile(name); } catch (_) { /* a failed file may be unknown to Go */ }
  state.files.delete(name);
  state.skipped.delete(name);
  refreshFiles();
  renderButtons();
}

function clearFiles() {
  if (!state.api || state.running) return;
  try { state.api.clearFiles(); } catch (_) { /* nothing to clear */ }
  state.files.clear();
  state.skipped.clear();
  renderFiles();
  renderButtons();
}

export function initFiles() {
  const open = () => { if (state.api && !state.running && !state.reading) el.fileInput.click(); };
  el.drop.addEventListener("click", (e) => { if (e.target !== el.fileInput) open(); });
  el.drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); }
  });
  el.fileInput.addEventListener("change", () => {
    const files = Array.from(el.fileInput.files || []);
    addFiles(files).finally(() => { el.fileInput.value = ""; });
  });
  for (const t of ["dragenter", "dragover"]) {
    el.drop.addEventListener(t, (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      el.drop.classList.add("dragover");
    });
  }
  el.drop.addEventListener("dragleave", (e) => {
    if (!el.drop.contains(e.relatedTarget)) el.drop.classList.remove("dragover");
  });
  el.drop.addEventListener("drop", (e) => {
    e.preventDefault();
    el.drop.classList.remove("dragover");
    addFiles(e.dataTransfer ? e.dataTransfer.files : []);
  });
  // A file dropped beside the zone must not navigate away from the page (and lose the result).
  for (const t of ["dragover", "drop"]) window.addEventListener(t, (e) => e.preventDefault());
  el.clearFiles.addEventListener("click", clearFiles);
}
