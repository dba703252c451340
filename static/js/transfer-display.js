// The display page: live status (WebSocket, polling as the fallback), countdown, renewal.
(function () {
  "use strict";
  var root = document.getElementById("transfer-display");
  if (!root) return;
  // Status labels come translated from the page (data-label-<status>).
  var LABELS = {};
  ["initialized", "retrieved", "confirmed", "declined", "expired"].forEach(function (status) {
    LABELS[status] = root.getAttribute("data-label-" + status) || status;
  });
  var FINAL = { confirmed: true, declined: true };
  var state = {
    id: root.dataset.sessionId,
    token: root.dataset.token,
    status: root.dataset.status,
    expiresAt: new Date(root.dataset.expiresAt),
  };
  var socket = null;
  var pollTimer = null;
  var renewing = false;

  function matchingCode(id) {
    var n = BigInt("0x" + id.replace(/-/g, "")) % 10000n;
    return String(n).padStart(4, "0");
  }

  function show(status) {
    state.status = status;
    root.dataset.status = status;
    var badge = document.getElementById("transfer-status");
    badge.textContent = LABELS[status] || status;
    // The outcome panels (success, declined) replace the QR code once the phone has answered.
    Array.prototype.forEach.call(root.querySelectorAll("[data-outcome]"), function (panel) {
      panel.hidden = panel.getAttribute("data-outcome") !== status;
    });
    if (FINAL[status]) stopLive();
    if (status === "expired") renew();
  }

  function tick() {
    var left = Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000));
    var el = document.getElementById("transfer-countdown");
    el.textContent = FINAL[state.status] ? "—" : Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left === 0 && !FINAL[state.status] && state.status !== "expired") poll();
  }

  function poll() {
    fetch("/api/v1/session/" + state.id + "/status", { headers: { "X-Session-Token": state.token }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.session_id === state.id && body.status !== state.status) show(body.status);
      })
      .catch(function () {});
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(poll, 2000);
    if (root.dataset.live !== "websocket") root.dataset.live = "polling";
  }

  function stopLive() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
  }

  function connect() {
    if (!("WebSocket" in window)) return startPolling();
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/session/" + state.id + "?token=" + encodeURIComponent(state.token);
    var opened = false;
    try { socket = new WebSocket(url); } catch (e) { return startPolling(); }
    var forId = state.id;
    socket.onopen = function () {
      opened = true;
      root.dataset.live = "websocket";
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
      poll();
    };
    socket.onmessage = function (message) {
      if (forId !== state.id) return;
      try { var data = JSON.parse(message.data); } catch (e) { return; }
      if (data.status && data.status !== state.status) show(data.status);
    };
    socket.onerror = function () { startPolling(); };
    socket.onclose = function () {
      socket = null;
      root.dataset.live = "polling";
      if (!FINAL[state.status]) startPolling();
    };
    // If the socket does not open quickly, poll meanwhile.
    setTimeout(function () { if (!opened) startPolling(); }, 3000);
  }

  function renew() {
    if (renewing) return;
    renewing = true;
    fetch("/api/v1/session/" + state.id + "/renew", { method: "POST", headers: { "X-Session-Token": state.token } })
      // 201: a new session; 200: another page renewed it first and this is the same replacement.
      .then(function (r) { return r.status === 201 || r.status === 200 ? r.json() : null; })
      .then(function (body) {
        renewing = false;
        if (!body) return;
        stopLive();
        state.id = body.session_id;
        state.token = body.session_token;
        state.expiresAt = new Date(body.expires_at);
        root.dataset.sessionId = state.id;
        document.getElementById("transfer-qr").src =
          "/session/" + state.id + "/qr.svg?token=" + encodeURIComponent(state.token);
        document.getElementById("transfer-code").textContent = matchingCode(state.id);
        history.replaceState(null, "", "/session/" + state.id + "/display?token=" + encodeURIComponent(state.token));
        show(body.status);
        connect();
      })
      .catch(function () { renewing = false; });
  }

  setInterval(tick, 1000);
  tick();
  if (state.status === "expired") renew(); else if (!FINAL[state.status]) connect();
})();
