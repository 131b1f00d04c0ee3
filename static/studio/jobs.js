// A job's page (training or processing), kept live over live.js's websocket (the page
// subscribes to the job with data-subscribe, "<ResourceType>:<domain id>/<name>", so its log and metric
// events arrive too):
//   log      lines appended to the host's <pre>, scrolled to the end while "Follow" is on
//   metric   points added to that metric's chart (a chart is made for a new metric)
//   status / secondary   the server-rendered regions (stats, timeline, artifacts, Stop) are
//            re-fetched and swapped in, so there is one source of truth for their markup; once
//            the job has ended, the header's flash messages go
// Each time the subscription is acknowledged (first connect and every reconnect) the page
// catches up: events sent before it was subscribed never reach it, so it re-reads the page
// and merges what arrived meanwhile. Between events, run time, billable time and cost so far
// (the elements marked data-tick) tick every second while the job runs.
(function () {
  "use strict";

  var root = document.getElementById("job");
  if (!root) return;
  var jobName = root.dataset.job;
  var subscription = root.dataset.subscribe;
  var resourceType = subscription.split(":")[0];
  var MAX_LOG_LINES = 5000; // per host, in the page; the download has them all
  var ENDED = ["Completed", "Failed", "Stopped"];
  // The browser's clock may differ from the server's; times from the server are shifted by this.
  var skew = Date.now() - Date.parse(root.dataset.now);

  // --- Logs ---------------------------------------------------------------------------------
  var follow = document.getElementById("log-follow");
  var hostSelect = document.getElementById("log-host");

  function logOf(host) {
    return root.querySelector('pre.log[data-log-host="' + CSS.escape(host) + '"]');
  }

  function scrollToEnd(pre) {
    if (follow && follow.checked) pre.scrollTop = pre.scrollHeight;
  }

  function linesOf(pre) {
    return pre.textContent ? pre.textContent.replace(/\n$/, "").split("\n") : [];
  }

  function setLog(pre, lines) {
    // Keep the page light on a chatty job: the download has every line.
    lines = lines.slice(-MAX_LOG_LINES);
    pre.textContent = lines.length ? lines.join("\n") + "\n" : "";
    pre.dataset.lines = String(lines.length);
    scrollToEnd(pre);
  }

  function appendLog(host, lines) {
    var pre = logOf(host);
    if (!pre || !lines.length) return;
    var count = Number(pre.dataset.lines || 0) + lines.length;
    if (count > MAX_LOG_LINES) return setLog(pre, linesOf(pre).concat(lines));
    pre.appendChild(document.createTextNode(lines.join("\n") + "\n"));
    pre.dataset.lines = String(count);
    scrollToEnd(pre);
  }

  // `tail` (read from the log file) may already end with the first lines of `incoming` (sent
  // while it was read); join them without repeating those.
  function joinLines(tail, incoming) {
    for (var k = Math.min(tail.length, incoming.length); k > 0; k--) {
      var same = true;
      for (var i = 0; i < k && same; i++) same = tail[tail.length - k + i] === incoming[i];
      if (same) return tail.concat(incoming.slice(k));
    }
    return tail.concat(incoming);
  }

  root.querySelectorAll("pre.log").forEach(function (pre) {
    pre.dataset.lines = String(linesOf(pre).length);
    scrollToEnd(pre);
    // Scrolling up to read pauses following; scrolling back to the end resumes it.
    pre.addEventListener("scroll", function () {
      if (!follow) return;
      follow.checked = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    });
  });

  if (hostSelect) {
    hostSelect.addEventListener("change", function () {
      root.querySelectorAll("pre.log").forEach(function (pre) {
        pre.hidden = pre.dataset.logHost !== hostSelect.value;
      });
      root.querySelectorAll("[data-log-download]").forEach(function (link) {
        link.hidden = link.dataset.logDownload !== hostSelect.value;
      });
      scrollToEnd(logOf(hostSelect.value));
    });
  }

  // --- Metrics ------------------------------------------------------------------------------
  var chartsEl = document.getElementById("charts");
  var charts = {};

  function chartFor(name) {
    if (!charts[name]) {
      charts[name] = new window.StudioChart(chartsEl, name);
      document.getElementById("metrics-empty").hidden = true;
      document.getElementById("metric-count").textContent = String(Object.keys(charts).length);
    }
    return charts[name];
  }

  // Series as the page renders them: {name: [[at, value], ...]}.
  function setMetrics(series) {
    Object.keys(series).forEach(function (name) {
      chartFor(name).reset(series[name].map(function (p) { return { at: p[0], value: p[1] }; }));
    });
  }
  // Processing jobs have no metric definitions, so their page has no charts.
  var metricsData = document.getElementById("job-metrics");
  if (metricsData) setMetrics(JSON.parse(metricsData.textContent));

  function addPoints(points) {
    var byName = {};
    points.forEach(function (p) { (byName[p.name] = byName[p.name] || []).push(p); });
    Object.keys(byName).forEach(function (name) { chartFor(name).add(byName[name]); });
  }

  // --- Run time and cost so far --------------------------------------------------------------
  // `1 h 02 min`, `3 min 05 s`, `42 s`, as the server writes them (ui.js).
  var formatDuration = window.studioFormatDuration;

  function tick() {
    var stats = document.getElementById("job-stats");
    if (!stats || stats.dataset.running !== "true" || !stats.dataset.start) return;
    var start = Date.parse(stats.dataset.start) + skew;
    var seconds = Math.max(0, Math.floor((Date.now() - start) / 1000));
    var billable = seconds * Number(stats.dataset.count);
    var show = function (tick, text) {
      var el = stats.querySelector('[data-tick="' + tick + '"]');
      if (el) el.textContent = text;
    };
    show("elapsed", formatDuration(seconds));
    show("billable", formatDuration(billable));
    if (stats.dataset.price) show("cost", "$" + (billable * Number(stats.dataset.price) / 3600).toFixed(4));
  }
  setInterval(tick, 1000);

  // --- Server-rendered regions and catching up ----------------------------------------------
  var refreshTimer = null;
  var buffered = null; // while catching up: the log and metric events that arrive meanwhile

  function fetchPage() {
    return fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  // "Training job X was created" and "Stopping X" told what a click did; once the job has
  // ended they only contradict its badge (a refusal stays: it is about the click).
  function dropFlashes() {
    root.querySelectorAll(".job-flash.banner-success").forEach(function (el) { el.remove(); });
  }

  function swapRegions(fresh) {
    fresh.querySelectorAll("[data-region]").forEach(function (region) {
      var current = root.querySelector('[data-region="' + region.dataset.region + '"]');
      if (current) current.replaceWith(document.importNode(region, true));
    });
    root.dataset.now = fresh.getElementById("job").dataset.now;
    skew = Date.now() - Date.parse(root.dataset.now);
    tick();
  }

  function refreshRegions() {
    // Several events arrive together (one per group the socket is in): fetch once for them.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetchPage().then(swapRegions).catch(function () { /* the next event repairs it */ });
    }, 250);
  }

  function catchUp() {
    buffered = [];
    fetchPage()
      .then(function (fresh) {
        swapRegions(fresh);
        // A status change made before the subscription never arrives as an event: take the
        // badge from the page read now, and drop the flashes if the job has ended since.
        var badge = root.querySelector(".page-header [data-status-of]");
        var freshBadge = fresh.querySelector("#job .page-header [data-status-of]");
        if (badge && freshBadge && badge.dataset.status !== freshBadge.dataset.status) {
          badge.textContent = freshBadge.textContent;
          badge.dataset.status = freshBadge.dataset.status;
          if (ENDED.indexOf(freshBadge.dataset.status) !== -1) dropFlashes();
        }
        var pending = buffered;
        root.querySelectorAll("pre.log").forEach(function (pre) {
          var host = pre.dataset.logHost;
          var freshPre = fresh.querySelector('pre.log[data-log-host="' + CSS.escape(host) + '"]');
          var incoming = [];
          pending.forEach(function (ev) { if (ev.kind === "log" && ev.host === host) incoming = incoming.concat(ev.lines); });
          setLog(pre, joinLines(freshPre ? linesOf(freshPre) : [], incoming));
        });
        var freshMetrics = fresh.getElementById("job-metrics");
        if (!freshMetrics) return;
        var series = JSON.parse(freshMetrics.textContent);
        setMetrics(series);
        // Points stored before the page was read are in it already; later ones are newer.
        pending.forEach(function (ev) {
          if (ev.kind !== "metric") return;
          addPoints(ev.points.filter(function (p) {
            var known = series[p.name];
            return !known || !known.length || Date.parse(p.at) > Date.parse(known[known.length - 1][0]);
          }));
        });
      })
      .catch(function () {
        // Keep what the page has, and what came meanwhile.
        (buffered || []).forEach(apply);
      })
      .then(function () {
        buffered = null;
        root.dataset.subscribed = "true";
      });
  }

  function apply(event) {
    if (event.kind === "log") appendLog(event.host, event.lines);
    else if (event.kind === "metric") addPoints(event.points);
  }

  // --- Events --------------------------------------------------------------------------------
  document.addEventListener("studio:event", function (e) {
    var event = e.detail;
    if (event.kind === "subscribed" && event.subscribe === subscription) {
      catchUp();
      return;
    }
    if (event.resource_type !== resourceType || event.resource_id !== jobName) return;
    if (event.kind === "log" || event.kind === "metric") {
      if (buffered) buffered.push(event);
      else apply(event);
    } else if (event.kind === "status" || event.kind === "secondary") {
      if (ENDED.indexOf(event.status) !== -1) dropFlashes();
      if (event.secondary_status) {
        var secondary = document.getElementById("secondary-status");
        if (secondary) secondary.textContent = event.secondary_status;
      }
      refreshRegions();
    }
  });

  document.addEventListener("studio:live", function (e) {
    if (e.detail.state !== "live") root.dataset.subscribed = "false";
  });
})();
