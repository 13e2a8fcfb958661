// The desk's recordings: a case's (or the screen-pop's case's) recordings and
// voicemails, each in an <audio> element. An <audio> cannot send the bearer token, so
// each gets a play ticket first (POST /api/recordings/{id}/ticket): its URL carries a
// short-lived ticket for this user and this recording; the server audits every
// request (the player's range requests too) and refuses what this user may not hear.
import { api } from "./api.js";
import { extend, t } from "./i18n.js";

extend({
  zh: {
    rec_title: "工单录音", rec_case: "工单ID", rec_show: "查看", rec_none: "无可播放的录音",
    rec_recording: "通话录音", rec_voicemail: "留言", rec_call: "通话", rec_delete: "删除",
  },
  en: {
    rec_title: "Recordings", rec_case: "Case id", rec_show: "Show", rec_none: "No recording you may play",
    rec_recording: "Call recording", rec_voicemail: "Voicemail", rec_call: "call", rec_delete: "Delete",
  },
});

const $ = (id) => document.getElementById(id);

function item(rec, audioUrl) {
  const li = document.createElement("li");
  li.className = "recording";
  li.dataset.recordingId = rec.id;
  li.dataset.kind = rec.kind;
  const head = document.createElement("div");
  head.textContent = `${t(`rec_${rec.kind}`)} · ${t("rec_call")} ${rec.call} · `
    + new Date(rec.created_at * 1000).toLocaleString();
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.preload = "none";
  audio.src = audioUrl;
  li.append(head, audio);
  return li;
}

// Show the recordings of case ``id`` the user may play.
export async function showCase(id) {
  const list = $("recordings");
  const error = $("recordings-error");
  $("recordings-case").value = String(id);
  list.replaceChildren();
  error.hidden = true;
  try {
    const { recordings } = await api("GET", `/api/recordings?case=${encodeURIComponent(id)}`);
    for (const rec of recordings) {
      const { audio } = await api("POST", `/api/recordings/${rec.id}/ticket`);
      list.append(item(rec, audio));
    }
    if (!recordings.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = t("rec_none");
      list.append(li);
    }
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

export function initRecordings() {
  $("recordings-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = Number($("recordings-case").value);
    if (id > 0) showCase(id);
  });
}
