// Chinese by default, English on request; the choice is kept in localStorage.
// The shared strings are here; a page adds its own with extend().
const KEY = "hotline.lang";

const TEXT = {
  zh: {
    app: "市民热线", login: "登录", logout: "退出", name: "用户名", password: "密码",
    login_failed: "登录失败", expired: "登录已过期，请重新登录", desk: "坐席工作台",
    wallboard: "监控大屏", stale: "连接中断，数据可能已过期 — 最后更新", live: "实时",
    state: "状态", since: "持续", seat: "坐席", "logged-out": "未签入", ready: "就绪",
    offered: "振铃中", "on-call": "通话中", "wrap-up": "话后处理", paused: "小休",
    sign_in: "签入", set_ready: "就绪", pause: "小休", sign_out: "签出",
    ready_after_call: "通话后就绪", pause_after_call: "通话后小休", end_wrapup: "立即结束话后处理",
    after_call: "通话后", reason: "原因", call: "来电", queue: "队列", priority: "优先级",
    waited: "等待", caller: "主叫号码", no_call: "暂无来电", resident: "居民档案",
    unknown_caller: "未找到该号码的居民", id_card: "身份证", address: "网格地址",
    elderly_alone: "独居老人", disability: "残疾人", open_cases: "未办结工单", recent: "最近来电",
    sticky: "您负责的工单", new_case: "新建工单", category: "类别", description: "诉求描述",
    location: "地点", create_case: "创建工单", add_note: "补充到工单", note: "补充内容",
    case_created: "已创建工单", note_added: "已补充", wrapup: "话后处理", ends_in: "剩余",
    disposition: "处理结果", save: "保存", saved: "已保存", my_day: "今日统计",
    answered: "接听", avg_talk: "平均通话", avg_wrapup: "平均话后", paused_time: "小休时长",
    normal: "普通", elderly: "老人", emergency: "紧急", disabled: "残疾", none: "无",
    choose: "请选择", callback: "回拨", refused: "操作被拒绝", not_your_seat: "无权查看该坐席",
    no_seat: "该用户未绑定坐席",
    status_accepted: "已受理", status_dispatched: "已派单", status_signed: "已签收",
    status_returned: "已退回", status_in_progress: "办理中", status_replied: "已回复",
  },
  en: {
    app: "Community Hotline", login: "Log in", logout: "Log out", name: "User name",
    password: "Password", login_failed: "Log-in failed", expired: "Session expired: log in again",
    desk: "Agent desk", wallboard: "Wallboard", stale: "Connection lost, data may be stale — last update",
    live: "Live", state: "State", since: "for", seat: "Seat", "logged-out": "Logged out",
    ready: "Ready", offered: "Ringing", "on-call": "On a call", "wrap-up": "Wrap-up",
    paused: "Paused", sign_in: "Log in to seat", set_ready: "Ready", pause: "Pause",
    sign_out: "Log out of seat", ready_after_call: "Ready after this call",
    pause_after_call: "Pause after this call", end_wrapup: "End wrap-up now",
    after_call: "After the call", reason: "Reason", call: "Call", queue: "Queue",
    priority: "Priority", waited: "Waited", caller: "Caller", no_call: "No call",
    resident: "Resident", unknown_caller: "No resident with this number", id_card: "ID",
    address: "Grid address", elderly_alone: "Elderly, living alone", disability: "Disability",
    open_cases: "Open cases", recent: "Last calls", sticky: "Your case", new_case: "New case",
    category: "Category", description: "Description", location: "Location",
    create_case: "Create case", add_note: "Add to case", note: "Note", case_created: "Case created",
    note_added: "Note added", wrapup: "Wrap-up", ends_in: "ends in", disposition: "Disposition",
    save: "Save", saved: "Saved", my_day: "My day", answered: "Answered", avg_talk: "Avg talk",
    avg_wrapup: "Avg wrap-up", paused_time: "Paused", normal: "Normal", elderly: "Elderly",
    emergency: "Emergency", disabled: "Disabled", none: "none", choose: "Choose…",
    callback: "Callback", refused: "Refused", not_your_seat: "Not your seat",
    no_seat: "This user has no seat",
    status_accepted: "accepted", status_dispatched: "dispatched", status_signed: "signed",
    status_returned: "returned", status_in_progress: "in progress", status_replied: "replied",
  },
};

export function lang() {
  const l = localStorage.getItem(KEY);
  return l === "en" ? "en" : "zh";
}

// `vars` fill "{name}" placeholders: t("confirm_logout", { agent: "2001" }).
export function t(key, vars) {
  const text = TEXT[lang()][key] ?? TEXT.zh[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? "")) : text;
}

// A page's own strings ({ zh: {...}, en: {...} }) beside the shared ones above; a
// key the shared table has already keeps the shared text.
export function extend(table) {
  for (const l of Object.keys(TEXT)) TEXT[l] = { ...table[l], ...TEXT[l] };
}

// A label "休息 Break" from the config: the Chinese part, or the English one.
export function label(text) {
  if (!text) return "";
  const m = /^([^\x00-\x7f][^A-Za-z]*?)\s+([A-Za-z].*)$/.exec(text);
  if (!m) return text;
  return lang() === "en" ? m[2] : m[1];
}

export function apply(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]"))
    el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function switcher(el, onChange) {
  const draw = () => { el.textContent = lang() === "en" ? "中文" : "English"; };
  draw();
  el.addEventListener("click", () => {
    localStorage.setItem(KEY, lang() === "en" ? "zh" : "en");
    draw();
    apply();
    onChange?.();
  });
}

export function duration(s) {
  if (s == null || Number.isNaN(s)) return "—";
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
