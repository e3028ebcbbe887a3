// The only script of the web app; every page works without it.

// --- The board: live rows --------------------------------------------------
// GET /live (Server-Sent Events) says the log's newest position whenever it moves;
// the board then fetches its own rows again (?<the same filters>&fragment=rows) and
// marks the rows that changed since the page was loaded. Without this script the
// "Reload" link does the same by hand.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || board.dataset.live === "on" || !window.EventSource || !window.fetch ||
      !window.DOMParser || !document.getElementById("board-rows")) {
    return;
  }
  board.dataset.live = "on";
  var shown = board.dataset.position || "0";
  var loaded = {};  // data-source -> data-position when the page was loaded
  var busy = false;
  var again = false;
  var status = document.getElementById("board-status");

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#board-rows tr[data-source]"));
  }

  rows().forEach(function (row) { loaded[row.dataset.source] = row.dataset.position; });

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function mark(row) {
    var before = loaded[row.dataset.source];
    if (before === undefined || before !== row.dataset.position) {
      row.classList.add("changed");
    }
  }

  function swap(fresh) {
    ["board-counts", "board-rows", "board-paging"].forEach(function (id) {
      var incoming = fresh.getElementById(id);
      var current = document.getElementById(id);
      if (incoming && current) {
        current.replaceWith(document.importNode(incoming, true));
      }
    });
    rows().forEach(mark);
    board.dataset.position = shown;
    say((board.dataset.updated || "Updated") + " " + new Date().toLocaleTimeString());
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var params = new URLSearchParams(window.location.search);
    params.set("fragment", "rows");
    fetch("/?" + params.toString(), {credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!fresh.getElementById("board-rows")) { throw new Error("signed out"); }
        swap(fresh);
      })
      .catch(function () { say(board.dataset.offline || ""); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var live = new EventSource("/live");
  live.addEventListener("position", function (event) {
    if (event.data !== shown) {
      shown = event.data;
      refresh();
    }
  });
}());
