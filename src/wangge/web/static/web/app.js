/* Small behaviours of the shell, kept out of inline attributes (CSP-friendly). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".node > button.toggle");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.parentElement.classList.toggle("open", open);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("form.lang select")) event.target.form.submit();
  });
})();
