/* The team web's one script: the live queue. Every page works without it.
   Server-sent events say when the queue changed; the table is fetched again (htmx) and a new
   P1 is announced (aria-live region, page title, highlighted row). Where EventSource is
   missing or fails for good, the table is polled every 20 s instead. */
(function () {
  "use strict";
  var POLL_MS = 20000;
  var baseTitle = document.title;

  function p1Of(el) {
    var rows = el && el.querySelector(".rows");
    var refs = rows ? rows.getAttribute("data-new-p1") : "";
    return refs ? refs.split(" ").filter(Boolean) : [];
  }

  function versionOf(el) {
    var rows = el && el.querySelector(".rows");
    return rows ? rows.getAttribute("data-version") : null;
  }

  function start(queue) {
    var known = p1Of(queue);
    var unseen = 0;
    var announce = document.getElementById("announce");
    var polling = null;

    function refresh() { if (window.htmx) { window.htmx.trigger(queue, "refresh"); } }

    function poll() {
      if (!polling) { polling = window.setInterval(refresh, POLL_MS); }
    }

    queue.addEventListener("htmx:afterSwap", function () {
      var now = p1Of(queue);
      var arrived = now.filter(function (ref) { return known.indexOf(ref) < 0; });
      known = now;
      if (!arrived.length) { return; }
      unseen += arrived.length;
      document.title = "(" + unseen + ") " + baseTitle;
      if (announce) {
        announce.textContent = (queue.getAttribute("data-new-p1") || "{refs}").replace("{refs}", arrived.join(", "));
      }
      arrived.forEach(function (ref) {
        var row = document.getElementById("case-" + ref);
        if (row) { row.classList.add("arrived"); }
      });
    });

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { unseen = 0; document.title = baseTitle; }
    });

    var url = queue.getAttribute("data-events");
    if (!window.EventSource || !url) { poll(); return; }
    var source = new window.EventSource(url);
    source.addEventListener("queue", function (event) {
      if (event.data !== versionOf(queue)) { refresh(); }
    });
    source.onerror = function () {
      if (source.readyState === window.EventSource.CLOSED) { poll(); }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.getElementById("queue");
    if (queue) { start(queue); }
  });
})();
