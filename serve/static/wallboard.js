// The supervisor wallboard: renders `wallboard` and `alarm` frames pushed on /ws
// (docs/web-api.md) and sends the supervisor's actions to /api/supervisor/...
import { connect } from "/static/ws.js";
import { t, setLanguage } from "/static/i18n.js";
import { wt } from "/static/wallboard_i18n.js";

const STALE_MS = 5000;
const SL_TARGET = 0.8; // a tile is red below this service level (20 s), or with an alarm
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("hotline.lang") || "zh",
  frame: null,
  receivedAt: 0,
  filters: { queue: "", state: "" },
  busy: false, // a menu is open: do not re-render the actions under the pointer
};

function tr(key, vars) {
  // the wallboard's own strings first, then the shared ones (i18n.js)
  const text = wt(state.lang, key, vars);
  return text === key ? t(key, vars) : text;
}

function token() {
  return sessionStorage.getItem("hotline.token") || sessionStorage.getItem("token") || "";
}

// -- formatting

function pct(x) {
  return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
}

function secs(s) {
  if (s === null || s === undefined) return "–";
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60);
  return m ? `${m}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function ageNow() {
  // seconds since the frame was received: time-in-state ticks between frames
  return state.receivedAt ? (Date.now() - state.receivedAt) / 1000 : 0;
}

// -- static text and language

function applyLanguage() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = tr(node.dataset.t);
  $("lang").textContent = tr("lang");
  document.title = tr("title");
  try {
    setLanguage(state.lang);
  } catch (e) {
    /* the shared strings are optional here */
  }
  render();
}

$("lang").addEventListener("click", () => {
  state.lang = state.lang === "en" ? "zh" : "en";
  localStorage.setItem("hotline.lang", state.lang);
  applyLanguage();
});

// -- rendering

function kpiBlock(label, k) {
  return el(
    "div",
    { class: "wb-kpis" },
    el("span", { class: "wb-kpi-label" }, label),
    el("span", { class: sl20Class(k) }, `${tr("sl")} 15s ${pct(k.service_level["15"])}`),
    el("span", { class: sl20Class(k) }, `20s ${pct(k.service_level["20"])}`),
    el("span", {}, `${tr("abandon_rate")} ${pct(k.abandon_rate)}`),
    el("span", {}, `${tr("asa")} ${secs(k.asa_s)}`),
    el("span", {}, `${tr("aht")} ${secs(k.aht_s)}`),
    el("span", { class: "wb-counts" },
      `${tr("offered")} ${k.offered} · ${tr("answered")} ${k.answered} · ${tr("abandoned")} ${k.abandoned}`),
  );
}

function sl20Class(k) {
  const sl = k.service_level["20"];
  return sl !== null && sl !== undefined && sl < SL_TARGET ? "breach" : "";
}

function renderCentre(f) {
  const c = f.centre;
  const online = Object.entries(c.agents).filter(([s]) => s !== "logged-out").reduce((n, [, v]) => n + v, 0);
  $("centre").replaceChildren(
    el("div", { class: "wb-big" }, el("b", {}, c.waiting), el("small", {}, tr("centre_waiting"))),
    el("div", { class: "wb-big" + (c.longest_wait_s >= 60 ? " breach" : "") },
      el("b", {}, secs(c.longest_wait_s)), el("small", {}, tr("longest"))),
    el("div", { class: "wb-big " + sl20Class(c.today) },
      el("b", {}, pct(c.today.service_level["20"])), el("small", {}, `${tr("today")} ${tr("sl")} 20s`)),
    el("div", { class: "wb-big" }, el("b", {}, pct(c.today.abandon_rate)), el("small", {}, tr("abandon_rate"))),
    el("div", { class: "wb-big" }, el("b", {}, online), el("small", {}, tr("centre_agents"))),
  );
}

function renderQueues(f) {
  const tiles = f.queues.map((q) => {
    const breach = q.alarms.length > 0 || sl20Class(q.last_30_min) || sl20Class(q.today);
    return el(
      "article",
      { class: "wb-tile" + (breach ? " breach" : ""), "data-queue": q.queue },
      el("h3", {}, q.title || q.queue),
      el("div", { class: "wb-tile-main" },
        el("div", { class: "wb-figure" }, el("b", { class: "wb-waiting" }, q.waiting), el("small", {}, tr("waiting"))),
        el("div", { class: "wb-figure" + (q.alarms.some((a) => a.endsWith("wait_over")) ? " breach" : "") },
          el("b", {}, secs(q.longest_wait_s)), el("small", {}, tr("longest")))),
      el("div", { class: "wb-tile-row" },
        `${tr("ringing")} ${q.ringing} · ${tr("callbacks")} ${q.callbacks}`),
      el("div", { class: "wb-tile-row wb-agent-counts" },
        ["ready", "on_call", "wrap_up", "paused", "offered"].map((k) =>
          el("span", { class: `a-${k}` }, `${tr("a_" + k)} ${q.agents[k]}`))),
      kpiBlock(tr("today"), q.today),
      kpiBlock(tr("last_30"), q.last_30_min),
    );
  });
  const head = $("queues").querySelector("h2");
  $("queues").replaceChildren(head, ...tiles);
}

function fillSelect(select, options, current) {
  const want = [["", tr("all")], ...options];
  const same = select.options.length === want.length &&
    want.every(([v, label], i) => select.options[i].value === v && select.options[i].text === label);
  if (!same) select.replaceChildren(...want.map(([v, label]) => el("option", { value: v }, label)));
  select.value = current;
}

function renderFilters(f) {
  fillSelect($("f-queue"), Object.entries(f.choices.queues), state.filters.queue);
  const states = ["ready", "offered", "on-call", "wrap-up", "paused"];
  fillSelect($("f-state"), states.map((s) => [s, tr("s_" + s)]), state.filters.state);
}

function agentActions(a, f) {
  const box = el("div", { class: "wb-actions" });
  const reasons = Object.entries(f.choices.pause_reasons);
  if (a.state !== "paused") {
    const sel = el("select", { "aria-label": tr("pause"), class: "wb-pause",
      onfocus: () => (state.busy = true), onblur: () => (state.busy = false) },
      el("option", { value: "" }, tr("pause")),
      reasons.map(([code, label]) => el("option", { value: code }, label)));
    sel.addEventListener("change", () => {
      state.busy = false;
      if (sel.value) act(`/api/supervisor/agents/${a.agent}/pause`, { reason: sel.value }, `${tr("pause")} ${a.agent}`);
    });
    box.append(sel);
  }
  box.append(el("button", { type: "button", class: "danger wb-logout",
    onclick: () => confirmThen(tr("confirm_logout", { agent: a.agent }),
      () => act(`/api/supervisor/agents/${a.agent}/logout`, {}, `${tr("logout")} ${a.agent}`)) }, tr("logout")));
  if (a.state === "on-call") {
    for (const mode of ["listen", "whisper", "barge"]) {
      box.append(el("button", { type: "button", class: `wb-spy wb-${mode}`,
        onclick: () => act(`/api/supervisor/agents/${a.agent}/spy`, { mode }, `${tr(mode)} ${a.agent}`) }, tr(mode)));
    }
  }
  return box;
}

function renderAgents(f) {
  const age = ageNow();
  const rows = f.agents
    .filter((a) => !state.filters.queue || a.queues.includes(state.filters.queue))
    .filter((a) => !state.filters.state || a.state === state.filters.state)
    .map((a) => {
      const reason = a.reason ? ` (${f.choices.pause_reasons[a.reason] || a.reason})` : "";
      const wait = a.caller_wait_s === null ? "–" : secs(a.state === "on-call" || a.state === "wrap-up" ? a.caller_wait_s : a.caller_wait_s + age);
      return el("tr", { class: `st-${a.state}` + (a.alarms.length ? " breach" : ""), "data-agent": a.agent },
        el("td", {}, el("b", {}, a.agent), " ", el("small", {}, a.name)),
        el("td", { class: "wb-state" }, tr("s_" + a.state) + reason + (a.reachable ? "" : ` · ${tr("unreachable")}`)),
        el("td", { class: "wb-in-state", "data-in-state": a.in_state_s }, secs(a.in_state_s + age)),
        el("td", {}, a.queue ? (f.choices.queues[a.queue] || a.queue) : "–"),
        el("td", {}, wait),
        el("td", {}, a.calls_today),
        el("td", {}, agentActions(a, f)));
    });
  const body = $("agents").tBodies[0];
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "wb-empty" }, tr("no_agents")))]));
}

function callActions(c, f) {
  const box = el("div", { class: "wb-actions" });
  const prio = el("select", { "aria-label": tr("raise"), class: "wb-priority",
    onfocus: () => (state.busy = true), onblur: () => (state.busy = false) },
    el("option", { value: "" }, tr("raise")),
    f.choices.priorities.filter((p) => p !== c.priority).map((p) => el("option", { value: p }, p)));
  prio.addEventListener("change", () => {
    state.busy = false;
    if (prio.value) act(`/api/supervisor/calls/${encodeURIComponent(c.call)}/priority`, { priority: prio.value }, `${tr("raise")} ${c.call}`);
  });
  const queue = el("select", { "aria-label": tr("move"), class: "wb-move",
    onfocus: () => (state.busy = true), onblur: () => (state.busy = false) },
    el("option", { value: "" }, tr("move")),
    Object.entries(f.choices.queues).filter(([q]) => q !== c.queue).map(([q, title]) => el("option", { value: q }, title)));
  queue.addEventListener("change", () => {
    state.busy = false;
    if (queue.value) act(`/api/supervisor/calls/${encodeURIComponent(c.call)}/queue`, { queue: queue.value }, `${tr("move")} ${c.call}`);
  });
  box.append(prio);
  if (c.state === "waiting") box.append(queue);
  return box;
}

function renderCalls(f) {
  const age = ageNow();
  const rows = f.calls.map((c) =>
    el("tr", { class: `call-${c.state}`, "data-call": c.call },
      el("td", {}, c.caller || c.call, c.callback ? el("small", {}, ` · ${tr("callback")}`) : null,
        c.state !== "waiting" ? el("small", {}, ` · ${tr("s_" + c.state)}`) : null),
      el("td", {}, f.choices.queues[c.queue] || c.queue),
      el("td", { class: `prio-${c.priority}` }, c.priority),
      el("td", {}, secs(c.waited_s + age)),
      el("td", {}, callActions(c, f))));
  $("calls").tBodies[0].replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "wb-empty" }, tr("no_calls")))]));
}

function renderAlarms(f) {
  const items = f.alarms.map((a) =>
    el("li", { class: `alarm alarm-${a.kind}`, "data-alarm": a.id },
      el("b", {}, a.subject), " ", a.kind, a.detail ? ` (${a.detail})` : "",
      el("small", {}, ` ${a.value} / ${a.threshold} · ${new Date(a.raised_at * 1000).toLocaleTimeString()}`)));
  $("alarms").replaceChildren(...(items.length ? items : [el("li", { class: "wb-empty" }, tr("no_alarms"))]));
}

function render() {
  const f = state.frame;
  if (!f) return;
  renderCentre(f);
  renderQueues(f);
  renderFilters(f);
  renderAlarms(f);
  if (!state.busy) {
    renderAgents(f);
    renderCalls(f);
  }
}

// -- the socket

function onFrame(frame) {
  if (frame.type === "error") {
    if (frame.status === 401) location.href = "/";
    else toast(tr("failed", { error: frame.error }), true);
    return;
  }
  state.receivedAt = Date.now();
  markFresh();
  if (frame.type === "wallboard") {
    state.frame = frame;
    render();
  } else if (frame.type === "alarm" && state.frame) {
    const rest = state.frame.alarms.filter((a) => a.id !== frame.alarm.id);
    state.frame.alarms = frame.event === "raised" ? [...rest, frame.alarm] : rest;
    renderAlarms(state.frame);
  }
}

function markFresh() {
  document.body.classList.remove("stale");
  $("stale").hidden = true;
}

function markStale() {
  const at = state.receivedAt ? new Date(state.receivedAt).toLocaleTimeString() : "–";
  $("stale").textContent = tr("stale", { at });
  $("stale").hidden = false;
  document.body.classList.add("stale");
}

setInterval(() => {
  $("clock").textContent = new Date().toLocaleTimeString();
  if (!state.receivedAt || Date.now() - state.receivedAt > STALE_MS) markStale();
  if (state.frame && !state.busy) {
    // tick the times between frames without rebuilding the rows
    const age = ageNow();
    for (const td of document.querySelectorAll("td.wb-in-state")) td.textContent = secs(Number(td.dataset.inState) + age);
  }
}, 1000);

// -- actions

async function act(path, body, what) {
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify(body),
    });
    if (r.status === 401) {
      location.href = "/";
      return;
    }
    const answer = await r.json().catch(() => ({}));
    if (r.ok) toast(tr("done", { what }));
    else toast(tr("failed", { error: answer.error || r.status }), true);
  } catch (e) {
    toast(tr("failed", { error: String(e) }), true);
  }
}

let toastTimer = 0;
function toast(text, bad = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = "wb-toast" + (bad ? " bad" : "");
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 4000);
}

function confirmThen(text, then) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "ok") then();
  }, { once: true });
  dialog.showModal();
}

for (const [id, key] of [["f-queue", "queue"], ["f-state", "state"]]) {
  $(id).addEventListener("change", () => {
    state.filters[key] = $(id).value;
    if (state.frame) renderAgents(state.frame);
  });
}

if (!token()) location.href = "/";
applyLanguage();
markStale();
connect({ view: "wallboard", token: token(), onFrame, onStale: (stale) => (stale ? markStale() : null) });
