// Small conveniences on top of pages that work without script.
(function () {
  "use strict";

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
})();
