// The desk's Transfer control: during a call, hand the caller on to a queue, an
// agent or a department, blind or after a consultation (complete / return).
// The server decides and authorises (POST /api/desk/{agent}/transfer...).
import { api } from "./api.js";
import { extend, t } from "./i18n.js";

extend({
  zh: {
    transfer: "转接", transfer_blind: "直接转接", transfer_attended: "咨询后转接",
    to_queue: "队列", to_agent: "坐席", to_external: "外部部门", do_transfer: "转接",
    consult: "咨询", complete: "完成转接", return_caller: "返回来电",
    consulting: "咨询中", consult_answered: "对方已接听", transferred: "已转接",
  },
  en: {
    transfer: "Transfer", transfer_blind: "Blind", transfer_attended: "Consult first",
    to_queue: "Queue", to_agent: "Agent", to_external: "Department", do_transfer: "Transfer",
    consult: "Consult", complete: "Complete transfer", return_caller: "Back to caller",
    consulting: "Consulting", consult_answered: "they answered", transferred: "Transferred",
  },
});

const $ = (id) => document.getElementById(id);
let targets = { queues: [], agents: [], departments: [], consulting: null };
let agentId = null;
let call = null;      // the call the control is for
let polling = null;

function say(text, error = false) {
  const p = $("xfer-status");
  p.textContent = text || "";
  p.hidden = !text;
  p.className = error ? "error" : "ok";
}

function fillTargets() {
  const kind = $("xfer-kind").value;
  const list = kind === "queue" ? targets.queues : kind === "agent" ? targets.agents : targets.departments;
  const sel = $("xfer-target");
  const keep = sel.value;
  sel.replaceChildren(...list.map((x) => new Option(x, x)));
  if (list.includes(keep)) sel.value = keep;
  const attended = $("xfer-mode").value === "attended";
  $("xfer-go").textContent = t(attended ? "consult" : "do_transfer");
}

function drawConsult() {
  const c = targets.consulting;
  const busy = !!c;
  $("xfer-go").disabled = busy;
  $("xfer-complete").hidden = !busy;
  $("xfer-return").hidden = !busy;
  $("xfer-complete").disabled = !(c && c.answered);
  if (c) say(`${t("consulting")}: ${c.target}${c.answered ? ` — ${t("consult_answered")}` : ""}`);
}

async function refresh() {
  try {
    targets = await api("GET", `/api/desk/${encodeURIComponent(agentId)}/transfer`);
  } catch (e) {
    say(e.message, true);
    return;
  }
  fillTargets();
  drawConsult();
  if (!targets.consulting && polling) { clearInterval(polling); polling = null; }
}

async function post(path, body) {
  try {
    const r = await api("POST", `/api/desk/${encodeURIComponent(agentId)}/transfer${path}`, body);
    return r;
  } catch (e) {
    say(`${t("refused")}: ${e.message}`, true);
    return null;
  }
}

async function go() {
  const mode = $("xfer-mode").value;
  const body = { call, mode, kind: $("xfer-kind").value, target: $("xfer-target").value };
  const r = await post("", body);
  if (!r) return;
  if (mode === "blind") { say(`${t("transferred")}: ${body.target}`); return; }
  await refresh();
  if (!polling) polling = setInterval(refresh, 1000);
}

async function complete() {
  if (await post("/complete", { call })) { say(`${t("transferred")}: ${targets.consulting?.target || ""}`); await refresh(); }
}

async function back() {
  if (await post("/return", { call })) await refresh();
}

export function initTransfer(agent) {
  agentId = agent;
  $("xfer-kind").addEventListener("change", fillTargets);
  $("xfer-mode").addEventListener("change", fillTargets);
  $("xfer-go").addEventListener("click", go);
  $("xfer-complete").addEventListener("click", complete);
  $("xfer-return").addEventListener("click", back);
}

// Shown while the agent is on a call; the targets are read once per call.
export function drawTransfer(desk) {
  const a = desk?.agent;
  const onCall = a?.state === "on-call" && !desk?.offer?.callback;
  $("transfer-card").hidden = !onCall;
  if (!onCall) { call = null; return; }
  if (a.call !== call) {
    call = a.call;
    say("");
    refresh();
  }
}
