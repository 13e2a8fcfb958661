// The log-in page: the CRM's POST /api/crm/login; an agent goes to its desk, a
// supervisor or admin to the wallboard.
import { api, ApiError, endSession, session, startSession } from "./api.js";
import { apply, switcher, t } from "./i18n.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function show(text) { error.textContent = text; error.hidden = !text; }

function home(user) {
  if (user.role === "supervisor" || user.role === "admin") return "/wallboard";
  return "/desk";
}

apply();
switcher(document.getElementById("lang"), () => {
  if (new URLSearchParams(location.search).has("expired")) show(t("expired"));
});
if (new URLSearchParams(location.search).has("expired")) show(t("expired"));
const s = session();
if (s?.user && !new URLSearchParams(location.search).has("expired")) location.assign(home(s.user));

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  show("");
  try {
    endSession();
    const body = await api("POST", "/api/crm/login", {
      name: document.getElementById("name").value.trim(),
      password: document.getElementById("password").value,
    });
    startSession(body);
    location.assign(home(body.user));
  } catch (e) {
    show(e instanceof ApiError ? `${t("login_failed")}: ${e.message}` : String(e));
  }
});
