// The desk's 回访 follow-up: "call back" on a closed case (its id). The seat is rung
// first, then the resident (POST /api/desk/{agent}/followup); the follow-up's state
// is read again whenever the seat's call changes (a desk frame), never polled.
import { api } from "./api.js";
import { extend, t } from "./i18n.js";

extend({
  zh: {
    followup: "回访", case_id: "工单ID", call_back: "回访致电", followup_asked: "已安排回访",
    followup_off: "未开启回访", "phase_due": "待拨打", "phase_calling": "拨打中", "phase_done": "已结束",
    "outcome_reached": "已接通", "outcome_no-answer": "未接通", "outcome_refused": "拒绝回访",
    attempts: "次数",
  },
  en: {
    followup: "Follow-up", case_id: "Case id", call_back: "Call back", followup_asked: "Follow-up placed",
    followup_off: "Follow-ups are off", "phase_due": "due", "phase_calling": "calling",
    "phase_done": "over", "outcome_reached": "reached", "outcome_no-answer": "no answer",
    "outcome_refused": "refused", attempts: "attempts",
  },
});

const $ = (id) => document.getElementById(id);
let current = null;  // the follow-up this desk asked for last

function show(el, text) { el.textContent = text || ""; el.hidden = !text; }

function describe(f) {
  const outcome = f.outcome ? ` · ${t(`outcome_${f.outcome}`)}` : "";
  return `${t("followup_asked")} ${f.id}: ${t(`phase_${f.phase}`)}${outcome}`
    + ` · ${t("attempts")} ${f.attempts.length}`;
}

async function ask(agent, ev) {
  ev.preventDefault();
  show($("followup-ok"), ""); show($("followup-error"), "");
  const id = Number($("followup-case").value.trim());
  try {
    const r = await api("POST", `/api/desk/${encodeURIComponent(agent)}/followup`, { case: id });
    current = r.followup;
    show($("followup-ok"), describe(current));
    $("followup-ok").dataset.followup = current.id;
    $("followup-form").reset();
  } catch (e) {
    show($("followup-error"), e.message);
  }
}

// Read the follow-up again (the desk's call changed: rung, answered, over).
export async function refreshFollowup() {
  if (!current || current.phase === "done") return;
  try {
    current = (await api("GET", `/api/followups/${encodeURIComponent(current.id)}`)).followup;
    show($("followup-ok"), describe(current));
    $("followup-ok").dataset.phase = current.phase;
    $("followup-ok").dataset.outcome = current.outcome || "";
  } catch { /* shown at the next change */ }
}

export async function installFollowup(agent) {
  const form = $("followup-form");
  try {
    await api("GET", "/api/followups/config");
  } catch {
    form.hidden = true;  // serve runs without [followup]
    return;
  }
  form.hidden = false;
  form.addEventListener("submit", (ev) => ask(agent, ev));
}
