// Small conveniences on top of pages that work without script.
(function () {
  "use strict";

  // A duration as job_pages.duration writes it on the server, for the pages that keep one
  // counting (spaces.js, jobs.js load after this file).
  window.studioFormatDuration = function (seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h) return h + " h " + pad(m) + " min";
    if (m) return m + " min " + pad(s) + " s";
    return s + " s";
  };

  // The domain switcher submits on change; without script it keeps its button.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Menus are <details>: close an open one on a click elsewhere or on Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest("details.usermenu"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") closeMenus(null);
  });

  // A [data-copy] button copies the text of the element it names.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent;
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        // Plain http on another host has no clipboard API; select the text for Ctrl-C instead.
        var range = document.createRange();
        range.selectNodeContents(document.getElementById(button.dataset.copy));
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (document.execCommand("copy")) done();
      }
    });
  });

  // A form[data-confirm] asks before it stops or deletes anything; without script it posts at
  // once. One listener on the document, in the capture phase: it also covers forms swapped in
  // later (live.js regions, spaces.js panes), and it runs before spaces.js posts a data-async
  // form in the background, so a "no" stops that too.
  document.addEventListener("submit", function (e) {
    var message = e.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
})();
