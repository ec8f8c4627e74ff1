/* Shoka OPAC: small progressive enhancements. Every page works without this script.
 *
 * 1. Kiosk mode (body[data-idle-seconds]): after that many seconds without input, log out (if logged in) and
 *    return to the start page; a warning with a "continue" button shows data-idle-warning-seconds before.
 *    "Continue" also renews the server-side idle time (GET /session/keepalive).
 * 2. The advanced search form leaves empty fields out of the URL it submits.
 */
(function () {
  "use strict";

  function startIdleTimer(body) {
    var idleSeconds = parseInt(body.getAttribute("data-idle-seconds"), 10);
    var warningSeconds = parseInt(body.getAttribute("data-idle-warning-seconds"), 10) || 30;
    if (!idleSeconds) { return; }
    var warning = document.getElementById("idle-warning");
    var continueButton = document.getElementById("idle-continue");
    var warnTimer = null, endTimer = null;

    function end() {
      var logout = document.getElementById("logout-form");
      if (logout) {
        var reason = logout.querySelector("input[name=reason]");
        if (reason) { reason.value = "idle"; }
        logout.submit();
      } else if (window.location.pathname !== "/" || window.location.search) {
        window.location.replace("/");  // the next person starts from a clean page, without this search
      } else {
        schedule();
      }
    }
    function showWarning() {
      if (!warning) { return; }
      warning.hidden = false;
      if (continueButton) { continueButton.focus(); }
    }
    function reset() {
      if (warning && !warning.hidden) { return; }  // only the button dismisses a shown warning
      schedule();
    }
    function schedule() {
      window.clearTimeout(warnTimer);
      window.clearTimeout(endTimer);
      warnTimer = window.setTimeout(showWarning, Math.max(0, idleSeconds - warningSeconds) * 1000);
      endTimer = window.setTimeout(end, idleSeconds * 1000);
    }
    if (continueButton) {
      continueButton.addEventListener("click", function () {
        warning.hidden = true;
        if (window.fetch) { window.fetch("/session/keepalive", {credentials: "same-origin", cache: "no-store"}); }
        schedule();
      });
    }
    ["keydown", "pointerdown", "touchstart", "wheel", "input"].forEach(function (name) {
      document.addEventListener(name, reset, {passive: true});
    });
    schedule();
  }

  function tidyAdvancedForm(form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name) { return; }
        var empty = field.value === "" || (field.name === "sort" && field.value === "relevance") ||
                    (field.name === "per_page" && field.value === "20");
        if (empty && field.type !== "checkbox") { field.disabled = true; }
      });
      window.setTimeout(function () {  // re-enable for the back button
        Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.hasAttribute("data-idle-seconds")) { startIdleTimer(document.body); }
    Array.prototype.forEach.call(document.querySelectorAll("form.advanced-form"), tidyAdvancedForm);
  });
}());
