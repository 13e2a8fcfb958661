// Today on the wallboard: per interval (15 min) the calls offered, answered and
// abandoned, and the service level at 20 s, for the centre or one queue — the rows
// of GET /api/wallboard/intervals (acd/intervals.py, as `hotline report`), drawn
// as a small SVG by hand: stacked bars (answered, abandoned, the rest: overflowed
// or sent elsewhere) on the left scale, the service level as a line on 0–100 %.
// Loaded at once, every 60 s, and soon after a pushed frame shows today's counts
// moved (at most every 5 s).
import { api } from "./api.js";
import { extend, label, t } from "./i18n.js";

extend({
  zh: {
    td_title: "今日走势", td_centre: "全中心", td_answered: "接通", td_abandoned: "放弃",
    td_other: "其他", td_sl: "20秒服务水平", td_offered: "来电", td_none: "今日暂无来电",
    td_sum: "来电 {offered} · 接通 {answered} · 放弃 {abandoned}",
  },
  en: {
    td_title: "Today", td_centre: "Centre", td_answered: "Answered", td_abandoned: "Abandoned",
    td_other: "Other", td_sl: "SL 20 s", td_offered: "Offered", td_none: "No calls yet today",
    td_sum: "{offered} offered · {answered} answered · {abandoned} abandoned",
  },
});

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const EVERY_MS = 60_000;
const AT_MOST_MS = 5_000;
const MIN_BARS = 8;
const KEY = "hotline.wb.today";
const SL_T = 20;

let data = null;        // the route's last answer
let frame = null;       // the last wallboard frame (the queues' titles)
let counts = "";        // today's centre counts in the last frame
let lastLoad = 0, pending = null;

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function hhmm(at) {
  const off = data?.timezone_offset_s ?? 0;
  const m = Math.floor((((at + off) % 86400) + 86400) % 86400 / 60);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function slKey() {
  const ts = data?.service_level_s ?? [SL_T];
  const t20 = ts.includes(SL_T) ? SL_T : ts[ts.length - 1];
  return `service_level_${t20}`;
}

// the selected scope's intervals from the first of today's (or MIN_BARS back) to now,
// the quiet ones filled with zeros
function series(scope) {
  const step = data.interval_s;
  const rows = new Map(data.intervals.filter((r) => r.queue === scope).map((r) => [r.start_s, r]));
  const off = data.timezone_offset_s;
  const nowStart = Math.floor((data.at + off) / step) * step - off;
  const firstAny = Math.min(nowStart, ...data.intervals.map((r) => r.start_s));
  const start = Math.min(firstAny, nowStart - (MIN_BARS - 1) * step);
  const out = [];
  for (let s = start; s <= nowStart; s += step) {
    const r = rows.get(s);
    out.push({
      start_s: s, offered: r?.offered ?? 0, answered: r?.answered ?? 0,
      abandoned: r?.abandoned ?? 0, sl: r ? r[slKey()] : null,
    });
  }
  return out;
}

function niceMax(n) {
  for (const m of [4, 8, 10, 20, 40, 50, 100, 200, 400, 500, 1000, 2000, 5000]) if (n <= m) return m;
  return Math.ceil(n / 1000) * 1000;
}

function draw() {
  const chart = $("today-chart");
  if (!chart || !data) return;
  const scope = $("today-queue").value || "*";
  const box = chart.getBoundingClientRect();
  const W = Math.max(200, Math.round(box.width)), H = Math.max(80, Math.round(box.height));
  const fs = Math.max(10, Math.min(16, H / 9));  // the font, in px: a TV's chart is taller
  const pad = { l: fs * 2.2, r: fs * 2.6, t: fs * 0.6, b: fs * 1.5 };
  const iw = W - pad.l - pad.r, ih = H - pad.t - pad.b;
  const bars = series(scope);
  const top = niceMax(Math.max(1, ...bars.map((b) => b.offered)));
  const bw = iw / bars.length;
  const y = (n) => pad.t + ih - (n / top) * ih;
  const ySl = (x) => pad.t + ih - x * ih;
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const parts = [];
  // scales: calls on the left, the service level on the right
  for (const f of [0, 0.5, 1]) {
    const yy = pad.t + ih - f * ih;
    parts.push(svg("line", { x1: pad.l, x2: W - pad.r, y1: yy, y2: yy, class: "grid" }));
    parts.push(svg("text", { x: pad.l - 4, y: yy + fs * 0.35, "text-anchor": "end", class: "axis" }, String(top * f)));
    parts.push(svg("text", { x: W - pad.r + 4, y: yy + fs * 0.35, class: "axis sl" }, `${f * 100}%`));
  }
  // hours along the bottom, as many as fit
  const perHour = 3600 / data.interval_s;
  const hours = bars.length / perHour;
  const every = [1, 2, 3, 4, 6].find((h) => (hours / h) * fs * 3.2 <= iw) ?? 6;
  bars.forEach((b, i) => {
    const x = pad.l + i * bw;
    const g = svg("g", { "data-start": b.start_s, "data-offered": b.offered, class: "iv" });
    const other = Math.max(0, b.offered - b.answered - b.abandoned);
    let base = 0;
    for (const [n, kind] of [[b.answered, "answered"], [b.abandoned, "abandoned"], [other, "other"]]) {
      if (!n) continue;
      g.append(svg("rect", {
        x: x + bw * 0.12, width: Math.max(1, bw * 0.76), y: y(base + n), height: y(base) - y(base + n),
        class: `bar bar-${kind}`, "data-kind": kind, "data-n": n,
      }));
      base += n;
    }
    const sl = b.sl === null || b.sl === undefined ? "—" : `${Math.round(b.sl * 100)}%`;
    g.append(svg("title", {}, `${hhmm(b.start_s)}  ${t("td_offered")} ${b.offered} · ${t("td_answered")} ${b.answered}`
      + ` · ${t("td_abandoned")} ${b.abandoned} · ${t("td_sl")} ${sl}`));
    g.append(svg("rect", { x, y: pad.t, width: bw, height: ih, class: "hit" }));  // the tooltip's area
    parts.push(g);
    const local = b.start_s + data.timezone_offset_s;
    if (local % (3600 * every) === 0) {
      parts.push(svg("text", { x, y: H - fs * 0.35, class: "axis", "text-anchor": i ? "middle" : "start" }, hhmm(b.start_s)));
    }
  });
  // the service level: a line through the intervals that have one, broken where not
  const over = [];  // drawn over the bars (CSS: no pointer events, the tooltips stay)
  let path = "";
  let pen = false;
  bars.forEach((b, i) => {
    if (b.sl === null || b.sl === undefined) { pen = false; return; }
    const px = pad.l + (i + 0.5) * bw, py = ySl(b.sl);
    path += `${pen ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`;
    pen = true;
    over.push(svg("circle", { cx: px, cy: py, r: Math.max(1.5, Math.min(3, bw / 4)), class: "sl-dot", "data-sl": b.sl }));
  });
  if (path) over.unshift(svg("path", { d: path, class: "sl-line" }));
  parts.push(svg("line", { x1: pad.l, x2: W - pad.r, y1: pad.t + ih, y2: pad.t + ih, class: "base" }));
  const total = bars.reduce((a, b) => ({
    offered: a.offered + b.offered, answered: a.answered + b.answered, abandoned: a.abandoned + b.abandoned,
  }), { offered: 0, answered: 0, abandoned: 0 });
  if (!total.offered) {
    parts.push(svg("text", { x: pad.l + iw / 2, y: pad.t + ih / 2, "text-anchor": "middle", class: "axis none" }, t("td_none")));
  }
  chart.replaceChildren(...parts, ...over);
  chart.dataset.scope = scope;
  chart.dataset.bars = String(bars.length);
  chart.dataset.offered = String(total.offered);
  chart.dataset.answered = String(total.answered);
  chart.dataset.abandoned = String(total.abandoned);
  $("today-sum").textContent = t("td_sum", total);
}

function fillScopes() {
  const select = $("today-queue");
  const queues = frame ? Object.entries(frame.choices.queues) : [];
  const want = [["*", t("td_centre")], ...queues.map(([q, title]) => [q, label(title) || q])];
  const same = select.options.length === want.length
    && want.every(([v, text], i) => select.options[i].value === v && select.options[i].text === text);
  const current = select.value || localStorage.getItem(KEY) || "*";
  if (!same) select.replaceChildren(...want.map(([v, text]) => new Option(text, v)));
  select.value = want.some(([v]) => v === current) ? current : "*";
}

async function load() {
  pending = null;
  lastLoad = Date.now();
  try {
    data = await api("GET", "/api/wallboard/intervals");
  } catch { return; /* the stale banner says serve is away; keep what we had */ }
  draw();
}

function soon() {
  if (pending) return;
  pending = setTimeout(load, Math.max(0, lastLoad + AT_MOST_MS - Date.now()));
}

export function setUpToday() {
  $("today-queue").addEventListener("change", () => {
    localStorage.setItem(KEY, $("today-queue").value);
    draw();
  });
  new ResizeObserver(() => draw()).observe($("today-chart"));
  load();
  setInterval(load, EVERY_MS);
  return {
    onFrame(f) {
      frame = f;
      fillScopes();
      const k = f.centre.today;
      const now = `${k.offered}/${k.answered}/${k.abandoned}`;
      if (counts && now !== counts) soon();
      counts = now;
    },
    redraw() { fillScopes(); draw(); },
  };
}
