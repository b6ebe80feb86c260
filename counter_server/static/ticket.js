// A ticket's page on the citizen's phone: its place in line, kept current over server-sent
// events with no reload; shows «اتصال قطع است…» and reconnects when the network drops. The
// server ends each stream after some minutes with a "reconnect" event: the page connects again
// at once, with no notice; a refused or failed connection is tried again later, twice as late
// each time in a row.
(function () {
  "use strict";
  var card = document.querySelector("[data-ticket]");
  if (!card) { return; }
  if (window.__loadedAt === undefined) { window.__loadedAt = Date.now(); }

  var RECONNECT_MS = 5000;
  var MAX_RECONNECT_MS = 120000;
  var failures = 0;
  var HIGHLIGHT_MS = 3000;
  var status = (card.className.match(/status-(\w+)/) || [])[1];
  var title = document.title;

  function draw(ticket) {
    card.querySelectorAll("[data-field]").forEach(function (field) {
      var value = ticket[field.dataset.field];
      field.textContent = value === undefined || value === null ? "" : value;
    });
    card.querySelectorAll("[data-when]").forEach(function (row) {
      var shown = row.dataset.when.split(" ").indexOf(ticket.status) !== -1;
      var empty = row.querySelector("[data-field=estimate]") !== null && !ticket.estimate;
      row.hidden = !shown || empty;
    });
    if (ticket.status !== status) {
      card.classList.remove("status-" + status);
      card.classList.add("status-" + ticket.status);
      status = ticket.status;
      card.classList.add("changed");
      window.setTimeout(function () { card.classList.remove("changed"); }, HIGHLIGHT_MS);
    }
    document.title = ticket.status === "called" ? ticket.message + " | " + title : title;
  }

  function later() {
    var wait = Math.min(MAX_RECONNECT_MS, RECONNECT_MS * Math.pow(2, failures));
    failures += 1;
    window.setTimeout(connect, wait / 2 + Math.random() * wait / 2);
  }

  function connect() {
    var offline = card.querySelector("[data-offline]");
    var source = new EventSource(card.dataset.events);
    source.addEventListener("open", function () { failures = 0; offline.hidden = true; });
    source.addEventListener("ticket", function (event) {
      offline.hidden = true;
      draw(JSON.parse(event.data));
    });
    source.addEventListener("reconnect", function () {
      source.close();
      connect();
    });
    source.addEventListener("error", function () {
      offline.hidden = false;
      if (source.readyState === EventSource.CLOSED) { // refused, or the browser gave up
        later();
      }
    });
  }

  connect();
})();
