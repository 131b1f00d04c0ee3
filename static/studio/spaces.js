// Spaces. On the list, the members field shows only for a Shared space, and the table is
// kept live. On a space's page
// (which subscribes to "Space:<domain id>/<name>" with data-subscribe, so its app's events
// arrive over live.js's websocket even for a member who does not own it):
//   progress  the start's progress bar follows the worker's steps, live; until the first step,
//             the line under it says what the start waits for (asked every 2 s: queue position,
//             what the workers are busy with, or that no worker runs)
//   status    the server-rendered regions (bar, messages, pane) are re-fetched and swapped in;
//             the pane only when what it shows changes. The pane turns into the link that
//             opens JupyterLab (in a tab of its own, on the space's origin) once InService.
// Forms marked data-async (Open JupyterLab, Stop, Restart) post in the background and swap in
// the page they redirect to. Each time the subscription is acknowledged the page re-reads
// itself: events sent before it was subscribed never reach it. Idle time and cost so far
// tick every second while the app runs.
(function () {
  "use strict";

  // --- The list: members only for a shared space ---------------------------------------------
  var members = document.getElementById("field-members");
  if (members) {
    var showMembers = function () {
      var shared = document.querySelector('input[name="sharing_type"][value="Shared"]');
      members.hidden = !(shared && shared.checked);
    };
    document.querySelectorAll('input[name="sharing_type"]').forEach(function (radio) {
      radio.addEventListener("change", showMembers);
    });
    showMembers();
  }
  // The table follows its spaces' and apps' statuses (a new space can be opened once the
  // worker has made it InService): it is re-read on every such event, and when the socket
  // opens, since what happened before that was never sent to this page.
  var table = document.querySelector('[data-region="spaces"]');
  if (table) {
    var tableTimer = null;
    var refreshTable = function () {
      clearTimeout(tableTimer);
      tableTimer = setTimeout(function () {
        fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
          .then(function (response) {
            if (!response.ok) throw new Error(response.status);
            return response.text();
          })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html");
            var region = fresh.querySelector('[data-region="spaces"]');
            var current = document.querySelector('[data-region="spaces"]');
            if (region && current) current.replaceWith(document.importNode(region, true));
          })
          .catch(function () { /* the next event repairs it */ });
      }, 150);
    };
    document.addEventListener("studio:event", function (e) {
      var type = e.detail.resource_type;
      // "deleted": a space whose deletion has finished leaves the table.
      var kind = e.detail.kind;
      if ((type === "Space" || type === "App") && (kind === "status" || kind === "deleted")) refreshTable();
    });
    document.addEventListener("studio:live", function (e) {
      if (e.detail.state === "live") refreshTable();
    });
  }

  var root = document.getElementById("space");
  if (!root) return;
  var subscription = root.dataset.subscribe;
  var appId = root.dataset.app;
  var spaceId = subscription.split(":")[1];
  var skew = Date.now() - Date.parse(root.dataset.now);
  // The furthest step seen of the current start: a re-read page knows only "Pending".
  var progress = null;

  // --- Progress ------------------------------------------------------------------------------
  var STEPS = {
    "starting container": "Starting the container…",
    "starting server": "Starting JupyterLab…",
    ready: "Ready. Opening JupyterLab…",
  };

  function showProgress() {
    var bar = document.getElementById("progress");
    if (!bar || !progress) return;
    bar.setAttribute("aria-valuenow", String(progress.percent));
    bar.dataset.step = progress.step;
    bar.querySelector(".progress-fill").style.width = progress.percent + "%";
    // A start just submitted has no step yet: the line keeps saying what it waits for.
    if (progress.step) document.getElementById("progress-step").textContent = STEPS[progress.step] || progress.step;
  }

  // --- Waiting for a worker ------------------------------------------------------------------
  var waitAsked = false;
  function askWait() {
    var bar = document.getElementById("progress");
    if (!bar || !bar.dataset.waitUrl || (progress && progress.step) || waitAsked) return;
    waitAsked = true;
    fetch(bar.dataset.waitUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (wait) {
        var line = document.getElementById("progress-step");
        if (!wait || !wait.text || !line || (progress && progress.step)) return;
        line.textContent = wait.text;
        line.dataset.wait = wait.state;
      })
      .catch(function () { /* asked again in 2 s */ })
      .finally(function () { waitAsked = false; });
  }
  setInterval(askWait, 2000);
  askWait();

  // --- Idle time and cost so far -------------------------------------------------------------
  // `1 h 02 min`, `3 min 05 s`, `42 s`, as the server writes them (ui.js).
  var formatDuration = window.studioFormatDuration;

  function since(iso) {
    return Math.max(0, Math.floor((Date.now() - skew - Date.parse(iso)) / 1000));
  }

  function tick() {
    var stats = document.getElementById("space-stats");
    if (!stats || stats.dataset.running !== "true") return;
    var idle = stats.querySelector('[data-tick="idle"]');
    if (idle && stats.dataset.idleSince) idle.textContent = formatDuration(since(stats.dataset.idleSince));
    var cost = stats.querySelector('[data-tick="cost"]');
    if (cost && stats.dataset.since && stats.dataset.price) {
      cost.textContent = "$" + (since(stats.dataset.since) * Number(stats.dataset.price) / 3600).toFixed(4);
    }
  }
  setInterval(tick, 1000);
  tick();

  // --- Server-rendered regions ---------------------------------------------------------------
  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  function fetchPage() {
    return fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(parse);
  }

  function swap(fresh) {
    var freshRoot = fresh.getElementById("space");
    if (!freshRoot) return;
    fresh.querySelectorAll("[data-region]").forEach(function (region) {
      var current = root.querySelector('[data-region="' + region.dataset.region + '"]');
      if (!current) return;
      // The same pane stays: nothing the user is looking at is redrawn for nothing.
      if (region.dataset.pane && region.dataset.pane === current.dataset.pane) return;
      current.replaceWith(document.importNode(region, true));
    });
    var pane = root.querySelector('[data-region="pane"]').dataset.pane;
    if (pane !== "starting") progress = null;
    showProgress();
    askWait();
    if (freshRoot.dataset.restart === "true") root.dataset.restart = "true";
    root.dataset.now = freshRoot.dataset.now;
    root.dataset.pane = pane;
    skew = Date.now() - Date.parse(root.dataset.now);
    tick();
    maybeRestart(pane);
  }

  var refreshTimer = null;
  function refresh() {
    // Several events arrive together (one per group the socket is in): fetch once for them.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetchPage().then(swap).catch(function () { /* the next event repairs it */ });
    }, 150);
  }

  function submit(form) {
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) { return response.text(); })
      .then(function (html) { swap(parse(html)); })
      .catch(function () { form.submit(); });
  }

  // Restart of a running app: once it has stopped, start it again.
  function maybeRestart(pane) {
    if (root.dataset.restart !== "true" || pane === "stopping") return;
    delete root.dataset.restart;
    history.replaceState(null, "", location.pathname);
    var start = document.getElementById("start-form");
    if (start && pane !== "lab" && pane !== "starting") submit(start);
  }

  root.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-async")) return;
    e.preventDefault();
    if (form.id === "start-form") progress = { step: "", percent: 5 };
    submit(form);
  });

  // --- Events --------------------------------------------------------------------------------
  document.addEventListener("studio:event", function (e) {
    var event = e.detail;
    if (event.kind === "subscribed" && event.subscribe === subscription) {
      root.dataset.subscribed = "true";
      refresh();
      return;
    }
    if (event.resource_type === "App" && event.resource_id === appId) {
      if (event.kind === "progress") {
        if (!progress || event.percent >= progress.percent) progress = { step: event.step, percent: event.percent };
        showProgress();
        // "ready" comes just before the app turns InService; the status event swaps the link in.
        if (event.step === "ready") refresh();
      } else if (event.kind === "status") {
        refresh();
      }
    } else if (event.resource_type === "Space" && event.resource_id === spaceId && event.kind === "status") {
      refresh();
    }
  });

  document.addEventListener("studio:live", function (e) {
    if (e.detail.state !== "live") root.dataset.subscribed = "false";
  });

  root.dataset.pane = root.querySelector('[data-region="pane"]').dataset.pane;
  maybeRestart(root.dataset.pane);
})();
