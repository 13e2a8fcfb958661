// The agent desk: the seat's state and time in it, the call that rings with the
// resident's screen-pop, cases, the wrap-up with its disposition, my day.
// Everything shown comes from the pushed frames (ws.js); actions are POSTs.
import { api, endSession, session } from "./api.js";
import { apply, duration, label, switcher, t } from "./i18n.js";
import { initRecordings, showCase } from "./recordings.js";
import { connect } from "./ws.js";
import { installFollowup, refreshFollowup } from "./followup.js";
import { drawTransfer, initTransfer } from "./transfer.js";

const $ = (id) => document.getElementById(id);
const s = session();
if (!s) endSession(true);
const params = new URLSearchParams(location.search);
const agent = params.get("agent") || s?.user?.agent_id;
let config = { pause_reasons: {}, dispositions: {}, categories: {} };
let desk = null;          // the last desk frame
let pop = null;           // the last screen_pop frame
let offset = 0;           // server clock - ours (s)
const now = () => Date.now() / 1000 + offset;

function show(el, text) { el.textContent = text || ""; el.hidden = !text; }

function fill(select, entries, empty) {
  const keep = select.value;
  select.replaceChildren();
  if (empty) select.append(new Option(t("choose"), ""));
  for (const [value, text] of entries) select.append(new Option(text, value));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function drawConfig() {
  fill($("pause-reason"), Object.entries(config.pause_reasons)
    .filter(([code]) => code !== "no-answer").map(([c, l]) => [c, label(l)]));
  fill($("disposition"), Object.entries(config.dispositions).map(([c, l]) => [c, label(l)]), true);
  fill($("case-category"), Object.entries(config.categories), true);
}

function drawState() {
  if (!desk) return;
  const a = desk.agent;
  const badge = $("state");
  badge.dataset.state = a.state;
  badge.textContent = t(a.state);
  $("state-time").textContent = duration(now() - a.since);
  show($("state-reason"), a.reason ? `${t("reason")}: ${label(config.pause_reasons[a.reason] || a.reason)}` : "");
  const wish = a.after_call
    ? `${t("after_call")}: ${t(a.after_call === "pause" ? "paused" : a.after_call)}`
      + (a.after_call_reason ? ` (${label(config.pause_reasons[a.after_call_reason] || a.after_call_reason)})` : "")
    : "";
  show($("after-call"), wish);
  const st = a.state, onCall = st === "offered" || st === "on-call";
  const enable = {
    login: st === "logged-out",
    ready: st === "paused" || st === "wrap-up",
    pause: st === "ready" || st === "wrap-up",
    ready_after_call: onCall,
    pause_after_call: onCall,
    logout: st !== "logged-out",
    end_wrapup: st === "wrap-up",
  };
  for (const b of document.querySelectorAll("button[data-cmd]")) b.disabled = !enable[b.dataset.cmd];
  $("pause-reason").disabled = !(enable.pause || enable.pause_after_call);
  const wrap = $("wrapup-card");
  wrap.hidden = st !== "wrap-up";
  if (!wrap.hidden && a.wrapup_ends_at) $("wrapup-left").textContent = `${t("ends_in")} ${duration(a.wrapup_ends_at - now())}`;
}

function drawCall() {
  const o = desk?.offer;
  $("call-card").dataset.hasCall = o ? "yes" : "no";
  $("no-call").hidden = !!o;
  $("call-facts").hidden = !o;
  if (!o) { $("resident-card").hidden = true; $("note-form").hidden = true; return; }
  $("c-caller").textContent = o.callback ? `${o.caller} (${t("callback")})` : o.caller;
  $("c-queue").textContent = label(o.queue_title) || o.queue;
  const prio = $("c-priority");
  prio.textContent = t(o.priority) === o.priority ? o.priority : t(o.priority);
  prio.dataset.priority = o.priority;
  const waited = o.answered_at ? o.waited_s : now() - o.arrived_at;
  $("c-waited").textContent = duration(waited);
  drawPop();
}

function drawPop() {
  const o = desk?.offer;
  const card = $("resident-card");
  if (!o || !pop || pop.call !== o.call) { card.hidden = true; return; }
  card.hidden = false;
  show($("pop-error"), pop.screen_pop_error || "");
  const sp = pop.screen_pop || { residents: [], open_cases: [], recent: [] };
  const box = $("residents");
  box.replaceChildren();
  if (!sp.residents.length && !pop.screen_pop_error) box.append(el("p", "muted", t("unknown_caller")));
  for (const r of sp.residents) {
    const d = el("div", "resident");
    d.dataset.residentId = r.id;
    const h = el("div", "resident-name", r.name);
    if (r.elderly_alone) h.append(el("span", "flag flag-elderly", t("elderly_alone")));
    if (r.disability) h.append(el("span", "flag flag-disability", t("disability")));
    d.append(h);
    d.append(el("div", "muted", `${t("id_card")}: ${r.id_card_masked || "—"}`));
    d.append(el("div", "address", `${t("address")}: ${(r.address || "—").split("/").join(" › ")}`));
    box.append(d);
  }
  const cases = $("open-cases");
  cases.replaceChildren();
  const mine = (c) => c.owner === s.user.name;
  for (const c of sp.open_cases) {
    const li = el("li", mine(c) ? "case sticky" : "case");
    li.dataset.caseId = c.id;
    li.append(el("span", "case-number", c.number), el("span", "case-title", c.title),
      el("span", "case-status", t(`status_${c.status}`)));
    if (mine(c)) li.append(el("span", "flag flag-sticky", t("sticky")));
    li.addEventListener("click", () => showCase(c.id));  // its recordings (recordings.js)
    cases.append(li);
  }
  if (!sp.open_cases.length) cases.append(el("li", "muted", t("none")));
  const recent = $("recent");
  recent.replaceChildren();
  for (const it of sp.recent.slice(0, 5)) {
    recent.append(el("li", "", `${new Date(it.started_at * 1000).toLocaleString()} · ${it.queue} · ${it.outcome}`));
  }
  if (!sp.recent.length) recent.append(el("li", "muted", t("none")));
  const noteForm = $("note-form");
  noteForm.hidden = !sp.open_cases.length;
  fill($("note-case"), sp.open_cases.map((c) => [String(c.id), `${c.number} ${c.title}`]));
  const sticky = sp.open_cases.find(mine);
  if (sticky && !noteForm.dataset.touched) $("note-case").value = String(sticky.id);
}

function drawMyDay() {
  const m = desk?.my_day;
  if (!m) return;
  $("md-answered").textContent = m.answered;
  $("md-talk").textContent = duration(m.avg_talk_s);
  $("md-wrapup").textContent = duration(m.avg_wrapup_s);
  let paused = m.paused_s;
  if (desk.agent.state === "paused") paused += Math.max(0, now() - desk.at);
  $("md-paused").textContent = duration(paused);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function draw() { drawState(); drawCall(); drawMyDay(); drawTransfer(desk); }

async function command(cmd) {
  show($("state-error"), "");
  const body = { command: cmd };
  if (cmd === "pause" || cmd === "pause_after_call") body.reason = $("pause-reason").value || undefined;
  try {
    await api("POST", `/api/desk/${encodeURIComponent(agent)}/state`, body);
  } catch (e) {
    show($("state-error"), `${t("refused")}: ${e.message}`);
  }
}

async function createCase(ev) {
  ev.preventDefault();
  show($("case-ok"), ""); show($("case-error"), "");
  const text = $("case-text").value.trim();
  const where = $("case-location").value.trim();
  const resident = pop?.screen_pop?.residents?.[0];
  const body = {
    category: $("case-category").value,
    title: text.split("\n")[0].slice(0, 40),
    text: where ? `${text}\n${t("location")}: ${where}` : text,
  };
  if (resident && pop.call === desk?.offer?.call) body.resident_id = resident.id;
  if (desk?.offer) body.interaction = desk.offer.call;
  try {
    const r = await api("POST", "/api/crm/cases", body);
    show($("case-ok"), `${t("case_created")} ${r.case.number}`);
    $("case-ok").dataset.caseId = r.case.id;
    $("case-form").reset();
  } catch (e) {
    show($("case-error"), e.message);
  }
}

async function addNote(ev) {
  ev.preventDefault();
  show($("note-ok"), ""); show($("note-error"), "");
  const id = Number($("note-case").value);
  try {
    const { case: c } = await api("GET", `/api/crm/cases/${id}`);
    await api("POST", `/api/crm/cases/${id}/actions`, { action: "note", version: c.version, reason: $("note-text").value.trim() });
    if (desk?.offer) await api("POST", `/api/desk/${encodeURIComponent(agent)}/link`, { call: desk.offer.call, case: id });
    show($("note-ok"), `${t("note_added")} ${c.number}`);
    $("note-text").value = "";
  } catch (e) {
    show($("note-error"), e.message);
  }
}

async function saveDisposition() {
  const code = $("disposition").value;
  const call = desk?.agent?.call;
  if (!code || !call) return;
  try {
    await api("POST", `/api/desk/${encodeURIComponent(agent)}/disposition`, { call, code });
    show($("disposition-ok"), t("saved"));
  } catch (e) {
    show($("disposition-ok"), e.message);
  }
}

async function main() {
  apply();
  switcher($("lang"), () => { drawConfig(); draw(); });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/crm/logout"); } catch { /* gone already */ }
    endSession();
    location.assign("/");
  });
  initRecordings();  // a supervisor without a seat plays recordings too
  if (!agent) { show($("refused"), t("no_seat")); return; }
  $("who").textContent = `${s.user.name} · ${t("seat")} ${agent}`;
  for (const b of document.querySelectorAll("button[data-cmd]")) b.addEventListener("click", () => command(b.dataset.cmd));
  $("case-form").addEventListener("submit", createCase);
  $("note-form").addEventListener("submit", addNote);
  $("note-case").addEventListener("change", () => { $("note-form").dataset.touched = "1"; });
  $("save-disposition").addEventListener("click", saveDisposition);
  initTransfer(agent);
  try {
    config = await api("GET", "/api/desk/config");
  } catch (e) {
    show($("refused"), e.message);
    return;
  }
  drawConfig();
  installFollowup(agent);
  connect({
    view: "desk",
    agent,
    onFrame(frame) {
      if (frame.type === "welcome") offset = frame.server_time - Date.now() / 1000;
      else if (frame.type === "desk") {
        if (desk?.agent?.call !== frame.agent.call) {
          $("disposition-ok").hidden = true;
          delete $("note-form").dataset.touched;
          refreshFollowup();
        }
        desk = frame;
        draw();
      } else if (frame.type === "screen_pop") { pop = frame; drawPop(); }
    },
    onRefused(frame) {
      show($("refused"), `${frame.status === 403 ? t("not_your_seat") : t("refused")}: ${frame.error}`);
    },
  });
  setInterval(() => { drawState(); drawMyDay(); if (desk?.offer && !desk.offer.answered_at) drawCall(); }, 1000);
}

main();
