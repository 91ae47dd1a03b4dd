// zmosaic preview page. Plain script, no build step: it loads zmosaic.wasm through Go's
// wasm_exec.js, waits for the "zmosaic-ready" event and then drives globalThis.zmosaic (the
// API described in wasm/). Every UI string lives in UI below (en, fr); messages that come from Go
// (file errors, events, stack errors) are already localised there, or re-localised with zmosaic.t.
"use strict";

(() => {
  // ---------------------------------------------------------------------------------------------
  // Strings. Keys used with data-i18n / data-i18n-aria / data-i18n-title in index.html, plus the
  // ones app.js formats itself. {name} placeholders are filled by fmt().
  const UI = {
    en: {
      doc_title: "zmosaic — stack preview",
      skip_link: "Skip to content",
      tagline: "Stack FITS frames in your browser",
      lang_label: "Language",
      frames_heading: "Frames",
      drop_title: "Drop FITS files here",
      drop_hint: "or click / press Enter to choose files (.fits, .fit, .fts, .fits.gz)",
      drop_aria: "Add FITS files: drop them here, or press Enter to choose",
      file_input_aria: "Choose FITS files",
      files_empty: "No file yet.",
      files_summary: "{count} file(s), {ok} readable",
      files_reading: "Reading {done} of {total}: {name}…",
      clear_files: "Remove all",
      remove: "Remove",
      remove_aria: "Remove {name}",
      file_shape: "{width} × {height}",
      file_mono: "mono",
      file_channels: "{channels} channels",
      file_bitpix: "BITPIX {bitpix}",
      file_wcs_yes: "WCS yes",
      file_wcs_no: "WCS no",
      file_read_failed: "could not read the file: {error}",
      options_heading: "Options",
      rejection_legend: "Rejection",
      combine_legend: "Combination",
      compute_legend: "Compute",
      reject: "Rejection",
      reject_winsor: "winsor — winsorized sigma clip",
      reject_kappa: "kappa — iterative kappa-sigma",
      reject_linear: "linear — linear-fit clip",
      reject_none: "none",
      help_reject: "How outliers (satellites, cosmic rays) are removed per pixel.",
      kappa_low: "κ low (σ)",
      kappa_high: "κ high (σ)",
      iterations: "Iterations",
      combine: "Combine",
      combine_mean: "mean (weighted)",
      combine_median: "median",
      combine_min: "min",
      combine_max: "max",
      weight: "Weights",
      weight_noise: "noise — inverse sky variance",
      weight_none: "none",
      norm: "Normalisation",
      norm_linear: "linear — P25/P90 mapping",
      norm_sky: "sky — offset",
      norm_none: "none",
      backend: "Backend",
      backend_auto: "auto — WebGPU if available, else CPU",
      backend_gpu: "gpu — WebGPU only",
      backend_cpu: "cpu",
      help_backend: "The CPU path runs on one thread in the browser.",
      gpu_budget: "GPU budget",
      help_gpu_budget: "auto, or a size such as 256MiB (at least 1MiB).",
      gpu_budget_invalid: "Write auto or a size such as 256MiB (at least 1MiB).",
      reset_options: "Reset to defaults",
      run_heading: "Run",
      stack_btn: "Stack",
      stack_btn_running: "Stacking…",
      progress_idle: "Progress",
      progress_phase: "{phase}: {done} / {total}",
      phase_read: "reading files",
      phase_scan: "scan",
      phase_measure: "measure",
      phase_combine: "combine",
      phase_write: "write",
      state_loading: "loading",
      state_ready: "ready",
      state_running: "running",
      state_done: "done",
      state_error: "error",
      loading_detail: "Loading the WebAssembly module…",
      ready_detail: "Add FITS frames, then press Stack.",
      running_detail: "Stacking {frames} frame(s)…",
      done_detail: "{frames} frames, {width} × {height}, {seconds} s; rejected {low} % low, {high} % high.",
      no_files: "Add at least one readable FITS file first.",
      wasm_missing: "zmosaic.wasm could not be loaded ({error}). Build it with “make web”, then reload.",
      wasm_exited: "The zmosaic WebAssembly program stopped; reload the page.",
      preview_heading: "Preview",
      zoom_in: "Zoom in",
      zoom_out: "Zoom out",
      zoom_fit: "Fit",
      zoom_1: "Actual pixels (1:1)",
      viewer_aria: "Stacked image preview. Drag to pan, mouse wheel or + and − to zoom, 0 to fit.",
      preview_empty: "The stacked image appears here.",
      stretch_legend: "Stretch",
      p_low: "Black point (percentile)",
      p_high: "White point (percentile)",
      asinh: "Asinh softening (larger = more linear)",
      download_fits: "Download FITS",
      download_png: "Download PNG",
      log_heading: "Event log",
      clear_log: "Clear",
      log_empty: "No event yet.",
      footer: "Files never leave this computer: everything runs in this page.",
      badge_gpu_planned: "WebGPU — will be tried (navigator.gpu is present)",
      badge_cpu_no_gpu: "CPU — this browser exposes no navigator.gpu",
      badge_cpu_forced: "CPU — backend set to cpu",
      badge_gpu_missing: "CPU — backend gpu asked for, but this browser exposes no navigator.gpu",
      badge_before_title: "Before a stack: what zmosaic will try. After a stack: what actually ran.",
      badge_adapter_unknown: "unnamed adapter",
      badge_reason: "Reason: {reason}",
      badge_adapter: "Adapter: {name}",
      badge_vendor: "Vendor: {vendor}",
      badge_arch: "Architecture: {architecture}",
      badge_desc: "Description: {description}",
      badge_limits: "Limits: {limits}",
    },
    fr: {
      doc_title: "zmosaic — aperçu d'empilement",
      skip_link: "Aller au contenu",
      tagline: "Empilez des images FITS dans votre navigateur",
      lang_label: "Langue",
      frames_heading: "Images",
      drop_title: "Déposez des fichiers FITS ici",
      drop_hint: "ou cliquez / appuyez sur Entrée pour choisir (.fits, .fit, .fts, .fits.gz)",
      drop_aria: "Ajouter des fichiers FITS : déposez-les ici ou appuyez sur Entrée pour choisir",
      file_input_aria: "Choisir des fichiers FITS",
      files_empty: "Aucun fichier.",
      files_summary: "{count} fichier(s), {ok} lisible(s)",
      files_reading: "Lecture {done} sur {total} : {name}…",
      clear_files: "Tout retirer",
      remove: "Retirer",
      remove_aria: "Retirer {name}",
      file_shape: "{width} × {height}",
      file_mono: "mono",
      file_channels: "{channels} canaux",
      file_bitpix: "BITPIX {bitpix}",
      file_wcs_yes: "WCS : oui",
      file_wcs_no: "WCS : non",
      file_read_failed: "lecture du fichier impossible : {error}",
      options_heading: "Options",
      rejection_legend: "Réjection",
      combine_legend: "Combinaison",
      compute_legend: "Calcul",
      reject: "Réjection",
      reject_winsor: "winsor — sigma-clipping winsorisé",
      reject_kappa: "kappa — kappa-sigma itératif",
      reject_linear: "linear — ajustement linéaire",
      reject_none: "aucune (none)",
      help_reject: "Comment les valeurs aberrantes (satellites, rayons cosmiques) sont retirées pixel par pixel.",
      kappa_low: "κ bas (σ)",
      kappa_high: "κ haut (σ)",
      iterations: "Itérations",
      combine: "Combinaison",
      combine_mean: "moyenne pondérée (mean)",
      combine_median: "médiane (median)",
      combine_min: "minimum (min)",
      combine_max: "maximum (max)",
      weight: "Poids",
      weight_noise: "noise — inverse de la variance du fond",
      weight_none: "aucun (none)",
      norm: "Normalisation",
      norm_linear: "linear — correspondance P25/P90",
      norm_sky: "sky — décalage",
      norm_none: "aucune (none)",
      backend: "Moteur",
      backend_auto: "auto — WebGPU si disponible, sinon CPU",
      backend_gpu: "gpu — WebGPU uniquement",
      backend_cpu: "cpu",
      help_backend: "Dans le navigateur, le chemin CPU n'utilise qu'un seul fil.",
      gpu_budget: "Budget GPU",
      help_gpu_budget: "auto, ou une taille comme 256MiB (au moins 1MiB).",
      gpu_budget_invalid: "Écrivez auto ou une taille comme 256MiB (au moins 1MiB).",
      reset_options: "Valeurs par défaut",
      run_heading: "Exécution",
      stack_btn: "Empiler",
      stack_btn_running: "Empilement…",
      progress_idle: "Progression",
      progress_phase: "{phase} : {done} / {total}",
      phase_read: "lecture des fichiers",
      phase_scan: "inventaire",
      phase_measure: "mesure",
      phase_combine: "combinaison",
      phase_write: "écriture",
      state_loading: "chargement",
      state_ready: "prêt",
      state_running: "en cours",
      state_done: "terminé",
      state_error: "erreur",
      loading_detail: "Chargement du module WebAssembly…",
      ready_detail: "Ajoutez des images FITS, puis cliquez sur Empiler.",
      running_detail: "Empilement de {frames} image(s)…",
      done_detail: "{frames} images, {width} × {height}, {seconds} s ; rejet {low} % bas, {high} % haut.",
      no_files: "Ajoutez d'abord au moins un fichier FITS lisible.",
      wasm_missing: "Impossible de charger zmosaic.wasm ({error}). Construisez-le avec « make web », puis rechargez.",
      wasm_exited: "Le programme WebAssembly zmosaic s'est arrêté ; rechargez la page.",
      preview_heading: "Aperçu",
      zoom_in: "Zoom avant",
      zoom_out: "Zoom arrière",
      zoom_fit: "Ajuster",
      zoom_1: "Pixels réels (1:1)",
      viewer_aria: "Aperçu de l'image empilée. Glisser pour déplacer, molette ou + et − pour zoomer, 0 pour ajuster.",
      preview_empty: "L'image empilée s'affiche ici.",
      stretch_legend: "Étirement",
      p_low: "Point noir (percentile)",
      p_high: "Point blanc (percentile)",
      asinh: "Adoucissement asinh (plus grand = plus linéaire)",
      download_fits: "Télécharger le FITS",
      download_png: "Télécharger le PNG",
      log_heading: "Journal des événements",
      clear_log: "Effacer",
      log_empty: "Aucun événement.",
      footer: "Les fichiers ne quittent jamais cet ordinateur : tout s'exécute dans cette page.",
      badge_gpu_planned: "WebGPU — sera essayé (navigator.gpu est présent)",
      badge_cpu_no_gpu: "CPU — ce navigateur n'expose pas navigator.gpu",
      badge_cpu_forced: "CPU — moteur réglé sur cpu",
      badge_gpu_missing: "CPU — moteur gpu demandé, mais ce navigateur n'expose pas navigator.gpu",
      badge_before_title: "Avant un empilement : ce que zmosaic va essayer. Après : ce qui a réellement tourné.",
      badge_adapter_unknown: "adaptateur sans nom",
      badge_reason: "Raison : {reason}",
      badge_adapter: "Adaptateur : {name}",
      badge_vendor: "Fabricant : {vendor}",
      badge_arch: "Architecture : {architecture}",
      badge_desc: "Description : {description}",
      badge_limits: "Limites : {limits}",
    },
  };
  const LANGS = Object.keys(UI);

  const $ = (id) => document.getElementById(id);
  const el = {
    badge: $("backend-badge"), badgeDetail: $("backend-detail"), lang: $("lang"), version: $("version"),
    drop: $("drop"), fileInput: $("file-input"), files: $("files"), filesSummary: $("files-summary"),
    clearFiles: $("clear-files"), form: $("options"), reset: $("reset-options"),
    budget: $("opt-gpu-budget"), reject: $("opt-reject"), backend: $("opt-backend"),
    stackBtn: $("stack-btn"), progress: $("progress"), progressLabel: $("progress-label"),
    status: $("status"), statusDetail: $("status-detail"),
    viewer: $("viewer"), canvas: $("preview"), previewEmpty: $("preview-empty"),
    zoomIn: $("zoom-in"), zoomOut: $("zoom-out"), zoomFit: $("zoom-fit"), zoom1: $("zoom-1"),
    zoomLevel: $("zoom-level"),
    pLow: $("p-low"), pHigh: $("p-high"), asinh: $("asinh"),
    pLowOut: $("p-low-out"), pHighOut: $("p-high-out"), asinhOut: $("asinh-out"),
    dlFits: $("download-fits"), dlPng: $("download-png"),
    log: $("log"), logEmpty: $("log-empty"), clearLog: $("clear-log"),
  };

  // ---------------------------------------------------------------------------------------------
  // State. Everything the page shows is re-rendered from here when the language changes.
  const state = {
    lang: pickLang(navigator.language),
    api: null,           // globalThis.zmosaic once ready
    defaults: null,      // zmosaic.defaults()
    files: new Map(),    // name → file info, in insertion order (ok and failed)
    status: { state: "loading", key: "loading_detail", params: null, text: null },
    result: null,        // last resolved zmosaic.stack() value
    events: [],          // {key, level, message, params, time}
    running: false,
    reading: false,
    progress: null,      // {phase, done, total}
  };
  const MAX_LOG = 5000;  // far above what one preview run emits; keeps a runaway loop bounded

  function pickLang(tag) {
    const l = String(tag || "en").slice(0, 2).toLowerCase();
    return LANGS.includes(l) ? l : "en";
  }

  function fmt(template, params) {
    return String(template).replace(/\{(\w+)\}/g, (m, k) =>
      params && params[k] !== undefined && params[k] !== null ? String(params[k]) : m);
  }

  // tr formats a UI string of the current language (English when a key is missing).
  function tr(key, params) {
    const s = (UI[state.lang] && UI[state.lang][key]) ?? UI.en[key] ?? key;
    return fmt(s, params);
  }

  // goT asks the Go catalog; it returns "" when the API is not there or does not know the key.
  function goT(key, params) {
    if (!state.api || typeof state.api.t !== "function") return "";
    try {
      const s = state.api.t(key, params || {});
      return typeof s === "string" && s !== "" && s !== key ? s : "";
    } catch (_) {
      return "";
    }
  }

  function num(x, digits) {
    if (typeof x !== "number" || !Number.isFinite(x)) return String(x ?? "");
    return new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(x);
  }

  // API calls may return plain values or Promises; await both the same way.
  const call = async (fn, ...args) => fn(...args);

  // ---------------------------------------------------------------------------------------------
  // Static texts.
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
    renderStackButton();
    validateBudget();
    for (const s of [el.pLow, el.pHigh, el.asinh]) showSlider(s);
    if (view.hasImage) applyView();
  }

  // ---------------------------------------------------------------------------------------------
  // Status, progress, stack button.
  function setStatus(s, key, params, text) {
    state.status = { state: s, key: key || null, params: params || null, text: text || null };
    renderStatus();
  }

  function renderStatus() {
    const s = state.status;
    el.status.dataset.state = s.state;
    el.status.textContent = tr("state_" + s.state);
    let detail = s.text || "";
    if (s.key === "done_detail" && state.result) detail = doneDetail(state.result);
    else if (s.key) detail = tr(s.key, s.params);
    el.statusDetail.textContent = detail;
  }

  function doneDetail(r) {
    const go = goT("stack_done", r);
    if (go) return go;
    return tr("done_detail", {
      frames: r.frames, width: r.width, height: r.height,
      seconds: num(r.seconds, 2), low: num(r.rejected_low_pct, 2), high: num(r.rejected_high_pct, 2),
    });
  }

  function renderProgress() {
    const p = state.progress;
    if (!p) {
      el.progressLabel.textContent = tr("progress_idle");
      return;
    }
    const phase = tr("phase_" + p.phase) !== "phase_" + p.phase ? tr("phase_" + p.phase) : p.phase;
    el.progressLabel.textContent = tr("progress_phase", { phase, done: p.done, total: p.total });
  }

  function setProgress(phase, done, total) {
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

  function renderStackButton() {
    const busy = state.running || state.reading;
    el.stackBtn.disabled = !state.api || busy;
    el.stackBtn.textContent = tr(state.running ? "stack_btn_running" : "stack_btn");
    el.stackBtn.setAttribute("aria-busy", String(state.running));
    const hasResult = !!state.result && !state.running;
    el.dlFits.disabled = !hasResult;
    el.dlPng.disabled = !hasResult;
    el.clearFiles.disabled = busy || state.files.size === 0;
    el.drop.setAttribute("aria-disabled", String(!state.api || busy));
    for (const c of el.form.elements) if (c.tagName !== "FIELDSET") c.disabled = !state.api || state.running;
    if (state.api && !state.running) syncRejectFields();
  }

  // ---------------------------------------------------------------------------------------------
  // Backend badge: a prediction before the first stack, what ran after it.
  function renderBadge() {
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

  // ---------------------------------------------------------------------------------------------
  // Files.
  function refreshFiles() {
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

  function renderFiles() {
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
      const rm = document.createElement("button");
      rm.type = "button";
      rm.className = "btn btn-quiet btn-remove";
      rm.textContent = tr("remove");
      rm.setAttribute("aria-label", tr("remove_aria", { name }));
      rm.disabled = state.running || state.reading;
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
    el.clearFiles.disabled = state.running || state.reading || state.files.size === 0;
  }

  async function addFiles(fileList) {
    if (!state.api || state.running || state.reading) return;
    const files = Array.from(fileList || []);
    if (files.length === 0) return;
    state.reading = true;
    renderStackButton();
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
        renderFiles();
        // Let the browser paint between files: reading many frames would otherwise freeze the page.
        await new Promise((r) => setTimeout(r, 0));
      }
      setProgress("read", files.length, files.length);
    } finally {
      state.reading = false;
      refreshFiles();
      renderStackButton();
    }
  }

  function removeFile(name) {
    if (!state.api || state.running) return;
    try { state.api.removeFile(name); } catch (_) { /* a failed file may be unknown to Go */ }
    state.files.delete(name);
    refreshFiles();
    renderStackButton();
  }

  function clearFiles() {
    if (!state.api || state.running) return;
    try { state.api.clearFiles(); } catch (_) { /* nothing to clear */ }
    state.files.clear();
    renderFiles();
    renderStackButton();
  }

  function errText(e) {
    if (e === null || e === undefined) return "?";
    if (typeof e === "string") return e;
    return e.message || String(e);
  }

  // ---------------------------------------------------------------------------------------------
  // Options form.
  const FIELDS = {
    reject: "opt-reject", combine: "opt-combine", kappa_low: "opt-kappa-low", kappa_high: "opt-kappa-high",
    iterations: "opt-iterations", weight: "opt-weight", norm: "opt-norm", backend: "opt-backend",
    gpu_budget: "opt-gpu-budget",
  };
  const NUMERIC = new Set(["kappa_low", "kappa_high", "iterations"]);

  function fillOptions(d) {
    for (const [key, id] of Object.entries(FIELDS)) {
      const c = $(id);
      if (!(key in d)) continue;
      if (key === "gpu_budget") c.value = budgetToText(d[key]);
      else if (c.tagName === "SELECT") {
        const v = String(d[key]);
        if (![...c.options].some((o) => o.value === v)) c.add(new Option(v, v)); // a newer Go value
        c.value = v;
      } else c.value = String(d[key]);
    }
    setSlider(el.pLow, d.p_low);
    setSlider(el.pHigh, d.p_high);
    setSlider(el.asinh, d.asinh);
    syncRejectFields();
    validateBudget();
    renderBadge();
  }

  function setSlider(input, v) {
    if (typeof v === "number" && Number.isFinite(v)) input.value = String(v);
    showSlider(input);
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

  function validateBudget() {
    const bad = Number.isNaN(parseBudget(el.budget.value));
    el.budget.setCustomValidity(bad ? tr("gpu_budget_invalid") : "");
    el.budget.setAttribute("aria-invalid", String(bad));
  }

  // Rejection thresholds mean nothing without rejection: grey them out rather than hide them.
  function syncRejectFields() {
    const none = el.reject.value === "none";
    for (const id of ["opt-kappa-low", "opt-kappa-high", "opt-iterations"]) $(id).disabled = none || state.running;
  }

  function collectOptions() {
    const d = state.defaults || {};
    const o = { ...d };
    for (const [key, id] of Object.entries(FIELDS)) {
      const c = $(id);
      if (key === "gpu_budget") {
        // Send the budget in the type defaults() used: bytes when it is a number, text otherwise.
        o[key] = typeof d.gpu_budget === "number" ? parseBudget(c.value) : (c.value.trim() || "auto");
      } else if (NUMERIC.has(key)) {
        o[key] = c.value === "" ? d[key] : Number(c.value);
      } else {
        o[key] = c.value;
      }
    }
    Object.assign(o, stretchValues());
    return o;
  }

  // ---------------------------------------------------------------------------------------------
  // Stack.
  async function runStack() {
    if (!state.api || state.running || state.reading) return;
    refreshFiles(); // files may also have been added through the API directly
    const okCount = [...state.files.values()].filter((f) => f.ok).length;
    if (okCount === 0) {
      setStatus("error", "no_files");
      return;
    }
    validateBudget();
    if (!el.form.checkValidity()) {
      el.form.reportValidity();
      return;
    }
    const opts = collectOptions();
    state.running = true;
    state.progress = null;
    el.progress.value = 0;
    el.progress.max = 1;
    renderProgress();
    setStatus("running", "running_detail", { frames: okCount });
    renderStackButton();
    renderFiles();
    try {
      const res = await call(state.api.stack, opts);
      state.result = res || {};
      state.running = false;
      renderBadge();
      await renderPreview(true);
      setStatus("done", "done_detail");
    } catch (e) {
      state.running = false;
      setStatus("error", null, null, errText(e));
    } finally {
      state.running = false;
      renderStackButton();
      renderFiles();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Preview: the canvas holds the stretched image at its own resolution (so its pixels are the
  // previewRGBA bytes); zoom and pan are a CSS transform inside #viewer.
  const view = { scale: 1, x: 0, y: 0, fitted: true, hasImage: false };
  const ctx = el.canvas.getContext("2d");

  function stretchValues() {
    return {
      p_low: Number(el.pLow.value), p_high: Number(el.pHigh.value), asinh: Number(el.asinh.value),
    };
  }

  function showSlider(input) {
    const out = { "p-low": el.pLowOut, "p-high": el.pHighOut, asinh: el.asinhOut }[input.id];
    if (out) out.textContent = num(Number(input.value), 3);
  }

  async function renderPreview(refit) {
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

  function applyView() {
    el.canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    el.canvas.classList.toggle("pixelated", view.scale >= 2);
    el.zoomLevel.textContent = `${num(view.scale * 100, view.scale < 0.1 ? 1 : 0)} %`;
  }

  function initViewer() {
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

  // ---------------------------------------------------------------------------------------------
  // Downloads.
  async function download(kind) {
    if (!state.api || !state.result) return;
    try {
      let bytes, type, name;
      if (kind === "fits") {
        bytes = await call(state.api.fitsBytes);
        type = "application/fits";
        name = "stack.fits";
      } else {
        const s = stretchValues();
        bytes = await call(state.api.pngBytes, s.p_low, s.p_high, s.asinh);
        type = "image/png";
        name = "stack.png";
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

  // ---------------------------------------------------------------------------------------------
  // Event log.
  function addEvent(ev) {
    const e = {
      key: String((ev && ev.key) || ""),
      level: String((ev && ev.level) || "info").toLowerCase(),
      message: (ev && ev.message) || "",
      params: (ev && ev.params) || null,
      time: new Date(),
    };
    state.events.push(e);
    if (state.events.length > MAX_LOG) {
      state.events.shift();
      el.log.firstElementChild?.remove();
    }
    el.log.append(eventItem(e));
    el.logEmpty.hidden = true;
    el.log.scrollTop = el.log.scrollHeight;
  }

  function eventMessage(e) {
    return (e.params && goT(e.key, e.params)) || e.message || e.key;
  }

  function eventItem(e) {
    const li = document.createElement("li");
    li.dataset.key = e.key;
    li.className = "level-" + e.level.replace(/[^a-z0-9_-]/g, "") + " " + e.level.replace(/[^a-z0-9_-]/g, "");
    const time = document.createElement("time");
    time.dateTime = e.time.toISOString();
    time.textContent = e.time.toLocaleTimeString(state.lang, { hour12: false });
    const lvl = document.createElement("span");
    lvl.className = "log-level";
    lvl.textContent = e.level;
    const msg = document.createElement("span");
    msg.className = "log-msg";
    msg.textContent = eventMessage(e);
    li.append(time, lvl, msg);
    return li;
  }

  function renderLog() {
    el.log.replaceChildren(...state.events.map(eventItem));
    el.logEmpty.hidden = state.events.length > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Drop zone and inputs.
  function initInputs() {
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
    // A file dropped beside the zone must not navigate away from the page (and lose the stack).
    for (const t of ["dragover", "drop"]) window.addEventListener(t, (e) => e.preventDefault());

    el.clearFiles.addEventListener("click", clearFiles);
    el.stackBtn.addEventListener("click", runStack);
    el.reset.addEventListener("click", () => { if (state.defaults) fillOptions(state.defaults); });
    el.reject.addEventListener("change", syncRejectFields);
    el.backend.addEventListener("change", renderBadge);
    el.budget.addEventListener("input", validateBudget);
    el.form.addEventListener("submit", (e) => { e.preventDefault(); runStack(); });
    for (const s of [el.pLow, el.pHigh, el.asinh]) s.addEventListener("input", onSlider);
    el.dlFits.addEventListener("click", () => download("fits"));
    el.dlPng.addEventListener("click", () => download("png"));
    el.clearLog.addEventListener("click", () => { state.events = []; renderLog(); });
    el.lang.addEventListener("change", () => setLang(el.lang.value));
  }

  function setLang(lang) {
    state.lang = pickLang(lang);
    if (state.api && typeof state.api.setLang === "function") {
      try { state.api.setLang(state.lang); } catch (_) { /* keep the page's own language */ }
    }
    refreshFiles(); // Go may re-localise file errors
    applyTexts();
  }

  // ---------------------------------------------------------------------------------------------
  // Start-up: load the wasm, wait for "zmosaic-ready".
  function onReady() {
    if (state.api) return;
    const api = globalThis.zmosaic;
    if (!api) return;
    state.api = api;
    el.version.textContent = api.version ? "v" + api.version : "";
    try {
      if (typeof api.setLang === "function") api.setLang(state.lang);
    } catch (_) { /* keep going in the page's language */ }
    try {
      state.defaults = api.defaults() || {};
    } catch (_) {
      state.defaults = {};
    }
    fillOptions(state.defaults);
    if (typeof api.onProgress === "function") api.onProgress((phase, done, total) => setProgress(phase, done, total));
    if (typeof api.onEvent === "function") api.onEvent((ev) => addEvent(ev));
    refreshFiles();
    setStatus("ready", "ready_detail");
    renderStackButton();
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

  function start() {
    initInputs();
    initViewer();
    applyTexts();
    document.addEventListener("zmosaic-ready", onReady);
    loadWasm().catch((e) => {
      if (state.api) return;
      setStatus("error", "wasm_missing", { error: errText(e) });
    });
  }

  start();
})();
