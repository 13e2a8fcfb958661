// The reconnecting WebSocket of docs/web-api.md: hello first, then frames; stale
// (greyed, a banner with the time of the last update) when no frame came for 5 s
// or the socket closed; reconnects with backoff 0.5 s doubling to 10 s.
import { t } from "./i18n.js";
import { endSession, session } from "./api.js";

const STALE_AFTER_MS = 5000;

export function connect({ view, agent, onFrame, onRefused }) {
  let backoff = 500, lastFrame = 0, socket = null, stopped = false;
  const banner = document.getElementById("stale");

  function setStale(stale) {
    document.body.classList.toggle("stale", stale);
    if (!banner) return;
    banner.hidden = !stale;
    if (stale) {
      const when = lastFrame ? new Date(lastFrame).toLocaleTimeString() : "—";
      banner.textContent = `${t("stale")} ${when}`;
    }
  }

  function open() {
    const s = session();
    if (!s) { endSession(true); return; }
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    socket = new WebSocket(url);
    socket.onopen = () => {
      const hello = { type: "hello", token: s.token, view };
      if (agent) hello.agent = agent;
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (ev) => {
      const frame = JSON.parse(ev.data);
      if (frame.type === "error") {
        stopped = frame.status !== 401 ? true : stopped;
        if (frame.status === 401) { endSession(true); return; }
        onRefused?.(frame);
        return;
      }
      lastFrame = Date.now();
      backoff = 500;
      setStale(false);
      onFrame(frame);
    };
    socket.onclose = () => {
      setStale(true);
      if (stopped) return;
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  setInterval(() => {
    if (!lastFrame || Date.now() - lastFrame <= STALE_AFTER_MS) return;
    setStale(true);
    // an open socket that says nothing is as good as closed: start over
    if (socket?.readyState === WebSocket.OPEN && Date.now() - lastFrame > 2 * STALE_AFTER_MS) socket.close();
  }, 500);
  open();
  return { close() { stopped = true; socket?.close(); } };
}
