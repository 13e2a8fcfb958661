// The supervisor's wallboard: queue tiles, the agent grid with its filters, the
// alarms and the waiting calls, all drawn from the `wallboard` and `alarm` frames
// that ws.js pushes (docs/web-api.md); times tick between frames from the server's
// clock. The log-in, the stale banner and reconnecting are ws.js's and api.js's,
// as on the desk; the actions are wallboard_actions.js's.
import { api, endSession, session } from "./api.js";
import { apply, duration, label, lang, switcher, t } from "./i18n.js";
import "./wallboard_i18n.js";
import { setUpActions } from "./wallboard_actions.js";
import { setUpBroadcast } from "./wallboard_broadcast.js";
import { setUpToday } from "./wallboard_today.js";
import { connect } from "./ws.js";

const $ = (id) => document.getElementById(id);
const STATES = ["ready", "offered", "on-call", "wrap-up", "paused"];
const RECENT_FIX_S = 600;  // a correction this recent is marked loudly, older ones quietly
const s = session();
if (!s) endSession(true);
const filters = { queue: "", state: "" };
let frame = null;         // the last wallboard frame
let offset = 0;           // server clock - ours (s)
const now = () => Date.now() / 1000 + offset;
const actions = setUpActions(() => frame);
const broadcast = setUpBroadcast();
const today = setUpToday();

function el(tag, cls, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

function pct(x) { return x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`; }
function clockTime(at, seconds = false) {
  const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) opts.second = "2-digit";
  return new Date(at * 1000).toLocaleTimeString(lang() === "en" ? "en-GB" : "zh-CN", opts);
}
function queueTitle(q) { return label(frame.choices.queues[q]) || q; }

// the header: the whole centre

function big(value, key, cls = "") {
  return el("div", `wb-big ${cls}`, el("b", "", String(value)), el("small", "", t(key)));
}

function drawCentre() {
  const c = frame.centre;
  const online = Object.entries(c.agents).filter(([st]) => st !== "logged-out").reduce((n, [, v]) => n + v, 0);
  const slLow = frame.alarms.some((a) => a.subject === "centre");
  $("centre").replaceChildren(
    big(c.waiting, "wb_c_waiting", c.waiting ? "hot" : ""),
    big(duration(c.longest_wait_s), "wb_c_longest"),
    big(pct(c.today.service_level["20"]), "wb_c_sl", slLow ? "bad" : ""),
    big(pct(c.today.abandon_rate), "wb_c_abandon"),
    big(c.today.answered, "wb_c_answered"),
    big(c.today.refused ?? 0, "wb_c_refused", c.today.refused ? "hot" : ""),
    big(online, "wb_c_agents"),
  );
}

// per queue

function kpiTable(q, alarms) {
  const slLow = alarms.some((a) => a.kind === "service_level_below");
  const row = (key, f, cls = "") => el("tr", cls, el("th", "", t(key)), el("td", "", f(q.today)), el("td", "", f(q.last_30_min)));
  return el("table", "wb-kpi",
    el("thead", "", el("tr", "", el("th"), el("th", "", t("wb_today")), el("th", "", t("wb_last_30")))),
    el("tbody", "",
      row("wb_sl15", (k) => pct(k.service_level["15"])),
      row("wb_sl20", (k) => pct(k.service_level["20"]), slLow ? "bad" : ""),
      row("wb_abandon", (k) => pct(k.abandon_rate)),
      row("wb_asa", (k) => duration(k.asa_s)),
      row("wb_aht", (k) => duration(k.aht_s))));
}

// the expected wait of the queue's last caller in line (acd/queue_wait.py)
function expected(q) {
  const e = q.expected_wait;
  const unstaffed = e && e.wait_s === null;
  const text = !e ? "—" : unstaffed ? t("wb_no_agent") : duration(e.wait_s);
  const fig = el("div", `wb-figure${!e ? " none" : ""}${unstaffed ? " unstaffed" : ""}`,
    el("b", "wb-expected", text), el("small", "", t("wb_expected")));
  if (e) fig.title = t("wb_expected_of", { n: e.position, waited: duration(e.waited_s) });
  return fig;
}

function tile(q) {
  const alarms = frame.alarms.filter((a) => q.alarms.includes(a.id));
  const longWait = alarms.some((a) => a.kind === "wait_over");
  const art = el("article", `wb-tile${alarms.length ? " alarm" : ""}${q.waiting ? " busy" : ""}`,
    el("h3", "", queueTitle(q.queue)),
    el("div", "wb-tile-main",
      el("div", "wb-figure", el("b", "wb-waiting", String(q.waiting)), el("small", "", t("wb_waiting"))),
      el("div", `wb-figure${longWait ? " bad" : ""}`, el("b", "wb-longest", duration(q.longest_wait_s)), el("small", "", t("wb_longest"))),
      expected(q)),
    el("div", "wb-tile-agents",
      ["ready", "on_call", "wrap_up", "paused"].map((k) =>
        el("span", `a-${k}`, el("b", "", String(q.agents[k] + (k === "on_call" ? q.agents.offered : 0))), ` ${t(`wb_a_${k}`)}`))),
    kpiTable(q, alarms));
  art.dataset.queue = q.queue;
  if (q.ringing || q.callbacks) {
    art.append(el("div", "wb-tile-extra", `${t("wb_ringing")} ${q.ringing} · ${t("wb_callbacks")} ${q.callbacks}`));
  }
  return art;
}

// the agent grid

function fillSelect(select, entries, current) {
  const want = [["", t("wb_all")], ...entries];
  const same = select.options.length === want.length
    && want.every(([v, text], i) => select.options[i].value === v && select.options[i].text === text);
  if (!same) select.replaceChildren(...want.map(([v, text]) => new Option(text, v)));
  select.value = current;
}

function marks(a) {
  const out = [];
  if (a.busy_elsewhere) out.push(el("span", "mark mark-busy", t("wb_busy_elsewhere")));
  if (!a.reachable) out.push(el("span", "mark mark-bad", t("wb_unreachable")));
  const fix = a.correction;
  if (fix) {
    const recent = now() - fix.at < RECENT_FIX_S;
    const m = el("span", `mark mark-fix${recent ? " recent" : ""}`, `⟳ ${t("wb_corrected")} ${clockTime(fix.at)}`);
    m.title = `${t(`wb_fix_${fix.kind}`)} — ${fix.action}`;
    m.dataset.kind = fix.kind;
    out.push(m);
  }
  return out;
}

function agentRow(a) {
  const reason = a.reason ? label(frame.choices.pause_reasons[a.reason] || a.reason) : "";
  const wish = a.after_call ? `${t("after_call")}: ${t(a.after_call === "pause" ? "paused" : a.after_call)}` : "";
  const badge = el("span", "state-badge small", t(a.state));
  badge.dataset.state = a.state;
  const since = el("td", "wb-in-state num", duration(now() - a.since));
  since.dataset.since = a.since;
  let wait = "—";
  if (a.caller_wait_s !== null) wait = duration(a.state === "offered" ? a.caller_wait_s + now() - frame.at : a.caller_wait_s);
  const button = el("button", "wb-act", t("wb_actions"));
  button.type = "button";
  button.addEventListener("click", () => actions.openAgent(a.agent));
  const tr = el("tr", a.alarms.length ? "alarm" : "",
    el("td", "wb-who", el("b", "", a.agent), " ", el("span", "muted", a.name)),
    el("td", "wb-state", badge, reason ? el("span", "wb-reason", reason) : null,
      wish ? el("span", "wb-wish muted", wish) : null, marks(a)),
    since,
    el("td", "", a.queue ? queueTitle(a.queue) : "—"),
    el("td", "num", wait),
    el("td", "num", String(a.calls_today)),
    el("td", "", button));
  tr.dataset.agent = a.agent;
  tr.dataset.state = a.state;
  return tr;
}

function drawAgents() {
  fillSelect($("f-queue"), Object.keys(frame.choices.queues).map((q) => [q, queueTitle(q)]), filters.queue);
  fillSelect($("f-state"), STATES.map((st) => [st, t(st)]), filters.state);
  const shown = frame.agents
    .filter((a) => !filters.queue || a.queues.includes(filters.queue))
    .filter((a) => !filters.state || a.state === filters.state);
  $("agent-count").textContent = t("wb_shown", { n: shown.length, of: frame.agents.length });
  const rows = shown.map(agentRow);
  if (!rows.length) rows.push(el("tr", "", Object.assign(el("td", "muted", t("wb_no_agents")), { colSpan: 7 })));
  $("agents").tBodies[0].replaceChildren(...rows);
}

// alarms and waiting calls

function subject(sub) {
  const [kind, name] = sub.split(/:(.*)/s);
  if (kind === "queue") return queueTitle(name);
  if (kind === "agent") {
    const a = frame.agents.find((r) => r.agent === name);
    return `${t("seat")} ${name}${a ? ` ${a.name}` : ""}`;
  }
  return t({ centre: "wb_centre", calendar: "wb_calendar" }[sub] ?? "wb_ami");
}

function alarmItem(a) {
  const what = t(`wb_alarm_${a.kind}`) + (a.detail ? ` (${t(a.detail)})` : "");
  const figures = a.kind === "service_level_below"
    ? `${Math.round(a.value)}% < ${a.threshold}%`
    : a.kind === "calendar_ends"
      ? t("wb_days_left", { n: Math.max(0, Math.floor(a.value)) })
      : `${duration(a.value)} > ${duration(a.threshold)}`;
  const li = el("li", "alarm", el("b", "", subject(a.subject)), el("span", "", what),
    el("span", "muted num", `${figures} · ${clockTime(a.raised_at ?? a.since)}`));
  li.dataset.alarm = a.id;
  li.dataset.kind = a.kind;
  return li;
}

function drawAlarms() {
  const items = frame.alarms.map(alarmItem);
  $("alarm-count").textContent = frame.alarms.length ? String(frame.alarms.length) : "";
  document.body.classList.toggle("alarmed", frame.alarms.length > 0);
  $("alarms").replaceChildren(...(items.length ? items : [el("li", "muted", t("wb_no_alarms"))]));
}

function callRow(c) {
  const prio = el("span", "prio", t(c.priority));
  prio.dataset.priority = c.priority;
  const waited = el("td", "wb-waited num", duration(now() - c.arrived_at));
  waited.dataset.arrived = c.arrived_at;
  const button = el("button", "wb-act", t("wb_actions"));
  button.type = "button";
  button.addEventListener("click", () => actions.openCall(c.call));
  const tr = el("tr", "",
    el("td", "", c.caller || c.call, c.callback ? el("span", "muted", ` · ${t("callback")}`) : null,
      c.state !== "waiting" ? el("span", "muted", ` · ${t(`wb_call_${c.state}`)}`) : null),
    el("td", "", queueTitle(c.queue)), el("td", "", prio), waited, el("td", "", button));
  tr.dataset.call = c.call;
  tr.dataset.state = c.state;
  return tr;
}

function drawCalls() {
  $("call-count").textContent = frame.calls.length ? String(frame.calls.length) : "";
  const rows = frame.calls.map(callRow);
  if (!rows.length) rows.push(el("tr", "", Object.assign(el("td", "muted", t("wb_no_calls")), { colSpan: 5 })));
  $("calls").tBodies[0].replaceChildren(...rows);
}

function draw() {
  if (!frame) return;
  drawCentre();
  $("queues").replaceChildren(...frame.queues.map(tile));
  drawAgents();
  drawAlarms();
  drawCalls();
  actions.refresh();
}

// between frames: the clock and the times in state tick

function tick() {
  $("clock").textContent = clockTime(now(), true);
  for (const td of document.querySelectorAll("td[data-since]")) td.textContent = duration(now() - Number(td.dataset.since));
  for (const td of document.querySelectorAll("td[data-arrived]")) td.textContent = duration(now() - Number(td.dataset.arrived));
}

function onFrame(f) {
  if (f.type === "welcome") offset = f.server_time - Date.now() / 1000;
  else if (f.type === "wallboard") {
    frame = f;
    draw();
    today.onFrame(f);
    broadcast.onFrame(f);
  }
  else if (f.type === "alarm" && frame) {
    const rest = frame.alarms.filter((a) => a.id !== f.alarm.id);
    frame.alarms = f.event === "raised" ? [...rest, { ...f.alarm, raised_at: f.alarm.since }] : rest;
    drawAlarms();
  }
}

function main() {
  apply();
  switcher($("lang"), () => {
    document.title = `${t("wallboard")} · ${t("app")}`;
    draw();
    broadcast.redraw();
    today.redraw();
  });
  document.title = `${t("wallboard")} · ${t("app")}`;
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/crm/logout"); } catch { /* gone already */ }
    endSession();
    location.assign("/");
  });
  if (!s) return;
  $("who").textContent = s.user?.name || "";
  for (const [id, key] of [["f-queue", "queue"], ["f-state", "state"]]) {
    $(id).addEventListener("change", () => { filters[key] = $(id).value; if (frame) drawAgents(); });
  }
  connect({
    view: "wallboard",
    onFrame,
    onRefused(f) {
      $("refused").textContent = `${t("refused")}: ${f.error}`;
      $("refused").hidden = false;
    },
  });
  tick();
  setInterval(tick, 1000);
}

main();
