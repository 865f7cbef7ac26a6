// Minimal status view: polls /health and shows it. Every failure is shown in
// words on the page, never only in the browser console.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  function fmtUptime(s) {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }
  function show(h) {
    $("error").hidden = true;
    $("badge").textContent = h.status;
    $("badge").className = "badge " + (h.status === "ok" ? "ok" : "bad");
    $("h-status").textContent = h.status;
    $("h-version").textContent = h.version;
    $("h-pid").textContent = h.pid;
    $("h-uptime").textContent = fmtUptime(h.uptime_s);
    $("h-started").textContent = new Date(h.started_at).toLocaleString();
    const p = h.platform || {};
    $("h-platform").textContent = Object.keys(p).map((k) => k + ": " + p[k]).join(", ");
    $("h-restart").textContent = h.restart ? h.restart.strategy + (h.restart.why ? " (" + h.restart.why + ")" : "") : "";
  }
  function fail(msg) {
    $("error").hidden = false;
    $("error").textContent = msg;
    $("badge").textContent = "unreachable";
    $("badge").className = "badge bad";
  }
  async function poll() {
    try {
      const r = await fetch("/health?deep=1", { cache: "no-store" });
      const h = await r.json();
      show(h);
      if (r.status !== 200) fail("Server is degraded: " + Object.entries(h.checks || {}).filter(([, c]) => !c.ok).map(([k, c]) => k + ": " + c.detail).join("; "));
    } catch (e) {
      fail("Server unreachable: " + e.message + ". Is webui running? Try `webui ctl start`.");
    }
  }
  poll();
  setInterval(poll, 5000);
})();
