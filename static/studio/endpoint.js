// The hosting pages' script; each part runs on the page that has its element.
//
//   #endpoint      an endpoint's page: follows the endpoint's and its instances' events on the
//                  dashboard's websocket (it subscribes to the endpoint; live.js sets the badge),
//                  swapping the server-rendered regions in from a fresh copy of the page when
//                  one comes; polls its metrics view every 2 s for the invocation charts (rate,
//                  p50 and p99 latency, errors), drawn with chart.js's StudioChart, whose answer
//                  also carries the status: a change the socket missed is caught there
//   #try-form      Try it: sends the body to the endpoint through the router, signed in as the
//                  user (session cookie and CSRF token), and shows the status, the variant that
//                  answered, the latency and the body, or what went wrong in words
//   #endpoint-list the list: nothing here; its badges follow the websocket (live.js)
//   #deploy-form   Deploy: shows the fields of the hosting chosen (instances or serverless)
(function () {
  "use strict";

  var POLL_MS = 2000;
  // Events come in bursts (an update starts several instances): one fresh copy for a burst.
  var REFRESH_DELAY_MS = 300;

  function setBadges(resourceId, status) {
    document.querySelectorAll('[data-status-of="Endpoint:' + CSS.escape(resourceId) + '"]')
      .forEach(function (el) {
        el.textContent = status;
        el.dataset.status = status;
      });
  }

  // --- An endpoint's page --------------------------------------------------------------------
  var root = document.getElementById("endpoint");
  if (root) {
    var CHARTS = [
      { key: "rate", name: "invocations / s" },
      { key: "p50_ms", name: "latency p50 (ms)" },
      { key: "p99_ms", name: "latency p99 (ms)" },
      { key: "errors", name: "errors" },
    ];
    var chartsEl = document.getElementById("endpoint-charts");
    var note = document.getElementById("charts-note");
    var charts = {};
    CHARTS.forEach(function (c) { charts[c.key] = new window.StudioChart(chartsEl, c.name); });

    var drawSeries = function (points) {
      CHARTS.forEach(function (c) {
        charts[c.key].reset(points.map(function (p) {
          var value = c.key === "errors" ? p.model_errors + p.failures : p[c.key];
          return { at: new Date(p.t * 1000).toISOString(), value: value };
        }));
      });
    };

    // The page's regions as the server renders them now; one the user is typing in is left.
    var refreshRegions = function () {
      return fetch(location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          fresh.querySelectorAll("[data-region]").forEach(function (region) {
            var current = root.querySelector('[data-region="' + region.dataset.region + '"]');
            if (current && !current.contains(document.activeElement)) {
              current.replaceWith(document.importNode(region, true));
            }
          });
        });
    };
    var pending = null;
    var scheduleRefresh = function () {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        refreshRegions().catch(function () { /* the next change repairs it */ });
      }, REFRESH_DELAY_MS);
    };
    var statusMoved = function (status) {
      if (status === root.dataset.status) return;
      root.dataset.status = status;
      // "Being created", "Updating": the flash told what a click started, which is over.
      document.querySelectorAll(".endpoint-flash").forEach(function (flash) { flash.remove(); });
      setBadges(root.dataset.resource, status);
      scheduleRefresh();
    };

    var timer = null;
    var gone = function () {
      note.hidden = false;
      note.textContent = "This endpoint no longer exists.";
      setBadges(root.dataset.resource, "Deleted");
      clearInterval(timer);
    };
    var instancesOf = root.dataset.resource + "/";
    document.addEventListener("studio:event", function (e) {
      var event = e.detail;
      if (event.kind === "subscribed" && event.subscribe === root.dataset.subscribe) {
        root.dataset.subscribed = "true"; // from now on, nothing of the endpoint is missed
      } else if (event.resource_type === "Endpoint" && event.resource_id === root.dataset.resource) {
        if (event.kind === "deleted") return gone();
        if (event.status) statusMoved(event.status);
        if (event.kind !== "status") scheduleRefresh(); // updated: new weights or counts
      } else if (event.resource_type === "EndpointInstance" &&
                 event.resource_id.indexOf(instancesOf) === 0) {
        scheduleRefresh();
      }
    });
    // Back after a lost connection: what changed meanwhile came to no one.
    document.addEventListener("studio:live", function (e) {
      if (e.detail.reconnected) scheduleRefresh();
    });
    var poll = function () {
      fetch(root.dataset.metrics, { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 404) {
            gone();
            return null;
          }
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          note.hidden = !data.unavailable;
          note.textContent = data.unavailable || "";
          drawSeries(data.series);
          statusMoved(data.status);
        })
        .catch(function () { /* offline for a moment: the next poll catches up */ });
    };
    poll();
    timer = setInterval(poll, POLL_MS);
  }

  // --- Try it ---------------------------------------------------------------------------------
  var tryForm = document.getElementById("try-form");
  if (tryForm) {
    var show = function (id, text) { document.getElementById(id).textContent = text; };
    // What an error body says, in words: the router's JSON {"message": ...} (or SageMaker's
    // "Message"), else the text itself.
    var errorText = function (status, text) {
      var words = text;
      try {
        var parsed = JSON.parse(text);
        words = parsed.message || parsed.Message || parsed.error || text;
      } catch (e) { /* not JSON: the text is the message */ }
      return "The endpoint refused the request (" + status + "): " + words;
    };
    tryForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = document.getElementById("try-send");
      var result = document.getElementById("try-result");
      var headers = {
        "Content-Type": document.getElementById("try-type").value,
        "X-CSRFToken": tryForm.querySelector("[name=csrfmiddlewaretoken]").value,
      };
      var accept = document.getElementById("try-accept").value;
      if (accept) headers.Accept = accept;
      button.disabled = true;
      button.textContent = "Sending…";
      var started = performance.now();
      fetch(tryForm.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: headers,
        body: document.getElementById("try-body").value,
      })
        .then(function (r) {
          return r.text().then(function (text) {
            var ms = performance.now() - started;
            result.hidden = false;
            result.dataset.status = String(r.status);
            show("try-status", r.status + " " + r.statusText);
            show("try-variant", r.headers.get("X-Amzn-Invoked-Production-Variant") || "—");
            show("try-latency", ms.toFixed(1) + " ms");
            show("try-response", r.ok ? text : errorText(r.status, text));
            document.getElementById("try-response").classList.toggle("try-error", !r.ok);
          });
        })
        .catch(function (error) {
          result.hidden = false;
          result.dataset.status = "error";
          show("try-status", "No answer");
          show("try-variant", "—");
          show("try-latency", "—");
          show("try-response", "The request did not reach the endpoint: " + error.message);
          document.getElementById("try-response").classList.add("try-error");
        })
        .finally(function () {
          button.disabled = false;
          button.textContent = "Send";
        });
    });
  }

  // --- Deploy ---------------------------------------------------------------------------------
  var deployForm = document.getElementById("deploy-form");
  if (deployForm) {
    var sync = function () {
      var chosen = deployForm.querySelector("input[name=hosting]:checked");
      // A part whose field the server refused stays in sight, whichever is chosen.
      deployForm.querySelectorAll("[data-hosting]").forEach(function (part) {
        part.hidden = Boolean(chosen) && part.dataset.hosting !== chosen.value &&
          !part.querySelector(".has-error");
      });
    };
    deployForm.querySelectorAll("input[name=hosting]").forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();
  }
})();
