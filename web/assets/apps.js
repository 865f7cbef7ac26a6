// The Apps page: the hosted apps (apps.d) with their state and actions,
// and per app (#/apps/NAME) its log followed live and how its processes
// ended. It asks the server for news only while the page is shown and the
// browser tab is visible: a phone in a pocket runs no timers for it.
// Text from the server goes in with textContent (app.js's h), never as HTML.
const { h, clear, kv, showMsg, fmtDuration, fmtTime, api, followLog, appendLines, register } = window.webui;

const POLL_MS = 3000;
const $ = (id) => document.getElementById(id);

const STATE_CHIP = { running: "ok", starting: "info", backoff: "warn", stopped: "", failed: "bad" };
const VERDICT_CHIP = { running: "ok", stopped: "", clean_exit: "", signal: "warn", ended: "warn" };
const ACTIONS = { start: "Start", stop: "Stop", restart: "Restart" };
const BUSY_WORDS = { start: "Starting", stop: "Stopping", restart: "Restarting" };
const DONE_WORDS = { start: "Started", stop: "Stopped", restart: "Restarted" };

function inSeconds(iso) {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return "in " + fmtDuration(s) + " (" + fmtTime(iso) + ")";
}

function exitWords(lt) {
  if (lt.signal) return "signal " + lt.signal;
  if (lt.code !== undefined && lt.code !== null) return "exit code " + lt.code;
  return "";
}

// AppCard is one app's card. It is built once and then updated in place,
// so a refresh never takes the keyboard focus off its buttons.
class AppCard {
  constructor(name, detail) {
    this.name = name;
    this.link = h("a", { href: "#/apps/" + encodeURIComponent(name) }, name);
    this.kind = h("span", { class: "chip" });
    this.state = h("span", { class: "chip state" });
    this.err = h("p", { class: "err", role: "alert", hidden: true });
    this.note = h("p", { class: "muted", hidden: true });
    this.dl = h("dl", { class: "kv" });
    this.msg = h("p", { class: "msg", role: "status", hidden: true });
    this.open = h("a", { class: "btn small", rel: "noopener" }, "Open");
    this.buttons = {};
    for (const [act, label] of Object.entries(ACTIONS)) {
      this.buttons[act] = h("button", { class: "btn small", type: "button", "data-action": act, "aria-label": label + " " + name }, label);
      this.buttons[act].addEventListener("click", () => appsPage.act(name, act));
    }
    this.details = detail ? null : h("a", { class: "btn small", href: "#/apps/" + encodeURIComponent(name), "aria-label": "Log and history of " + name }, "Log & history");
    this.el = h(detail ? "div" : "li", { class: "card app", "data-app": name },
      h("div", { class: "app-head" }, h("h2", null, detail ? name : this.link), this.kind, this.state),
      this.err, this.note, this.dl,
      this.row = h("div", { class: "row" }, this.open, this.buttons.restart, this.buttons.stop, this.buttons.start, this.details),
      this.msg);
  }

  update(st) {
    this.st = st;
    const el = this.el;
    el.dataset.state = st.state;
    el.dataset.pid = String(st.pid || 0);
    el.dataset.restarts = String(st.restarts || 0);
    this.kind.textContent = st.kind || "broken file";
    this.state.textContent = st.state;
    this.state.className = "chip state " + (STATE_CHIP[st.state] || "");
    this.err.hidden = !st.error;
    this.err.textContent = st.error || "";
    this.note.hidden = !st.spec_changed;
    this.note.textContent = st.spec_changed ? "Its file changed since this process started: Reload apps restarts it." : "";
    const proc = st.kind === "process";
    const live = st.state === "running" || st.state === "starting";
    kv(this.dl, [
      ["PID", proc ? (st.pid ? String(st.pid) : "none") : ""],
      ["Uptime", proc && live && st.pid ? fmtDuration(st.uptime || 0) : ""],
      ["Next try", st.state === "backoff" && st.next_try ? inSeconds(st.next_try) : ""],
      ["Restarts", proc ? String(st.restarts || 0) : ""],
      ["Last verdict", st.last_verdict || ""],
      ["Route", st.route || ""],
      ["Port", proc && st.port ? String(st.port) : ""],
    ]);
    this.open.hidden = !st.route || !st.kind;
    this.row.hidden = !st.kind; // a broken file: nothing to open or run
    if (st.route) this.open.setAttribute("href", st.route);
    const busy = appsPage.busy[this.name];
    for (const [act, b] of Object.entries(this.buttons)) {
      b.hidden = !proc;
      b.disabled = !!busy || (act === "start" && live) || (act === "stop" && st.state === "stopped");
      b.textContent = busy === act ? ACTIONS[act] + "…" : ACTIONS[act];
    }
    if (this.details) this.details.hidden = !proc;
    const m = appsPage.msgs[this.name];
    if (m) showMsg(this.msg, m.text, m.kind);
    else showMsg(this.msg, null);
  }
}

// lifetime is one entry of the death history: a summary line, and the
// details (exit, times, the last lines of its log) when opened.
function lifetime(lt, open) {
  const when = lt.ended_at || lt.started_at;
  const line = [lt.ended_at ? "lived " + fmtDuration(lt.lived_s || 0) : "running since " + fmtTime(lt.started_at),
    exitWords(lt), lt.pid ? "pid " + lt.pid : ""].filter(Boolean).join(" · ");
  const body = h("div", { class: "body" },
    lt.hint ? h("p", { class: "muted" }, lt.hint) : null);
  const dl = h("dl", { class: "kv" });
  kv(dl, [
    ["Started", fmtTime(lt.started_at)],
    ["Ended", lt.ended_at ? fmtTime(lt.ended_at) : ""],
    ["Lived", lt.ended_at ? fmtDuration(lt.lived_s || 0) : ""],
    ["Exit", exitWords(lt)],
    ["Ended by webui", lt.reason || ""],
    ["Port", lt.port ? String(lt.port) : ""],
  ]);
  body.append(dl);
  if (lt.tail && lt.tail.length) body.append(h("h4", null, "Its last log lines"), h("pre", null, lt.tail.join("\n")));
  const d = h("details", { class: "lt", open: open },
    h("summary", null, h("span", { class: "when" }, fmtTime(when)),
      h("span", { class: "chip " + (VERDICT_CHIP[lt.verdict] === undefined ? "bad" : VERDICT_CHIP[lt.verdict]) }, lt.verdict),
      h("span", { class: "sum" }, line + (lt.summary && lt.summary !== lt.verdict ? " — " + lt.summary : ""))),
    body);
  return h("li", { "data-key": lt.pid + "@" + lt.started_at }, d);
}

const appsPage = {
  active: false, name: "", gen: 0, timer: null, busy: {}, msgs: {}, cards: new Map(), card: null,
  es: null, histJSON: "", confShown: false, reloading: false, loadErr: null,

  enter() {
    this.active = true;
    this.name = null;
    this.sync();
  },
  leave() {
    this.active = false;
    this.gen++;
    clearTimeout(this.timer);
    this.timer = null;
    this.closeLog();
  },
  // sync shows the view the hash names: #/apps, or #/apps/NAME.
  sync() {
    if (!this.active) return;
    const m = /^#\/apps\/([^/?#]+)/.exec(location.hash);
    let name = "";
    try { name = m ? decodeURIComponent(m[1]) : ""; } catch (e) { name = ""; }
    if (name === this.name) return;
    this.gen++;
    clearTimeout(this.timer);
    this.timer = null;
    this.closeLog();
    this.name = name;
    for (const n of Object.keys(this.msgs)) if (!this.busy[n]) delete this.msgs[n]; // news of the other view
    $("apps-index").hidden = !!name;
    $("app-detail").hidden = !name;
    if (name) {
      document.title = "webui · " + name;
      this.card = new AppCard(name, true);
      clear($("app-card")).append(this.card.el);
      clear($("app-history"));
      this.histJSON = "";
      showMsg($("app-hist-msg"), null);
      this.openLog(name);
    }
    window.scrollTo(0, 0);
    this.refresh();
  },
  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.active && document.visibilityState === "visible") this.timer = setTimeout(() => this.refresh(), POLL_MS);
  },
  onVisibility() {
    if (!this.active) return;
    if (document.visibilityState === "visible") this.refresh();
    else { clearTimeout(this.timer); this.timer = null; }
  },
  async refresh() {
    clearTimeout(this.timer);
    this.timer = null;
    const gen = ++this.gen;
    try {
      if (this.name) await this.refreshOne(gen);
      else await this.refreshAll(gen);
    } catch (e) {
      if (gen !== this.gen) return;
      if (e.status === 401) return; // the login form is shown
      this.setChip("not updated", "bad");
      const where = this.name ? $("app-hist-msg") : $("apps-msg");
      this.loadErr = where;
      if (!this.reloading) showMsg(where, (e.status === 404 && this.name ? "There is no app named " + this.name + " (any more): " : "Could not load the apps: ") + e.message, "bad");
    }
    if (gen === this.gen) this.schedule();
  },
  async refreshAll(gen) {
    const list = await api("/api/apps");
    if (gen !== this.gen) return;
    this.clearLoadErr();
    this.renderList(list);
    this.setChip("updated " + new Date().toLocaleTimeString(), "ok");
  },
  async refreshOne(gen) {
    const d = await api("/api/apps/" + encodeURIComponent(this.name));
    if (gen !== this.gen) return;
    this.clearLoadErr();
    this.card.update(d.status);
    this.renderHistory(d.history || []);
  },
  clearLoadErr() {
    if (this.loadErr && !this.reloading) showMsg(this.loadErr, null);
    this.loadErr = null;
  },
  setChip(text, kind) {
    const c = $("apps-state");
    c.textContent = text;
    c.className = "chip " + kind;
  },

  renderList(list) {
    const ul = $("apps-list");
    const seen = new Set();
    for (const st of list) {
      seen.add(st.name);
      let c = this.cards.get(st.name);
      if (!c) { c = new AppCard(st.name, false); this.cards.set(st.name, c); }
      c.update(st);
    }
    for (const [name, c] of this.cards) if (!seen.has(name)) { c.el.remove(); this.cards.delete(name); }
    // Re-append only when the order differs: moving a node drops its focus.
    const want = list.map((st) => this.cards.get(st.name).el);
    if (want.length !== ul.children.length || want.some((el, i) => ul.children[i] !== el)) ul.append(...want);
    $("apps-empty").hidden = list.length > 0;
    if (!list.length) this.showConfDir();
  },
  // showConfDir names the real config file in the empty state's words.
  async showConfDir() {
    if (this.confShown) return;
    this.confShown = true;
    try {
      const s = await api("/api/settings");
      if (s && s.config_file) $("apps-conf").textContent = s.config_file;
    } catch (e) { this.confShown = false; }
  },
  renderHistory(hist) {
    const j = JSON.stringify(hist);
    if (j === this.histJSON) return; // unchanged: keep what the user opened
    this.histJSON = j;
    const ol = $("app-history");
    const open = new Set([...ol.querySelectorAll("li")].filter((li) => li.firstChild.open).map((li) => li.dataset.key));
    clear(ol);
    if (!hist.length) { ol.append(h("li", { class: "muted" }, "No process of this app has ended yet.")); return; }
    for (const lt of hist) ol.append(lifetime(lt, open.has(lt.pid + "@" + lt.started_at)));
  },

  // act runs start, stop or restart; the app's buttons wait for it.
  async act(name, action) {
    if (this.busy[name]) return;
    const focused = document.activeElement; // disabling the button drops its focus
    this.busy[name] = action;
    this.msgs[name] = { text: BUSY_WORDS[action] + " " + name + "…", kind: "" };
    this.redraw(name);
    try {
      const res = await api("/api/apps/" + encodeURIComponent(name) + "/" + action, { method: "POST", body: {} });
      const st = res.status;
      this.msgs[name] = { text: DONE_WORDS[action] + ": " + name + " is " + st.state + (st.pid ? " (pid " + st.pid + ")" : "") + ".", kind: "ok" };
      delete this.busy[name];
      this.redraw(name, st);
    } catch (e) {
      this.msgs[name] = { text: ACTIONS[action] + " failed: " + e.message, kind: "bad" };
      delete this.busy[name];
      this.redraw(name);
    }
    this.refocus(focused);
    if (this.active) this.refresh();
  },
  // refocus gives the keyboard focus back to the pressed button, or the
  // card's next useful one (Stop done: Start), if nothing else took it.
  refocus(el) {
    const now = document.activeElement;
    if (!el || !el.isConnected || (now && now !== document.body && now !== el)) return; // the user moved on
    const card = el.closest(".app");
    const other = card && card.querySelector("button[data-action=" + ({ stop: "start", start: "stop" }[el.dataset.action] || "restart") + "]");
    const next = [el, other].find((b) => b && !b.disabled && !b.hidden);
    if (next) next.focus();
  },
  redraw(name, st) {
    for (const c of [this.cards.get(name), this.card && this.card.name === name ? this.card : null]) {
      if (c && (st || c.st)) c.update(st || c.st);
    }
  },

  async reload() {
    const btn = $("apps-reload");
    btn.disabled = true;
    this.reloading = true;
    showMsg($("apps-msg"), "Reading apps.d again…");
    try {
      const res = await api("/api/apps/reload", { method: "POST", body: {} });
      const list = res.apps || [], errs = res.errors || [];
      this.renderList(list);
      const n = list.length + (list.length === 1 ? " app" : " apps");
      if (errs.length) {
        const el = $("apps-msg");
        showMsg(el, "Reloaded: " + n + ". " + errs.length + (errs.length === 1 ? " file has an error" : " files have errors") + ":", "bad");
        el.append(h("ul", { class: "errs" }, errs.map((e) => h("li", null, e))));
      } else {
        showMsg($("apps-msg"), "Reloaded: " + n + ", every file is valid.", "ok");
      }
    } catch (e) {
      showMsg($("apps-msg"), "Reload failed: " + e.message, "bad");
    } finally {
      btn.disabled = false;
      this.reloading = false;
    }
  },

  // ---- the app's log, followed live while its view is shown ----
  openLog(name) {
    const view = clear($("app-log"));
    view.append(h("div", { class: "logempty" }, "Waiting for the app's log…"));
    showMsg($("app-log-msg"), null);
    const es = followLog("/api/apps/" + encodeURIComponent(name) + "/logs?stream=1&lines=200", {
      line: (l) => appendLines($("app-log"), [h("div", { class: "logline" }, l)]),
      state: (text, kind) => this.setLogState(text, kind),
      msg: (text) => showMsg($("app-log-msg"), text, "bad"),
      closed: () => this.explainLog(name, es),
      current: (x) => this.es === x,
    });
    this.es = es;
  },
  async explainLog(name, es) {
    try {
      await api("/api/apps/" + encodeURIComponent(name) + "/logs?lines=0");
      if (this.es === es) showMsg($("app-log-msg"), "The log stream was closed by the server. Open the app again to retry.", "bad");
    } catch (e) {
      if (this.es === es) showMsg($("app-log-msg"), "The log cannot be shown: " + e.message, "bad");
    }
  },
  closeLog() { if (this.es) { this.es.close(); this.es = null; } },
  setLogState(text, kind) { const c = $("app-log-state"); c.textContent = text; c.className = "chip " + kind; },

};

register("apps", appsPage);
document.addEventListener("visibilitychange", () => appsPage.onVisibility());
$("apps-reload").addEventListener("click", () => appsPage.reload()); // a module runs once the page is parsed
