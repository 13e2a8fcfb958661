// The emergency broadcast (社区信息发布) from the wallboard: a banner while one is on
// (what callers hear, and until when) and a dialog to set it — a Mandarin and an
// English text and how long — or clear it. The server checks (a 422 names the bad
// field), speaks and audits it (docs/web-api.md: /api/supervisor/broadcast). The
// route gives it at the first load; after that every pushed wallboard frame carries
// it (`broadcast`): a set, clear or expiry from any wallboard shows on all within 1 s.
import { api } from "./api.js";
import { extend, lang, t } from "./i18n.js";
import { toast } from "./wallboard_actions.js";

extend({
  zh: {
    bc_button: "紧急广播", bc_title: "紧急广播（来电先听到）", bc_mandarin: "普通话",
    bc_english: "英语", bc_for: "持续", bc_set: "发布", bc_clear: "撤销",
    bc_on: "广播中", bc_until: "至 {at}", bc_none: "当前无广播",
    bc_minutes: "{n} 分钟", bc_hours: "{n} 小时",
  },
  en: {
    bc_button: "Broadcast", bc_title: "Emergency broadcast (callers hear it first)",
    bc_mandarin: "Mandarin", bc_english: "English", bc_for: "For", bc_set: "Broadcast",
    bc_clear: "Clear", bc_on: "Broadcasting", bc_until: "until {at}", bc_none: "No broadcast",
    bc_minutes: "{n} min", bc_hours: "{n} h",
  },
});

const $ = (id) => document.getElementById(id);
const PATH = "/api/supervisor/broadcast";
const DURATIONS_MIN = [30, 60, 120, 360, 1440];
let current = null;  // the broadcast callers hear, or null

function until(at) {
  return new Date(at * 1000).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN",
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function draw() {
  if (current && current.expires_at * 1000 <= Date.now()) current = null;
  const banner = $("broadcast-banner");
  banner.hidden = !current;
  if (current) {
    $("bc-banner-text").textContent = `${current.mandarin} / ${current.english}`;
    $("bc-banner-until").textContent = t("bc_until", { at: until(current.expires_at) });
  }
  $("bc-state").textContent = current
    ? `${t("bc_on")} · ${t("bc_until", { at: until(current.expires_at) })}` : t("bc_none");
  $("bc-clear").disabled = !current;
  $("broadcast-open").classList.toggle("on", !!current);
}

async function load() {
  try {
    current = (await api("GET", PATH)).broadcast;
  } catch { /* the stale banner says serve is away; keep what we had */ }
  draw();
}

export function setUpBroadcast() {
  const dialog = $("broadcast-dialog");
  $("bc-for").replaceChildren(...DURATIONS_MIN.map((m) => new Option(
    m < 60 ? t("bc_minutes", { n: m }) : t("bc_hours", { n: m / 60 }), String(m))));
  $("bc-for").value = "60";
  $("broadcast-open").addEventListener("click", () => {
    if (current) {
      $("bc-mandarin").value = current.mandarin;
      $("bc-english").value = current.english;
    }
    draw();
    dialog.showModal();
  });
  $("bc-set").addEventListener("click", async () => {
    const body = {
      mandarin: $("bc-mandarin").value,
      english: $("bc-english").value,
      expires_at: Date.now() / 1000 + Number($("bc-for").value) * 60,
    };
    $("bc-set").disabled = true;
    try {
      current = (await api("PUT", PATH, body)).broadcast;
      toast(t("wb_done", { what: t("bc_button") }));
      dialog.close();
    } catch (e) {
      toast(t("wb_failed", { error: e.message }), true);
    } finally {
      $("bc-set").disabled = false;
      draw();
    }
  });
  $("bc-clear").addEventListener("click", async () => {
    try {
      await api("DELETE", PATH);
      current = null;
      toast(t("wb_done", { what: t("bc_clear") }));
      dialog.close();
    } catch (e) {
      toast(t("wb_failed", { error: e.message }), true);
    }
    draw();
  });
  load();
  return {
    redraw: draw,
    onFrame(f) {
      if (!("broadcast" in f)) return;  // a serve from before the push: keep the route's
      current = f.broadcast;
      draw();
    },
  };
}
