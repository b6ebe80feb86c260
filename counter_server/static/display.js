// The lobby display board: follows the office's queue over server-sent events, redraws with no
// reload, and chimes and flashes each new call. A tap on «شروع نمایش» lets the browser play sound.
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board) { return; }
  if (window.__loadedAt === undefined) { window.__loadedAt = Date.now(); }
  window.__chimes = 0;

  var HIGHLIGHT_MS = 8000;
  var RECONNECT_MS = 5000;
  var seenCalls = new Set(Array.prototype.map.call(
    board.querySelectorAll("[data-call-id]"), function (item) { return item.dataset.callId; }));
  var sound = { context: null, buffer: null, element: null };

  // -- drawing ------------------------------------------------------------------------------

  function fill(node, data) {
    node.querySelectorAll("[data-field]").forEach(function (field) {
      var value = data[field.dataset.field];
      field.textContent = value === undefined || value === null ? "" : value;
    });
    return node;
  }

  function item(templateId, data) {
    var node = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
    return fill(node, data);
  }

  function replace(list, nodes) {
    list.replaceChildren.apply(list, nodes);
  }

  function drawServing(serving) {
    replace(board.querySelector("[data-serving]"), serving.map(function (entry) {
      var node = item("serving-item", entry);
      node.classList.toggle("is-called", entry.status === "called");
      return node;
    }));
  }

  function drawCalls(calls, fresh) {
    var list = board.querySelector("[data-calls]");
    var shown = {};
    list.querySelectorAll("[data-call-id]").forEach(function (node) {
      shown[node.dataset.callId] = node; // kept, so that a running flash is not cut short
    });
    replace(list, calls.map(function (call) {
      var id = String(call.id);
      var node = shown[id] ? fill(shown[id], call) : item("call-item", call);
      node.dataset.callId = id;
      if (fresh.has(id)) { flash(node); }
      return node;
    }));
    var latest = board.querySelector("[data-latest]");
    latest.hidden = calls.length === 0;
    board.querySelector("[data-latest-empty]").hidden = calls.length > 0;
    if (calls.length) {
      fill(latest, calls[0]);
      if (fresh.has(String(calls[0].id))) { flash(latest); }
    }
  }

  function drawWaiting(waiting) {
    replace(board.querySelector("[data-waiting]"), waiting.map(function (queue) {
      return item("waiting-item", queue);
    }));
  }

  function flash(node) {
    node.classList.remove("fresh");
    void node.offsetWidth; // restart the animation
    node.classList.add("fresh");
    window.clearTimeout(node.flashTimer);
    node.flashTimer = window.setTimeout(function () { node.classList.remove("fresh"); },
                                        HIGHLIGHT_MS);
  }

  function draw(data) {
    var fresh = new Set();
    data.calls.forEach(function (call) {
      var id = String(call.id);
      if (!seenCalls.has(id)) { fresh.add(id); seenCalls.add(id); }
    });
    board.querySelector("[data-office]").textContent = data.office.name;
    drawServing(data.serving);
    drawCalls(data.calls, fresh);
    drawWaiting(data.waiting);
    board.dataset.version = String(data.version);
    if (fresh.size) { chime(); }
  }

  // -- sound --------------------------------------------------------------------------------

  function unlockSound() {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) {
      sound.element = new Audio(board.dataset.chime);
      return;
    }
    sound.context = new AudioContext();
    sound.context.resume();
    fetch(board.dataset.chime)
      .then(function (response) { return response.arrayBuffer(); })
      .then(function (bytes) { return sound.context.decodeAudioData(bytes); })
      .then(function (buffer) { sound.buffer = buffer; })
      .catch(function () { sound.element = new Audio(board.dataset.chime); });
  }

  function chime() {
    window.__chimes += 1;
    if (sound.context && sound.buffer) {
      var source = sound.context.createBufferSource();
      source.buffer = sound.buffer;
      source.connect(sound.context.destination);
      source.start();
    } else if (sound.element) {
      sound.element.currentTime = 0;
      sound.element.play().catch(function () {});
    }
  }

  // -- the live connection ------------------------------------------------------------------

  // The server sends a "ping" every 15 s; silence for much longer means a stalled connection
  // (e.g. a proxy that kept it open): close it and connect afresh. It ends each stream after
  // some minutes with a "reconnect" event: connect again at once, with no "offline" notice.
  // A refused or failed connection is tried again later, twice as late each time in a row.
  var STALL_MS = 45000;
  var MAX_RECONNECT_MS = 120000;
  var failures = 0;

  function later() {
    var wait = Math.min(MAX_RECONNECT_MS, RECONNECT_MS * Math.pow(2, failures));
    failures += 1;
    window.setTimeout(connect, wait / 2 + Math.random() * wait / 2);
  }

  function connect() {
    var offline = board.querySelector("[data-offline]");
    var source = new EventSource(board.dataset.events);
    var heard = Date.now();
    var watchdog = window.setInterval(function () {
      if (Date.now() - heard > STALL_MS) {
        window.clearInterval(watchdog);
        source.close();
        offline.hidden = false;
        connect();
      }
    }, 5000);
    source.addEventListener("open", function () {
      heard = Date.now();
      failures = 0;
      offline.hidden = true;
    });
    source.addEventListener("ping", function () { heard = Date.now(); });
    source.addEventListener("board", function (event) {
      heard = Date.now();
      offline.hidden = true;
      draw(JSON.parse(event.data));
    });
    source.addEventListener("reconnect", function () {
      window.clearInterval(watchdog);
      source.close();
      connect();
    });
    source.addEventListener("error", function () {
      offline.hidden = false;
      if (source.readyState === EventSource.CLOSED) { // refused, or the browser gave up
        window.clearInterval(watchdog);
        later();
      }
    });
  }

  // -- the clock and the start overlay ------------------------------------------------------

  function tick() {
    var clock = board.querySelector("[data-clock]");
    clock.textContent = new Intl.DateTimeFormat("fa-IR", {
      hour: "2-digit", minute: "2-digit", timeZone: board.dataset.zone || "Asia/Tehran"
    }).format(new Date());
  }

  function start() {
    document.querySelector("[data-start-overlay]").hidden = true;
    unlockSound();
    var root = document.documentElement;
    if (root.requestFullscreen) { root.requestFullscreen().catch(function () {}); }
    if (navigator.wakeLock) { navigator.wakeLock.request("screen").catch(function () {}); }
  }

  document.querySelector("[data-start]").addEventListener("click", start);
  if (new URLSearchParams(window.location.search).has("autostart")) { start(); }
  tick();
  window.setInterval(tick, 10000);
  connect();
})();
