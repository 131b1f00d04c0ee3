// The dashboard's one websocket: status changes of the profile's resources, applied in place.
//
// Elements opt in with data attributes, so templates need no script of their own:
//   data-status-of="<resource_type>:<resource_id>"     badge: text and data-status follow status
//   data-suspended-of="UserProfile:<resource_id>"      shown while the profile is suspended
(function () {
  "use strict";

  var profile = document.body.dataset.profile;
  if (!profile || !("WebSocket" in window)) return;

  var indicator = document.getElementById("live");
  var toast = document.getElementById("toast");
  var MAX_DELAY = 30000;
  var attempts = 0;
  var toastTimer = null;

  function setState(state) {
    if (!indicator) return;
    indicator.dataset.liveState = state;
    var label = indicator.querySelector(".live-label");
    if (label) label.textContent = { live: "Live", connecting: "Connecting", offline: "Offline" }[state];
  }

  function matching(attribute, key) {
    return document.querySelectorAll("[" + attribute + '="' + CSS.escape(key) + '"]');
  }

  function notify(text) {
    if (!toast) return;
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

  function apply(event) {
    var key = event.resource_type + ":" + event.resource_id;
    if (event.status) {
      matching("data-status-of", key).forEach(function (el) {
        el.textContent = event.status;
        el.dataset.status = event.status;
      });
    }
    if (event.kind === "suspended" || event.kind === "resumed") {
      matching("data-suspended-of", key).forEach(function (el) {
        el.hidden = event.kind === "resumed";
      });
    }
    // Changes the page cannot patch in place (new rows, edited settings) are offered as a reload.
    if (event.kind === "created" || event.kind === "updated" || event.kind === "deleted") {
      var name = event.resource_type === "Domain" ? "The domain" : "User profile " + event.resource_id.split("/").pop();
      notify(name + " was " + event.kind + ".");
    }
  }

  function connect() {
    setState("connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/events/?profile=" + encodeURIComponent(profile));
    socket.addEventListener("open", function () {
      attempts = 0;
      setState("live");
    });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      apply(event);
    });
    socket.addEventListener("close", function () {
      setState("offline");
      // Exponential backoff with jitter, so a restarted server is not hit by every tab at once.
      var delay = Math.min(MAX_DELAY, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      attempts += 1;
      setTimeout(connect, delay);
    });
  }

  connect();
})();
