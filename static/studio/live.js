// The dashboard's one websocket: status changes of the profile's resources, applied in place.
//
// Elements opt in with data attributes, so templates need no script of their own:
//   data-status-of="<resource_type>:<resource_id>"     badge: text and data-status follow status
//   data-status-labels='{"<status>": "<word>", ...}'   on a badge: the text says the status in
//                                                      these words (data-status keeps the API's)
//   data-suspended-of="UserProfile:<resource_id>"      shown while the profile is suspended
//   data-subscribe="<resource_type>:<resource_id>"     also receive that resource's own events
//                                                      (a job's log lines and metrics)
// Every event is also dispatched on `document` as a "studio:event" CustomEvent (detail: the
// event), and every connection change as "studio:live" (detail: {state, reconnected}), for
// page scripts that do more than swap a badge.
//
// When one of the user's own jobs or apps ends, the server sends a "notification" (see
// consumers.notification): it is shown as a toast linking to the resource's page, unless this
// is that page (it subscribes to `notice.page`), which shows the end in place.
(function () {
  "use strict";

  // <time data-relative> ("3 min ago", written by the `when` template filter, which states the
  // dashboard's rule for dates) stays true on a page left open: rewritten every minute, in the
  // filter's words. Times written absolute never change, so nothing else needs this.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function relative(el) {
    var moment = new Date(el.getAttribute("datetime"));
    var seconds = Math.floor((Date.now() - moment.getTime()) / 1000);
    if (isNaN(seconds)) return el.textContent;
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    var days = Math.floor(seconds / 86400);
    if (days < 30) return days === 1 ? "1 day ago" : days + " days ago";
    // As the server wrote it: the ISO value carries the server's time zone offset.
    var iso = el.getAttribute("datetime");
    return Number(iso.slice(8, 10)) + " " + MONTHS[Number(iso.slice(5, 7)) - 1] + " " + iso.slice(0, 4) +
      ", " + iso.slice(11, 16);
  }
  function refreshRelative() {
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      el.textContent = relative(el);
    });
  }
  setInterval(refreshRelative, 60000);

  var profile = document.body.dataset.profile;
  if (!profile || !("WebSocket" in window)) return;

  var indicator = document.getElementById("live");
  var toast = document.getElementById("toast");
  var MAX_DELAY = 30000;
  var attempts = 0;
  var toastTimer = null;
  var opened = false; // whether a connection was ever open: a later open is a reconnect

  function setState(state) {
    if (!indicator) return;
    indicator.dataset.liveState = state;
    var label = indicator.querySelector(".live-label");
    if (label) label.textContent = { live: "Live", connecting: "Connecting", offline: "Offline" }[state];
  }

  var NAMES = {
    Domain: "The domain",
    UserProfile: "User profile",
    TrainingJob: "Training job",
    ProcessingJob: "Processing job",
    TransformJob: "Transform job",
    Dataset: "Dataset",
    Model: "Model",
    Endpoint: "Endpoint",
    ModelPackageGroup: "Model group",
    ModelPackage: "Model version",
  };

  function describe(event) {
    if (event.resource_type === "Domain") return NAMES.Domain;
    var name = NAMES[event.resource_type] || event.resource_type;
    // The id is "<domain id>/<name>" ("<domain id>/<group>/<version>" for a model version).
    return name + " " + event.resource_id.split("/").slice(1).join("/");
  }

  function matching(attribute, key) {
    return document.querySelectorAll("[" + attribute + '="' + CSS.escape(key) + '"]');
  }

  function notify(text) {
    if (!toast) return;
    delete toast.dataset.notice;
    toast.classList.remove("toast-error");
    toast.textContent = text + " ";
    var reload = document.createElement("a");
    reload.href = "#";
    reload.textContent = "Reload";
    reload.addEventListener("click", function (e) { e.preventDefault(); location.reload(); });
    toast.appendChild(reload);
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 8000);
  }

  var ENDINGS = {
    Completed: "completed",
    Failed: "failed",
    Stopped: "was stopped",
    Deleted: "stopped", // an app: SageMaker's word for a stopped one reads as if it were gone
  };

  function announce(notice) {
    if (!toast || matching("data-subscribe", notice.page).length) return;
    var link = document.createElement("a");
    link.href = notice.url;
    link.textContent = notice.name;
    var what = notice.resource_type === "App" ? notice.what + " in space " : NAMES[notice.resource_type] + " ";
    var ending = " " + (ENDINGS[notice.status] || notice.status.toLowerCase()) + ".";
    var line = document.createElement("strong");
    line.append(what, link, ending);
    toast.replaceChildren(line);
    if (notice.reason) {
      var reason = document.createElement("div");
      reason.className = "toast-reason";
      reason.textContent = notice.reason;
      toast.appendChild(reason);
    }
    toast.dataset.notice = notice.resource_type + ":" + notice.resource_id;
    toast.classList.toggle("toast-error", notice.status === "Failed");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 15000);
    // Also the system's notification, for a tab in the background, if the user allowed them
    // already: a dashboard does not ask.
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      new Notification(line.textContent, { body: notice.reason || "" });
    }
  }

  function apply(event) {
    if (event.kind === "notification") return announce(event);
    var key = event.resource_type + ":" + event.resource_id;
    if (event.status) {
      matching("data-status-of", key).forEach(function (el) {
        var labels = el.dataset.statusLabels ? JSON.parse(el.dataset.statusLabels) : {};
        el.textContent = labels[event.status] || event.status;
        el.dataset.status = event.status;
      });
    }
    if (event.kind === "suspended" || event.kind === "resumed") {
      matching("data-suspended-of", key).forEach(function (el) {
        el.hidden = event.kind === "resumed";
      });
    }
    // Changes the page cannot patch in place (new rows, edited settings) are offered as a reload.
    // An app is followed in place by its space's page (spaces.js), an endpoint's instance by
    // the endpoint's page (endpoint.js): nothing to reload for.
    if (event.resource_type === "App" || event.resource_type === "EndpointInstance") return;
    if (event.kind === "created" || event.kind === "updated" || event.kind === "deleted") {
      notify(describe(event) + " was " + event.kind + ".");
    }
  }

  function connect() {
    setState("connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/events/?profile=" + encodeURIComponent(profile));
    socket.addEventListener("open", function () {
      attempts = 0;
      // Subscriptions belong to the connection: (re)send them on every open.
      document.querySelectorAll("[data-subscribe]").forEach(function (el) {
        socket.send(JSON.stringify({ subscribe: el.dataset.subscribe }));
      });
      setState("live");
      document.dispatchEvent(new CustomEvent("studio:live", { detail: { state: "live", reconnected: opened } }));
      opened = true;
    });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      apply(event);
      document.dispatchEvent(new CustomEvent("studio:event", { detail: event }));
    });
    socket.addEventListener("close", function () {
      setState("offline");
      document.dispatchEvent(new CustomEvent("studio:live", { detail: { state: "offline", reconnected: false } }));
      // Exponential backoff with jitter, so a restarted server is not hit by every tab at once.
      var delay = Math.min(MAX_DELAY, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      attempts += 1;
      setTimeout(connect, delay);
    });
  }

  connect();
})();
