// Printouts: the toolbar's Print button, and `?print=1` opening the print dialog as soon as the page's fonts are
// in (a receipt printed before its font has loaded would come out in a fallback font).
(function () {
  "use strict";
  function printNow() { window.print(); }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print-now]").forEach(function (button) {
      button.addEventListener("click", printNow);
    });
    if (document.body.hasAttribute("data-auto-print")) {
      (document.fonts ? document.fonts.ready : Promise.resolve()).then(printNow);
    }
  });
})();
