// The supervisor's actions from the wallboard (docs/web-api.md): per agent a dialog
// with force pause (a reason), force log-out (confirmed), listen / whisper / barge;
// per waiting call one with "set priority" and "move to queue". The server checks
// and audits each; its refusal is shown as it says it.
import { api } from "./api.js";
import { label, lang, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
let toastTimer = 0;

export function toast(text, bad = false) {
  const box = $("toast");
  box.textContent = text;
  box.classList.toggle("bad", bad);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

function fill(select, entries) {
  select.replaceChildren(...entries.map(([value, text]) => new Option(text, value)));
}

function confirmThen(text, then) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.addEventListener("close", () => { if (dialog.returnValue === "ok") then(); }, { once: true });
  dialog.showModal();
}

async function act(url, body, what) {
  try {
    await api("POST", url, body);
    toast(t("wb_done", { what }));
    return true;
  } catch (e) {
    toast(t("wb_failed", { error: e.message }), true);
    return false;
  }
}

// current(): the last wallboard frame (null before the first).
export function setUpActions(current) {
  const agentDialog = $("agent-dialog"), callDialog = $("call-dialog");
  let agent = null, call = null;  // what the open dialog is about
  const agentUrl = (what) => `/api/supervisor/agents/${encodeURIComponent(agent)}/${what}`;
  const callUrl = (what) => `/api/supervisor/calls/${encodeURIComponent(call)}/${what}`;
  for (const b of document.querySelectorAll(".wb-dialog .wb-close")) {
    b.addEventListener("click", () => b.closest("dialog").close());
  }

  function drawAgent() {
    const f = current();
    const a = f?.agents.find((r) => r.agent === agent);
    $("ad-title").textContent = `${t("seat")} ${agent}${a ? ` · ${a.name}` : ""}`;
    const state = a ? a.state : "logged-out";
    $("ad-state").textContent = t(state) + (a?.reason ? ` · ${label(f.choices.pause_reasons[a.reason] || a.reason)}` : "");
    const fix = a?.correction;
    $("ad-fix").hidden = !fix;
    if (fix) {
      const at = new Date(fix.at * 1000).toLocaleTimeString(lang() === "en" ? "en-GB" : "zh-CN", { hourCycle: "h23" });
      $("ad-fix").textContent = `⟳ ${t("wb_corrected")} ${at}: ${t(`wb_fix_${fix.kind}`)} — ${fix.action}`;
    }
    const onCall = state === "on-call";
    for (const b of agentDialog.querySelectorAll("button[data-spy]")) b.disabled = !onCall;
    $("ad-spy-note").textContent = onCall ? t("wb_spy_rings") : t("wb_spy_only_on_call");
    $("ad-deferred").hidden = !(state === "offered" || state === "on-call");
    $("ad-pause").disabled = !a || state === "paused";
    $("ad-logout").disabled = !a;
  }

  function drawCall() {
    const f = current();
    const c = f?.calls.find((r) => r.call === call);
    $("cd-title").textContent = `${t("wb_col_call")} ${c?.caller || call}`;
    $("cd-state").textContent = c
      ? `${label(f.choices.queues[c.queue]) || c.queue} · ${t(c.priority)} · ${t(`wb_call_${c.state}`)}`
      : "—";
    $("cd-raise").disabled = !c;
    $("cd-move").disabled = !c || c.state !== "waiting";
  }

  function openAgent(id) {
    const f = current();
    if (!f) return;
    agent = id;
    fill($("ad-reason"), Object.entries(f.choices.pause_reasons)
      .filter(([code]) => code !== "no-answer").map(([c, l]) => [c, label(l)]));
    drawAgent();
    agentDialog.showModal();
  }

  function openCall(id) {
    const f = current();
    const c = f?.calls.find((r) => r.call === id);
    if (!c) return;
    call = id;
    fill($("cd-priority"), f.choices.priorities.filter((p) => p !== c.priority).map((p) => [p, t(p)]));
    fill($("cd-queue"), Object.entries(f.choices.queues).filter(([q]) => q !== c.queue)
      .map(([q, title]) => [q, label(title)]));
    drawCall();
    callDialog.showModal();
  }

  $("ad-pause").addEventListener("click", async () => {
    const reason = $("ad-reason").value;
    const text = $("ad-reason").selectedOptions[0]?.text || reason;
    if (await act(agentUrl("pause"), { reason }, `${t("wb_force_pause")} ${agent} (${text})`)) agentDialog.close();
  });
  $("ad-logout").addEventListener("click", () => {
    const a = current()?.agents.find((r) => r.agent === agent);
    confirmThen(t("wb_confirm_logout", { agent, name: a?.name || "" }), async () => {
      if (await act(agentUrl("logout"), {}, `${t("wb_force_logout")} ${agent}`)) agentDialog.close();
    });
  });
  for (const b of agentDialog.querySelectorAll("button[data-spy]")) {
    b.addEventListener("click", async () => {
      const mode = b.dataset.spy;
      if (await act(agentUrl("spy"), { mode }, `${t(`wb_${mode}`)} ${agent}`)) agentDialog.close();
    });
  }
  $("cd-raise").addEventListener("click", async () => {
    const priority = $("cd-priority").value;
    if (await act(callUrl("priority"), { priority }, `${t("wb_set_priority")}: ${t(priority)}`)) callDialog.close();
  });
  $("cd-move").addEventListener("click", async () => {
    const queue = $("cd-queue").value;
    const text = $("cd-queue").selectedOptions[0]?.text || queue;
    if (await act(callUrl("queue"), { queue }, `${t("wb_move")}: ${text}`)) callDialog.close();
  });

  // a frame came: what an open dialog says follows it
  function refresh() {
    if (agentDialog.open) drawAgent();
    if (callDialog.open) drawCall();
  }
  return { openAgent, openCall, refresh };
}
