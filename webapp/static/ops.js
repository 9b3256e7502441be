/* Quotaflow ops console: live progress of a queued or running sync run.
   Polls GET /api/v1/sync/runs/<id> every 2 s with the session token from the element's
   data-token attribute (sent as a Bearer header, never in a URL) and updates the progress
   block; when the run finishes it re-submits the page's Refresh form to show the result.
   Without JavaScript the Refresh button does the same by hand. */
(function () {
  "use strict";
  var STAGES = ["pull", "calculate", "store", "write"];
  var POLL_MS = 2000;

  function elapsed(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + ("0" + (s % 60)).slice(-2) + " s";
  }

  function describe(run) {
    if (run.status === "queued") { return "Waiting for the clock to start it"; }
    if (run.status !== "running") { return run.status.charAt(0).toUpperCase() + run.status.slice(1); }
    var p = (run.counts && run.counts.progress) || {};
    if (!p.stage) { return "Starting"; }
    var step = STAGES.indexOf(p.stage) + 1;
    var head = step ? "Step " + step + " of " + STAGES.length + ": " + p.stage : p.stage;
    return p.total ? head + " " + p.done.toLocaleString() + "/" + p.total.toLocaleString() : head;
  }

  function field(block, name) { return block.querySelector('[data-field="' + name + '"]'); }

  function show(block, run) {
    var status = field(block, "status");
    if (status) { status.textContent = run.status; status.className = "qf-badge qf-badge--" + run.status; }
    var text = field(block, "text");
    if (text) { text.textContent = describe(run); }
    var bar = field(block, "bar");
    var p = (run.counts && run.counts.progress) || {};
    if (bar) {
      if (p.total) { bar.max = p.total; bar.value = p.done; }
      else { bar.max = STAGES.length; bar.value = Math.max(0, STAGES.indexOf(p.stage) + 1); }
    }
    var calls = field(block, "calls");
    if (calls) { calls.textContent = (run.api_calls || 0).toLocaleString(); }
    var since = run.started_at || run.requested_at;
    var took = field(block, "elapsed");
    if (took && since) {
      took.textContent = (run.status === "queued" ? "Waiting " : "Running ") + elapsed(Date.now() - Date.parse(since));
    }
  }

  function refresh() {
    var form = document.getElementById("qf-refresh");
    if (form) { form.submit(); }
  }

  function watch(block) {
    var token = block.getAttribute("data-token");
    var url = block.getAttribute("data-url");
    if (!token || !url) { return; }
    function poll() {
      fetch(url, { headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
                   credentials: "omit", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (run) {
          show(block, run);
          if (run.status === "queued" || run.status === "running") { window.setTimeout(poll, POLL_MS); }
          else { refresh(); }
        })
        .catch(function () {
          // An expired session or a network error: stop; the Refresh button still works.
          var text = field(block, "text");
          if (text) { text.textContent += " (live updates stopped: press Refresh)"; }
        });
    }
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var blocks = document.querySelectorAll("[data-qf-progress]");
    for (var i = 0; i < blocks.length; i++) { watch(blocks[i]); }
  });
})();
