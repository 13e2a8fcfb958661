// The session (token in sessionStorage) and JSON requests with the bearer token.
// A 401 anywhere ends the session and goes back to the log-in page.
const TOKEN = "hotline.token", USER = "hotline.user", EXPIRES = "hotline.expires";

export function session() {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return null;
  const expires = Number(sessionStorage.getItem(EXPIRES) || 0);
  if (expires && expires * 1000 < Date.now()) { endSession(true); return null; }
  return { token, user: JSON.parse(sessionStorage.getItem(USER) || "null"), expires };
}

export function startSession(body) {
  sessionStorage.setItem(TOKEN, body.token);
  sessionStorage.setItem(USER, JSON.stringify(body.user));
  sessionStorage.setItem(EXPIRES, String(body.expires_at ?? 0));
}

export function endSession(expired = false) {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
  sessionStorage.removeItem(EXPIRES);
  if (expired) location.assign("/?expired=1");
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, url, body) {
  const s = session();
  const headers = { "Content-Type": "application/json" };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => null);
  if (r.status === 401 && s) endSession(true);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}
