// The hosting pages' script; each part runs on the page that has its element.
//
//   #endpoint      an endpoint's page: polls its metrics view every 2 s for the status (badge,
//                  and the server-rendered regions swapped in from a fresh copy of the page when
//                  it moves on) and the invocation charts (rate, p50 and p99 latency, errors),
//                  drawn with chart.js's StudioChart
//   #try-form      Try it: sends the body to the endpoint through the router, signed in as the
//                  user (session cookie and CSRF token), and shows the status, the variant that
//                  answered, the latency and the body, or what went wrong in words
//   #endpoint-list the list: polls the statuses of the domain's endpoints every 5 s
//   #deploy-form   Deploy: shows the fields of the hosting chosen (instances or serverless)
(function () {
  "use strict";

  var POLL_MS = 2000;
  var LIST_POLL_MS = 5000;

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

    // The page's regions as the server renders them now.
    var refreshRegions = function () {
      return fetch(location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          fresh.querySelectorAll("[data-region]").forEach(function (region) {
            var current = root.querySelector('[data-region="' + region.dataset.region + '"]');
            if (current) current.replaceWith(document.importNode(region, true));
          });
        });
    };

    var timer = null;
    var poll = function () {
      fetch(root.dataset.metrics, { credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 404) {
            note.hidden = false;
            note.textContent = "This endpoint no longer exists.";
            setBadges(root.dataset.resource, "Deleted");
            clearInterval(timer);
            return null;
          }
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          note.hidden = !data.unavailable;
          note.textContent = data.unavailable || "";
          drawSeries(data.series);
          if (data.status !== root.dataset.status) {
            root.dataset.status = data.status;
            // "Being created", "Updating": the flash told what a click started, which is over.
            document.querySelectorAll(".endpoint-flash").forEach(function (flash) { flash.remove(); });
            setBadges(root.dataset.resource, data.status);
            refreshRegions().catch(function () { /* the next change repairs it */ });
          }
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

  // --- The list -------------------------------------------------------------------------------
  var list = document.getElementById("endpoint-list");
  if (list && list.querySelector("[data-endpoint]")) {
    setInterval(function () {
      fetch(list.dataset.statuses, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (statuses) {
          list.querySelectorAll("[data-endpoint]").forEach(function (row) {
            var now = statuses[row.dataset.endpoint];
            var badge = row.querySelector("[data-status-of]");
            if (now && badge) {
              badge.textContent = now.status;
              badge.dataset.status = now.status;
            }
          });
        })
        .catch(function () { /* the next poll catches up */ });
    }, LIST_POLL_MS);
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
