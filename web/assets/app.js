// webui console: a hash-routed single page (Status, Apps, Updates,
// Diagnostics, Logs, Settings) in plain JavaScript; Apps lives in apps.js.
// Rules it keeps:
//  - every failure is shown in words on the page, never only in the console;
//  - text from the server goes into the page with textContent, never as HTML;
//  - nothing is loaded from anywhere but this server (it works offline).
"use strict";
(function () {
  const root = document.documentElement;
  const THEME_KEY = "webui-theme";

  // The theme applies before the page paints: this script is in <head>.
  function storedTheme() {
    try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
  }
  function applyTheme(t) {
    if (t === "light" || t === "dark") root.dataset.theme = t;
    else delete root.dataset.theme;
    const dark = effectiveTheme() === "dark";
    document.querySelectorAll('meta[name="theme-color"]').forEach((m) => {
      if (t) m.setAttribute("media", "all"); // a chosen theme wins over the system's
      m.setAttribute("content", dark ? "#0f1115" : "#0f766e");
    });
  }
  function effectiveTheme() {
    const t = root.dataset.theme;
    if (t) return t;
    return window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  applyTheme(storedTheme());

  // ---- small helpers ------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // h builds an element: h("p", {class: "x"}, "text", child, ...). Strings
  // become text nodes, so server data can never turn into markup.
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const k of kids.flat()) {
      if (k === undefined || k === null || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function kv(dl, rows) {
    clear(dl);
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === "") continue;
      dl.append(h("dt", null, k), h("dd", null, v));
    }
  }
  function showMsg(el, text, kind) {
    if (!text) { el.hidden = true; el.textContent = ""; return; }
    el.hidden = false;
    el.className = "msg" + (kind ? " " + kind : "");
    clear(el);
    el.append(text);
  }
  function fmtDuration(s) {
    s = Math.max(0, Math.floor(s));
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d) return d + "d " + hh + "h " + m + "m";
    if (hh) return hh + "h " + m + "m";
    if (m) return m + "m " + sec + "s";
    return sec + "s";
  }
  function fmtTime(iso) {
    if (!iso) return "";
    const t = new Date(iso);
    if (isNaN(t)) return String(iso);
    const today = new Date().toDateString() === t.toDateString();
    return today ? t.toLocaleTimeString() : t.toLocaleString();
  }
  function fmtBytes(n) {
    if (!(n >= 0)) return "?";
    if (n < 1024) return n + " B";
    if (n < 1 << 20) return (n / 1024).toFixed(0) + " KiB";
    return (n / (1 << 20)).toFixed(1) + " MiB";
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ---- banners -------------------------------------------------------------

  function banner(text) {
    $("banner-text").textContent = text;
    $("banner").hidden = false;
  }
  function offline(text, kind) {
    const el = $("offline");
    if (!text) { el.hidden = true; return; }
    el.className = "banner " + (kind || "warn");
    el.textContent = text;
    el.hidden = false;
  }
  window.addEventListener("error", (e) => {
    banner("Something went wrong in the page: " + (e.message || (e.error && e.error.message) || "unknown error") + ". Reload to recover.");
  });
  window.addEventListener("unhandledrejection", (e) => {
    const r = e.reason;
    if (r && r.handled) return;
    banner("Something went wrong: " + (r && r.message ? r.message : String(r)));
  });

  // ---- API -----------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, data) {
      super(message);
      this.status = status;
      this.data = data || {};
    }
  }
  let csrf = null;
  async function csrfToken() {
    if (csrf) return csrf;
    const d = await api("/api/csrf");
    csrf = d.token;
    return csrf;
  }
  // api calls the server and returns its JSON, or throws an ApiError whose
  // message says in words what went wrong.
  async function api(path, opts) {
    opts = opts || {};
    const method = opts.method || "GET";
    const headers = { Accept: "application/json" };
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    if (method !== "GET") headers["X-CSRF-Token"] = await csrfToken();
    let r;
    try {
      r = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "The server is unreachable (" + e.message + "). Is webui running? Try `webui ctl status` in Termux.");
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (r.status === 403 && data && /CSRF/.test(data.error || "") && !opts.retried) {
      csrf = null; // the server restarted: a new process has a new token
      return api(path, Object.assign({}, opts, { retried: true }));
    }
    if (r.status === 401 && data && data.login) {
      needLogin();
      throw new ApiError(401, data.error || "Login required", data);
    }
    if (!r.ok) {
      const msg = (data && data.error) || ("HTTP " + r.status + " " + r.statusText + (text && !data ? ": " + text.slice(0, 200) : ""));
      throw new ApiError(r.status, msg, data);
    }
    return data;
  }
  async function health() {
    const r = await fetch("/health?deep=1", { cache: "no-store" });
    return r.json(); // 503 (degraded) still carries the document
  }

  // ---- connection watch and restarts --------------------------------------

  const state = { health: null, restarting: false, page: null, authed: false };

  function setConn() {
    const c = $("conn");
    const hh = state.health;
    if (state.restarting) { c.className = "chip info"; c.textContent = "restarting…"; return; }
    if (!hh) { c.className = "chip bad"; c.textContent = "unreachable"; return; }
    c.className = "chip " + (hh.status === "ok" ? "ok" : "warn");
    c.textContent = "v" + hh.version + " · " + hh.status;
  }
  let pollTimer = null;
  async function pollHealth() {
    clearTimeout(pollTimer);
    try {
      state.health = await health();
      if (!state.restarting) offline(null);
    } catch (e) {
      state.health = null;
      if (!state.restarting) offline("The server is unreachable: " + e.message + ". Retrying every 5 seconds. Is webui running? `webui ctl status` tells.");
    }
    setConn();
    pollTimer = setTimeout(pollHealth, 5000);
    return state.health;
  }

  // waitForRestart polls /health until a process started after the old one
  // answers, and returns its document.
  async function waitForRestart(old, onTick) {
    const t0 = Date.now();
    for (;;) {
      await sleep(700);
      const secs = Math.round((Date.now() - t0) / 1000);
      try {
        const hh = await health();
        if (hh.started_at !== old.started_at || hh.pid !== old.pid) return hh;
        if (onTick) onTick(secs, true);
      } catch (e) {
        if (onTick) onTick(secs, false);
      }
    }
  }
  async function restartServer(msgEl) {
    const old = state.health || (await health());
    showMsg(msgEl, "Asking webui to restart…");
    let res;
    try {
      res = await api("/api/restart", { method: "POST", body: {} });
    } catch (e) {
      showMsg(msgEl, "Restart refused: " + e.message, "bad");
      return;
    }
    state.restarting = true;
    setConn();
    const how = res && res.strategy ? " (" + res.strategy + " strategy)" : "";
    offline("Restarting webui" + how + "… the page reconnects by itself.", "info");
    showMsg(msgEl, "Restarting" + how + "…");
    const hh = await waitForRestart(old, (s, up) => {
      showMsg(msgEl, "Restarting" + how + "… " + s + " s" + (up ? " (old process still answering)" : " (waiting for the new process)"));
    });
    state.restarting = false;
    state.health = hh;
    csrf = null;
    offline(null);
    setConn();
    // Sessions and the CSRF token belong to the old process: check in
    // again, and reload the page's data from the new one.
    if (await checkSession() && state.page) {
      const page = state.page;
      if (page.leave) page.leave();
      try { await page.enter(); } catch (e) { /* the page shows its own errors */ }
    }
    showMsg(msgEl, "Restarted: pid " + hh.pid + ", version " + hh.version + ", started " + fmtTime(hh.started_at) + ".", "ok");
  }

  // ---- login ----------------------------------------------------------------

  function needLogin() {
    if (!$("page-login").hidden) {
      $("login-pw-row").hidden = !state.passwordSet;
      $("login-nopw").hidden = !!state.passwordSet;
      return;
    }
    state.authed = false;
    if (state.page && state.page.leave) state.page.leave();
    state.page = null;
    document.querySelectorAll(".page").forEach((p) => (p.hidden = true));
    document.body.classList.add("locked");
    // The password form only when there is a password; the link always.
    $("login-pw-row").hidden = !state.passwordSet;
    $("login-nopw").hidden = !!state.passwordSet;
    $("page-login").hidden = false;
    if (state.passwordSet) $("login-pw").focus();
  }
  async function checkSession() {
    let s;
    try {
      s = await api("/api/session");
    } catch (e) {
      offline("The server is unreachable: " + e.message);
      return false;
    }
    state.passwordSet = s.password_set;
    if (!s.authenticated) {
      needLogin();
      return false;
    }
    state.authed = true;
    return true;
  }
  async function login(ev) {
    ev.preventDefault();
    const pw = $("login-pw").value;
    const err = $("login-err");
    err.textContent = "";
    if (!pw) { err.textContent = "Enter the password."; return; }
    try {
      await api("/api/login", { method: "POST", body: { password: pw } });
    } catch (e) {
      err.textContent = e.status === 401 ? "Wrong password. Try again." : e.message;
      $("login-pw").select();
      return;
    }
    $("login-pw").value = "";
    $("page-login").hidden = true;
    document.body.classList.remove("locked");
    state.authed = true;
    route();
  }

  // ---- minimal, safe markdown -------------------------------------------

  // md renders release notes: headings, paragraphs, lists, code blocks,
  // inline code, bold and http(s) links. It builds DOM nodes from text, so
  // nothing in the notes can become markup or script.
  function md(src) {
    const out = document.createDocumentFragment();
    const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
    let para = [], list = null, code = null;
    const flushPara = () => { if (para.length) { out.append(h("p", null, inline(para.join(" ")))); para = []; } };
    const flushList = () => { if (list) { out.append(list); list = null; } };
    for (const line of lines) {
      if (code) {
        if (/^\s*```/.test(line)) { out.append(h("pre", null, h("code", null, code.join("\n")))); code = null; }
        else code.push(line);
        continue;
      }
      if (/^\s*```/.test(line)) { flushPara(); flushList(); code = []; continue; }
      let m;
      if ((m = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line))) { flushPara(); flushList(); out.append(h("h4", null, inline(m[1]))); continue; }
      if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
        flushPara();
        const tag = /\d/.test(m[1]) ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== tag) { flushList(); list = h(tag); }
        list.append(h("li", null, inline(m[2])));
        continue;
      }
      if (!line.trim()) { flushPara(); flushList(); continue; }
      if (list && /^\s+\S/.test(line)) { list.lastChild.append(" ", inline(line.trim())); continue; }
      flushList();
      para.push(line.trim());
    }
    if (code) out.append(h("pre", null, h("code", null, code.join("\n"))));
    flushPara(); flushList();
    return out;
  }
  function inline(text) {
    const frag = document.createDocumentFragment();
    const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>()]+)/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) frag.append(text.slice(last, m.index));
      if (m[1] !== undefined) frag.append(h("code", null, m[1]));
      else if (m[2] !== undefined) frag.append(h("strong", null, m[2]));
      else {
        const href = m[4] || m[5];
        frag.append(h("a", { href, rel: "noopener noreferrer", target: "_blank" }, m[3] || m[5]));
      }
      last = re.lastIndex;
    }
    if (last < text.length) frag.append(text.slice(last));
    return frag;
  }

  // ---- Doctor cards on the Status page ---------------------------------------

  // spanWords and freezeWords say a freeze as internal/diag's FreezeWords does.
  function spanWords(s) {
    s = Math.round(s);
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    const hr = Math.floor(s / 3600);
    return hr + " h " + Math.floor((s - hr * 3600) / 60) + " min";
  }
  function freezeWords(f, android) {
    const at = new Date(f.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
    const d = spanWords(f.duration_s);
    if (f.kind === "sleep") return "The device slept for " + d + " at " + at + ", and webui with it";
    if (android) return "Frozen for " + d + " at " + at + " while Termux was in the background";
    return "Frozen for " + d + " at " + at + " (the process was stopped: SIGSTOP, a cgroup freezer or docker pause)";
  }
  const doctorCards = {
    report: null, at: 0, loading: false,
    // load fetches the checks at most once a minute: they run getprop.
    async load() {
      if (this.loading || (this.report && Date.now() - this.at < 60000)) return;
      this.loading = true;
      try {
        this.report = await api("/api/doctor?offline=1");
        this.at = Date.now();
      } catch (e) {
        if (e.status !== 401) banner("Could not run the doctor checks: " + e.message);
      } finally { this.loading = false; }
      this.render();
    },
    render() {
      const ul = clear($("st-doctor"));
      const checks = (this.report && this.report.checks) || [];
      const mark = { ok: "✓", warn: "!", fail: "✗" };
      for (const c of checks) {
        ul.append(h("li", { "data-check": c.id }, h("span", { class: "mark " + (c.status === "ok" ? "ok" : c.status === "warn" ? "warn" : "bad") }, mark[c.status] || "?"),
          h("span", null, h("b", null, c.id), " — ", c.summary, c.fix ? h("span", { class: "fix" }, " Fix: ", inline(c.fix)) : "")));
      }
      this.renderFreeze();
    },
    // renderFreeze says the last freeze in words, with the fix.
    renderFreeze() {
      const f = state.health && state.health.last_freeze;
      const card = $("st-freeze");
      if (!f) { card.hidden = true; return; }
      const android = !!(statusPage.platform && statusPage.platform.android && statusPage.platform.android.value);
      const chk = this.report && this.report.checks.find((c) => c.id === "freezes");
      let fix = chk && chk.fix;
      if (!fix) fix = f.kind === "sleep" || !android ? "Keep the device awake while webui must answer (`termux-wake-lock` on Termux)." :
        "Run `termux-wake-lock`; set Termux's battery usage to \"Unrestricted\"; on Android 14+ `adb shell settings put global cached_apps_freezer disabled`.";
      $("st-freeze").querySelector("h3").textContent = f.kind === "sleep" ? "Slept" : "Frozen";
      $("st-freeze-text").textContent = freezeWords(f, android);
      clear($("st-freeze-fix")).append("Fix: ", inline(fix));
      card.hidden = false;
    },
  };

  // ---- Status ---------------------------------------------------------------

  const statusPage = {
    timer: null, tick: null, platform: null,
    enter() {
      this.load();
      this.timer = setInterval(() => this.load(), 5000);
      this.tick = setInterval(() => this.renderUptime(), 1000);
    },
    leave() { clearInterval(this.timer); clearInterval(this.tick); },
    async load() {
      const [hh, pl] = await Promise.allSettled([pollHealth(), api("/api/platform")]);
      if (hh.value) this.renderHealth(hh.value);
      else this.renderDown();
      if (pl.status === "fulfilled") this.renderPlatform(pl.value);
      else if (pl.reason && pl.reason.status !== 401 && hh.value) banner("Could not load the platform report: " + pl.reason.message);
      doctorCards.renderFreeze();
      doctorCards.load();
    },
    renderDown() {
      $("st-dot").className = "dot bad";
      $("st-state").textContent = state.restarting ? "Restarting…" : "Unreachable";
      $("st-sub").textContent = state.restarting ? "Waiting for the new process." : "The server does not answer. It may be stopped or restarting.";
    },
    renderHealth(hh) {
      const ok = hh.status === "ok";
      $("st-dot").className = "dot " + (ok ? "ok" : "warn");
      $("st-state").textContent = ok ? "Running" : "Degraded";
      this.hh = hh;
      this.seen = Date.now();
      this.renderUptime();
      kv($("st-server"), [
        ["Version", hh.version], ["PID", String(hh.pid)], ["Started", fmtTime(hh.started_at)],
        ["Goroutines", hh.goroutines], ["Open files", hh.open_fds], ["Requests", hh.inflight !== undefined ? String(hh.inflight) : ""],
      ]);
      const ul = clear($("st-checks"));
      const checks = Object.entries(hh.checks || {});
      if (!checks.length) ul.append(h("li", null, h("span", { class: "muted" }, "No checks reported.")));
      for (const [name, c] of checks.sort()) {
        ul.append(h("li", null, h("span", { class: "mark " + (c.ok ? "ok" : "bad") }, c.ok ? "✓" : "✗"),
          h("span", null, h("b", null, name.replace(/_/g, " ")), " — ", c.detail)));
      }
      const r = hh.restart || {};
      $("st-strategy").textContent = r.strategy || "unknown";
      $("st-why").textContent = r.why || "";
    },
    renderUptime() {
      const hh = this.hh;
      if (!hh) return;
      const up = hh.uptime_s + (Date.now() - this.seen) / 1000;
      $("st-sub").textContent = "Version " + hh.version + " · up " + fmtDuration(up) + " · pid " + hh.pid;
    },
    renderPlatform(p) {
      this.platform = p;
      const yes = (f) => (f && f.value ? "yes" : "no");
      kv($("st-platform"), [
        ["OS / arch", p.goos + " / " + p.goarch],
        ["Termux", yes(p.termux) + (p.prefix ? " (" + p.prefix + ")" : "")],
        ["Android", yes(p.android) + (p.android_version ? ", version " + p.android_version : "")],
        ["Android group", p.cgroup && p.cgroup.app],
        ["PRoot", yes(p.proot)],
        ["Supervisor", p.supervisor],
      ]);
      const w = p.watchdog;
      if (!w) kv($("st-watchdog"), [["State", "unknown"]]);
      else kv($("st-watchdog"), [
        ["Running", w.running ? "yes, pid " + w.pid : "no"],
        ["Last action", w.last_action || "none recorded"],
        ["At", fmtTime(w.at)],
        ["Next start", fmtTime(w.next_start)],
      ]);
      const hints = clear($("st-hints"));
      for (const hint of p.hints || []) {
        const open = this.openHints && this.openHints.has(hint.id);
        const d = h("details", { class: "card hint", "data-hint": hint.id, open }, h("summary", null, h("h4", null, hint.title)), h("p", null, inline(hint.text)));
        d.addEventListener("toggle", () => { this.openHints = this.openHints || new Set(); if (d.open) this.openHints.add(hint.id); else this.openHints.delete(hint.id); });
        hints.append(d);
      }
    },
  };
  let restartArmed = null;
  function onRestartClick() {
    const b = $("restart-btn");
    if (!restartArmed) {
      b.textContent = "Tap again to restart";
      b.classList.add("danger");
      restartArmed = setTimeout(() => { restartArmed = null; b.textContent = "Restart"; b.classList.remove("danger"); }, 4000);
      return;
    }
    clearTimeout(restartArmed);
    restartArmed = null;
    b.textContent = "Restart";
    b.classList.remove("danger");
    b.disabled = true;
    restartServer($("restart-msg")).finally(() => { b.disabled = false; });
  }

  // ---- Updates ------------------------------------------------------------

  const BUSY = ["downloading", "verifying", "installing", "restarting", "confirming"];
  const STATE_TEXT = {
    idle: "No update running", downloading: "Downloading", verifying: "Verifying the signature and checksum",
    installing: "Installing", restarting: "Restarting into the new version", confirming: "Confirming the new version is healthy",
    done: "Updated", failed: "Update failed", rolled_back: "Rolled back",
  };
  const updatesPage = {
    es: null, checked: null, unavailable: false, watching: false,
    async enter() {
      let st;
      try {
        st = await api("/api/updates/status");
      } catch (e) {
        if (e.status === 404) return this.showUnavailable(e.message);
        showMsg($("up-msg"), "Could not read the update status: " + e.message, "bad");
        return;
      }
      this.unavailable = false;
      $("up-check").disabled = false;
      this.renderStatus(st);
      if (BUSY.includes(st.state)) this.follow(st);
      else if (this.watching && st.state !== "idle") {
        // The update ended while this page could not see it (a login
        // after the restart): give its outcome, not the old check.
        this.finish(st);
        return;
      }
      // A check answered by another version of the server is stale.
      if (this.checked && state.health && this.checked.current !== state.health.version) this.checked = null;
      if (!this.checked) this.check(false);
      else this.renderCheck(this.checked);
    },
    leave() { this.closeStream(); },
    showUnavailable(why) {
      this.unavailable = true;
      kv($("up-info"), [["Current", state.health ? state.health.version : ""]]);
      showMsg($("up-msg"), "Updates are unavailable on this server (" + why + "). Update with your package manager instead: `pkg upgrade webui` or `apt upgrade webui`.", "warn");
      $("up-check").disabled = true;
      $("up-apply").hidden = true;
    },
    async check(force) {
      const b = $("up-check");
      b.disabled = true;
      showMsg($("up-msg"), "Checking for updates…");
      try {
        this.checked = await api("/api/updates/check" + (force ? "?force=1" : ""));
        this.renderCheck(this.checked);
      } catch (e) {
        if (e.status === 404) return this.showUnavailable(e.message);
        showMsg($("up-msg"), "The update check failed: " + e.message, "bad");
      } finally {
        b.disabled = this.unavailable;
      }
    },
    renderCheck(c) {
      kv($("up-info"), [
        ["Current", c.current], c.apt ? ["Updated by", "apt: " + c.apt.command] : ["Latest", c.latest || "unknown"],
        ["Target", c.target], ["Checked", fmtTime(c.checked_at)],
      ]);
      const apply = $("up-apply");
      // apt keeps this installation current (webui-repo): one updater, not two.
      if (c.apt) showMsg($("up-msg"), "webui is installed from its apt repository (" + c.apt.sources + "). Update it with " + c.apt.command + ".", "ok");
      else if (c.error) showMsg($("up-msg"), "The release feed could not be read: " + c.error, "bad");
      else if (c.available) showMsg($("up-msg"), "Version " + c.latest + " is available.", "ok");
      else showMsg($("up-msg"), "webui is up to date.", "ok");
      apply.hidden = !c.available || this.watching;
      apply.textContent = "Install " + (c.latest || "");
      apply.onclick = null;
      const notes = $("up-notes");
      clear(notes);
      $("up-notes-card").hidden = !c.notes;
      if (c.notes) notes.append(md(c.notes));
    },
    renderStatus(st) {
      const card = $("up-progress-card");
      if (!st || st.state === "idle") { card.hidden = true; return; }
      card.hidden = false;
      $("up-state").textContent = STATE_TEXT[st.state] || st.state;
      const p = $("up-progress");
      const pr = st.progress || {};
      if (st.state === "downloading" && pr.total > 0) {
        p.max = pr.total; p.value = pr.bytes;
      } else if (BUSY.includes(st.state)) {
        p.removeAttribute("value"); // indeterminate
      } else {
        p.max = 1; p.value = 1;
      }
      p.hidden = !BUSY.includes(st.state);
      let text = "";
      if (st.state === "downloading") text = fmtBytes(pr.bytes) + (pr.total ? " of " + fmtBytes(pr.total) : "");
      if (st.state === "done") text = "Updated " + st.from + " → " + st.to + (st.updated_at ? " at " + fmtTime(st.updated_at) : "") + ".";
      else if (st.state === "rolled_back") text = "The update to " + (st.to || "the new version") + " was rolled back: " + (st.message || "no reason given") + ". " + (st.from || "The old version") + " is running.";
      else if (st.state === "failed") text = "The update failed: " + (st.message || "no reason given") + ". The running version was not changed.";
      else if (st.message) text = (text ? text + " · " : "") + st.message;
      if (st.state !== "done" && st.state !== "failed" && st.state !== "rolled_back" && st.from && st.to) text = st.from + " → " + st.to + (text ? " · " + text : "");
      const pt = $("up-progress-text");
      pt.textContent = text;
      pt.className = st.state === "done" ? "msg ok" : st.state === "failed" || st.state === "rolled_back" ? "msg bad" : "muted";
      if (st.updated_at) pt.title = "as of " + fmtTime(st.updated_at);
    },
    async apply(force) {
      const b = $("up-apply");
      b.disabled = true;
      let st;
      try {
        st = await api("/api/updates/apply", { method: "POST", body: force ? { force: true } : {} });
      } catch (e) {
        b.disabled = false;
        if (e.status === 409 && /stream/i.test(e.message)) {
          showMsg($("up-msg"), "Update held back: " + e.message + " Tap again to install anyway.", "warn");
          b.textContent = "Install anyway";
          b.onclick = () => { b.onclick = null; this.apply(true); };
          return;
        }
        showMsg($("up-msg"), "The update was refused: " + e.message, "bad");
        return;
      }
      b.hidden = true;
      showMsg($("up-msg"), null);
      this.renderStatus(st);
      this.follow(st);
    },
    // follow shows live progress over server-sent events, and carries on
    // across the restart: EventSource reconnects by itself, and /health
    // says when the new process answers.
    follow(st) {
      this.watching = true;
      const from = (st && st.from) || (state.health && state.health.version);
      const startedAt = state.health && state.health.started_at;
      const pid = state.health && state.health.pid;
      this.closeStream();
      const es = new EventSource("/api/updates/status?stream=1");
      this.es = es;
      const onStatus = (ev) => {
        let s;
        try { s = JSON.parse(ev.data); } catch (e) { return; }
        this.renderStatus(s);
        if (s.state === "restarting") { state.restarting = true; setConn(); offline("webui is restarting into " + (s.to || "the new version") + "… the page reconnects by itself.", "info"); }
        if (!BUSY.includes(s.state) && s.state !== "idle") this.finish(s);
      };
      es.addEventListener("status", onStatus);
      es.onmessage = onStatus;
      es.onerror = () => {
        if (this.es !== es) return;
        if (es.readyState === EventSource.CLOSED) {
          // The server answered with an error (401, 404): poll instead.
          this.closeStream();
          this.pollAfterRestart(from, startedAt, pid);
        } else if (this.watching) {
          $("up-progress-text").textContent = "Reconnecting to the server…";
        }
      };
      this.pollAfterRestart(from, startedAt, pid);
    },
    async pollAfterRestart(from, startedAt, pid) {
      if (this.polling) return;
      this.polling = true;
      try {
        while (this.watching) {
          await sleep(1000);
          let hh;
          try { hh = await health(); } catch (e) { continue; }
          if (hh.started_at === startedAt && hh.pid === pid) continue;
          // A new process answers: read the final word from it.
          state.health = hh;
          state.restarting = false;
          csrf = null;
          offline(null);
          setConn();
          let st;
          try { st = await api("/api/updates/status"); } catch (e) { if (e.status === 401) return; continue; }
          this.renderStatus(st);
          if (!BUSY.includes(st.state)) { this.finish(st); return; }
          startedAt = hh.started_at; pid = hh.pid; // confirming: wait for done
        }
      } finally {
        this.polling = false;
      }
    },
    finish(st) {
      this.watching = false;
      this.closeStream();
      state.restarting = false;
      offline(null);
      if (st.state === "done") {
        showMsg($("up-msg"), "Updated " + st.from + " → " + st.to + ". Reload the page to load the new console.", "ok");
        kv($("up-info"), [["Current", st.to], ["Previous", st.from]]);
        $("up-progress-card").hidden = true;
        $("up-notes-card").hidden = true;
        $("up-reload").hidden = false;
      }
      else if (st.state === "rolled_back") showMsg($("up-msg"), "The update was rolled back: " + (st.message || "no reason given"), "bad");
      else if (st.state === "failed") showMsg($("up-msg"), "The update failed: " + (st.message || "no reason given"), "bad");
      this.checked = null;
      pollHealth();
    },
    closeStream() { if (this.es) { this.es.close(); this.es = null; } },
  };

  // ---- Diagnostics ----------------------------------------------------------

  const VERDICT = {
    running: ["running", "ok"], clean_exit: ["clean exit", ""], signal: ["signal", "info"], crash: ["crash", "bad"],
    killed_in_restart_window: ["killed in restart window", "bad"], died_in_startup: ["died in startup", "bad"],
    died_before_listening: ["died before listening", "bad"], killed_untraced: ["killed untraced", "bad"],
    corrupt_record: ["corrupt record", "warn"],
  };
  const diagPage = {
    async enter() {
      const list = $("diag-list");
      showMsg($("diag-msg"), null);
      let lts;
      try {
        lts = await api("/api/diag");
      } catch (e) {
        showMsg($("diag-msg"), "Could not load the lifetimes: " + e.message, "bad");
        return;
      }
      clear(list);
      if (!lts || !lts.length) {
        list.append(h("li", { class: "card muted" }, "No lifetimes recorded yet (diagnostics may be off)."));
        return;
      }
      for (const lt of lts) list.append(this.item(lt));
    },
    item(lt) {
      const [label, kind] = VERDICT[lt.verdict] || [lt.verdict, "warn"];
      const body = h("div", { class: "body" }, h("p", { class: "muted" }, "Loading…"));
      const det = h("details", { class: "lt", "data-id": lt.id },
        h("summary", null,
          h("span", { class: "when" }, fmtTime(lt.started_at)),
          h("span", { class: "chip " + kind }, label),
          h("span", { class: "sum" }, lt.summary + " · lived " + fmtDuration(lt.lived_s) + (lt.version ? " · v" + lt.version : ""))),
        body);
      let loaded = false;
      det.addEventListener("toggle", async () => {
        if (!det.open || loaded) return;
        loaded = true;
        try {
          this.details(body, await api("/api/diag?id=" + encodeURIComponent(lt.id)));
        } catch (e) {
          loaded = false;
          clear(body).append(h("p", { class: "msg bad" }, "Could not load this lifetime: " + e.message));
        }
      });
      return h("li", null, det);
    },
    details(body, lt) {
      clear(body);
      const dl = h("dl", { class: "kv" });
      kv(dl, [
        ["PID", String(lt.pid)], ["Version", lt.version], ["Started", fmtTime(lt.started_at)], ["Ended", fmtTime(lt.ended_at)],
        ["Lived", fmtDuration(lt.lived_s)], ["Address", lt.addr], ["Reason", lt.reason],
        ["Signals", (lt.signals || []).join(", ")], ["Panics", lt.panics ? String(lt.panics) : ""],
        ["Restart of", lt.restart_of], ["Record", lt.record],
      ]);
      body.append(dl);
      if (lt.hint) body.append(h("p", { class: "msg warn" }, lt.hint));
      if (lt.evidence && lt.evidence.length) body.append(h("h4", null, "Evidence"), h("ul", null, lt.evidence.map((e) => h("li", null, e))));
      if (lt.crash) body.append(h("h4", null, "Crash output and stacks"), h("pre", null, lt.crash));
      if (lt.events && lt.events.length) {
        body.append(h("h4", null, "Events (" + lt.events.length + ")"),
          h("pre", null, lt.events.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join("\n")));
      }
    },
    leave() {},
  };

  // ---- Logs -----------------------------------------------------------------

  const MAX_LOG_LINES = 1000;
  // followLog opens a server-sent log stream (one line per message) and
  // says what happens to it through the on.* callbacks; on.current(es)
  // tells whether the stream is still the one shown.
  function followLog(url, on) {
    const es = new EventSource(url);
    es.onopen = () => on.state("live", "ok");
    es.onmessage = (ev) => on.line(ev.data);
    es.addEventListener("failure", (ev) => {
      let m = ev.data;
      try { m = JSON.parse(ev.data); } catch (e) { /* as is */ }
      on.msg("The log stream stopped: " + m);
    });
    es.onerror = () => {
      if (!on.current(es)) return;
      if (es.readyState === EventSource.CLOSED) {
        on.state("stopped", "bad");
        on.closed();
      } else {
        on.state("reconnecting…", "warn");
      }
    };
    on.state("connecting…", "");
    return es;
  }
  // appendLines adds rows to a log view, keeps at most MAX_LOG_LINES, and
  // follows the end if the view was at the end.
  function appendLines(view, rows) {
    const atEnd = view.scrollTop + view.clientHeight >= view.scrollHeight - 30;
    const empty = view.querySelector(".logempty");
    if (empty) empty.remove();
    view.append(...rows);
    while (view.childElementCount > MAX_LOG_LINES) view.firstElementChild.remove();
    if (atEnd) view.scrollTop = view.scrollHeight;
  }
  const logsPage = {
    es: null, paused: false, held: [],
    enter() { this.open(); },
    leave() { this.close(); },
    open() {
      this.close();
      const lvl = $("log-level").value;
      clear($("log-view")).append(h("div", { class: "logempty" }, "Waiting for log lines at " + lvl + " or above…"));
      showMsg($("log-msg"), null);
      this.es = followLog("/api/logs?stream=1&lines=200&level=" + encodeURIComponent(lvl), {
        line: (l) => this.add(l),
        state: (text, kind) => this.setState(text, kind),
        msg: (text) => showMsg($("log-msg"), text, "bad"),
        closed: () => this.explain(),
        current: (es) => this.es === es,
      });
    },
    async explain() {
      try {
        await api("/api/logs?lines=0");
        showMsg($("log-msg"), "The log stream was closed by the server. Reopen the page to retry.", "bad");
      } catch (e) {
        showMsg($("log-msg"), "The log cannot be shown: " + e.message, "bad");
      }
    },
    close() { if (this.es) { this.es.close(); this.es = null; } },
    setState(text, kind) { const c = $("log-state"); c.textContent = text; c.className = "chip " + kind; },
    add(line) {
      if (this.paused) {
        this.held.push(line);
        if (this.held.length > MAX_LOG_LINES) this.held.shift();
        $("log-pause").textContent = "Resume (" + this.held.length + ")";
        return;
      }
      this.render([line]);
    },
    render(lines) { appendLines($("log-view"), lines.map((l) => this.row(l))); },
    row(line) {
      let m;
      try { m = JSON.parse(line); } catch (e) { return h("div", { class: "logline" }, line); }
      if (!m || typeof m !== "object") return h("div", { class: "logline" }, line);
      const t = m.time ? new Date(m.time) : null;
      const ts = t && !isNaN(t) ? t.toLocaleTimeString([], { hour12: false }) + "." + String(t.getMilliseconds()).padStart(3, "0") : "";
      const lv = String(m.level || "");
      const fields = Object.keys(m).filter((k) => k !== "time" && k !== "level" && k !== "msg").sort()
        .map((k) => k + "=" + (typeof m[k] === "string" ? (/[\s"=]/.test(m[k]) || !m[k] ? JSON.stringify(m[k]) : m[k]) : JSON.stringify(m[k])));
      return h("div", { class: "logline" }, h("span", { class: "t" }, ts), h("span", { class: "lv " + lv }, lv.slice(0, 4).toUpperCase()),
        String(m.msg || ""), fields.length ? h("span", { class: "f" }, " " + fields.join(" ")) : null);
    },
    togglePause() {
      this.paused = !this.paused;
      const b = $("log-pause");
      if (this.paused) {
        b.textContent = "Resume";
        this.setState("paused", "info");
      } else {
        b.textContent = "Pause";
        this.render(this.held);
        this.held = [];
        this.setState(this.es && this.es.readyState === EventSource.OPEN ? "live" : "reconnecting…", this.es && this.es.readyState === EventSource.OPEN ? "ok" : "warn");
      }
    },
  };

  // ---- Settings -------------------------------------------------------------

  const FIELDS = {
    addr: { label: "Listen address" },
    restart_mode: { label: "Restart mode", options: ["auto", "exec", "delayed", "supervisor"] },
    restart_delay: { label: "Restart delay", placeholder: "15s" },
    update_channel: { label: "Update channel", placeholder: "stable" },
    update_interval: { label: "Update check interval", placeholder: "12h" },
    diagnostics: { label: "Diagnostics", options: ["on", "off"] },
  };
  function splitAddr(a) {
    const i = a.lastIndexOf(":");
    if (i < 0) return [a, ""];
    return [a.slice(0, i).replace(/^\[|\]$/g, ""), a.slice(i + 1)];
  }
  function joinAddr(host, port) {
    host = host.trim();
    if (host.includes(":")) host = "[" + host + "]";
    return host + ":" + port.trim();
  }
  function sourceText(s) {
    if (s.override) return ["Set by " + s.override + ", which wins over the config file: a value saved here applies only without it.", "override"];
    if (s.pending) return ["Saved as " + s.file + "; running with " + s.value + " until webui restarts.", "pending"];
    if (s.source.startsWith("file:")) return ["From the config file, line " + s.source.slice(5) + ".", ""];
    return ["Default (" + (s.default || "none") + ").", ""];
  }
  const settingsPage = {
    doc: null, initial: {},
    async enter() {
      showMsg($("set-msg"), null);
      showMsg($("pw-msg"), null);
      try {
        this.render(await api("/api/settings"));
      } catch (e) {
        showMsg($("set-msg"), "Could not load the settings: " + e.message, "bad");
      }
    },
    leave() {},
    render(doc) {
      this.doc = doc;
      $("set-file").textContent = "Saved to " + doc.config_file + ". Changes apply after a restart.";
      if (doc.file_error) showMsg($("set-msg"), "The config file has an error, so nothing can be saved until it is fixed: " + doc.file_error, "bad");
      const box = clear($("set-fields"));
      this.initial = {};
      for (const s of doc.settings) {
        const f = FIELDS[s.key] || { label: s.key };
        const cur = s.file !== null && s.file !== undefined ? s.file : s.value;
        this.initial[s.key] = cur;
        let control;
        if (s.key === "addr") {
          const [host, port] = splitAddr(cur);
          control = h("div", { class: "addr" },
            h("input", { id: "f-addr-host", value: host, "aria-label": "Bind address", list: "addr-hosts", autocomplete: "off", autocapitalize: "off", spellcheck: "false" }),
            h("input", { id: "f-addr-port", value: port, "aria-label": "Port", inputmode: "numeric", autocomplete: "off" }),
            h("datalist", { id: "addr-hosts" }, h("option", { value: "127.0.0.1" }, "this device only"), h("option", { value: "0.0.0.0" }, "every network (needs a password)")));
        } else if (f.options) {
          const sel = h("select", { id: "f-" + s.key });
          for (const o of f.options) sel.append(h("option", { value: o }, o));
          sel.value = f.options.includes(cur) ? cur : f.options[0];
          control = sel;
        } else {
          control = h("input", { id: "f-" + s.key, value: cur, placeholder: f.placeholder, autocomplete: "off", autocapitalize: "off", spellcheck: "false" });
        }
        const [src, srcKind] = sourceText(s);
        box.append(h("div", { class: "field", "data-key": s.key },
          h("label", { for: s.key === "addr" ? "f-addr-host" : "f-" + s.key }, f.label),
          control,
          h("p", { class: "help" }, s.help.charAt(0).toUpperCase() + s.help.slice(1) + ". Allowed: " + s.allowed + "."),
          h("p", { class: "src " + srcKind }, src),
          h("p", { class: "field-err", id: "err-" + s.key, role: "alert" })));
      }
      $("set-restart").hidden = !(doc.pending && doc.pending.length);
      this.renderPassword(doc);
    },
    renderPassword(doc) {
      $("pw-current-row").hidden = !doc.password_set;
      $("pw-save").textContent = doc.password_set ? "Change password" : "Set password";
      let st = doc.password_set ? "A password is set: every browser must log in." : "No password is set: browsers sign in with the link `webui url` prints. Set one to log in from devices without it.";
      if (doc.password_source === "env" || doc.password_source === "flag") st += " It comes from the " + (doc.password_source === "env" ? "WEBUI_PASSWORD_HASH variable" : "--password-hash flag") + ", so it cannot be changed here.";
      $("pw-status").textContent = st;
      $("session-card").hidden = false; // token-link sessions log out too
    },
    value(key) {
      if (key === "addr") return joinAddr($("f-addr-host").value, $("f-addr-port").value);
      return $("f-" + key).value.trim();
    },
    async save(ev) {
      ev.preventDefault();
      if (!this.doc) return;
      const changes = {};
      for (const s of this.doc.settings) {
        const v = this.value(s.key);
        if (v !== this.initial[s.key]) changes[s.key] = v;
        const err = $("err-" + s.key);
        err.textContent = "";
        err.parentElement.querySelectorAll("input,select").forEach((i) => i.removeAttribute("aria-invalid"));
      }
      if (!Object.keys(changes).length) { showMsg($("set-msg"), "Nothing changed."); return; }
      const btn = $("set-save");
      btn.disabled = true;
      try {
        const res = await api("/api/settings", { method: "PUT", body: changes });
        this.render(res.settings);
        showMsg($("set-msg"), res.message, res.overridden && res.overridden.length ? "warn" : "ok");
        $("set-restart").hidden = !res.restart_needed;
      } catch (e) {
        const fields = (e.data && e.data.fields) || {};
        for (const [k, msg] of Object.entries(fields)) {
          const err = $("err-" + k);
          if (!err) continue;
          err.textContent = msg;
          err.parentElement.querySelectorAll("input,select").forEach((i) => i.setAttribute("aria-invalid", "true"));
        }
        showMsg($("set-msg"), "Not saved: " + e.message, "bad");
        const first = Object.keys(fields)[0];
        if (first) { const c = document.querySelector('[data-key="' + first + '"] input, [data-key="' + first + '"] select'); if (c) c.focus(); }
      } finally {
        btn.disabled = false;
      }
    },
    async setPassword(ev) {
      ev.preventDefault();
      const cur = $("pw-current").value, nw = $("pw-new").value, rep = $("pw-repeat").value;
      ["current", "new", "repeat"].forEach((k) => ($("pw-" + k + "-err").textContent = ""));
      showMsg($("pw-msg"), null);
      if (nw.length < 8) { $("pw-new-err").textContent = "Use at least 8 characters."; return; }
      if (nw !== rep) { $("pw-repeat-err").textContent = "The two passwords differ."; return; }
      if (this.doc && this.doc.password_set && !cur) { $("pw-current-err").textContent = "Enter the current password."; return; }
      try {
        const res = await api("/api/password", { method: "POST", body: { current: cur, new: nw } });
        ["current", "new", "repeat"].forEach((k) => ($("pw-" + k).value = ""));
        showMsg($("pw-msg"), res.message, "ok");
        this.doc.password_set = true;
        state.passwordSet = true;
        this.renderPassword(this.doc);
      } catch (e) {
        const fields = (e.data && e.data.fields) || {};
        for (const [k, msg] of Object.entries(fields)) { const el = $("pw-" + k + "-err"); if (el) el.textContent = msg; }
        showMsg($("pw-msg"), "Not saved: " + e.message, "bad");
      }
    },
  };

  // ---- router and start -------------------------------------------------------

  const PAGES = { status: statusPage, updates: updatesPage, diag: diagPage, logs: logsPage, settings: settingsPage };
  // Pages in their own files (assets/apps.js) register here, before start.
  window.webui = {
    h, clear, kv, showMsg, fmtDuration, fmtTime, banner, api, followLog, appendLines,
    register(name, page) { PAGES[name] = page; },
    current: (page) => state.page === page,
  };
  function route() {
    if (!state.authed) return;
    const name = (/^#\/(\w+)/.exec(location.hash) || [])[1];
    const key = PAGES[name] ? name : "status";
    const page = PAGES[key];
    if (state.page && state.page !== page && state.page.leave) state.page.leave();
    document.querySelectorAll(".page").forEach((p) => (p.hidden = p.id !== "page-" + key));
    document.querySelectorAll(".tabs a").forEach((a) => {
      if (a.dataset.page === key) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    document.title = "webui · " + (key === "diag" ? "Diagnostics" : key[0].toUpperCase() + key.slice(1));
    if (state.page === page && page.sync) page.sync(); // a sub-view's hash (#/apps/NAME)
    if (state.page !== page) {
      state.page = page;
      window.scrollTo(0, 0);
      Promise.resolve(page.enter()).catch((e) => { if (e.status !== 401) banner("The page failed to load: " + e.message); });
    }
  }

  async function start() {
    $("banner-close").addEventListener("click", () => { $("banner").hidden = true; });
    $("theme").addEventListener("click", () => {
      const next = effectiveTheme() === "dark" ? "light" : "dark";
      try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* private mode: not remembered */ }
      applyTheme(next);
    });
    $("login-form").addEventListener("submit", login);
    $("restart-btn").addEventListener("click", onRestartClick);
    $("up-check").addEventListener("click", () => updatesPage.check(true));
    $("up-reload").addEventListener("click", () => location.reload());
    $("up-apply").addEventListener("click", (ev) => { if (!ev.currentTarget.onclick) updatesPage.apply(false); });
    $("diag-reload").addEventListener("click", () => diagPage.enter());
    $("log-level").addEventListener("change", () => logsPage.open());
    $("log-pause").addEventListener("click", () => logsPage.togglePause());
    $("log-clear").addEventListener("click", () => { clear($("log-view")); logsPage.held = []; });
    $("set-form").addEventListener("submit", (ev) => settingsPage.save(ev));
    $("set-restart").addEventListener("click", () => restartServer($("set-msg")));
    $("pw-form").addEventListener("submit", (ev) => settingsPage.setPassword(ev));
    $("logout").addEventListener("click", async () => {
      try { await api("/api/logout", { method: "POST", body: {} }); } catch (e) { banner("Logout failed: " + e.message); return; }
      needLogin();
    });
    window.addEventListener("hashchange", route);
    pollHealth();
    for (let i = 0; ; i++) {
      let s;
      try { s = await api("/api/session"); } catch (e) {
        offline("The server is unreachable: " + e.message + " Retrying…");
        await sleep(Math.min(5000, 1000 * (i + 1)));
        continue;
      }
      offline(null);
      state.passwordSet = s.password_set;
      if (location.hash === "#signin-failed") {
        $("login-link-bad").hidden = false;
        history.replaceState(null, "", location.pathname);
      }
      if (s.authenticated) { state.authed = true; route(); }
      else needLogin();
      return;
    }
  }
  document.addEventListener("DOMContentLoaded", start);
})();
