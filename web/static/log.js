// The event log: every event of the Go side, re-rendered in the page's language.
import { el, state, goT } from "./core.js";

const MAX_LOG = 5000; // far above what one run emits; keeps a runaway loop bounded

export function addEvent(ev) {
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

export function renderLog() {
  el.log.replaceChildren(...state.events.map(eventItem));
  el.logEmpty.hidden = state.events.length > 0;
}

export function initLog() {
  el.clearLog.addEventListener("click", () => { state.events = []; renderLog(); });
}
