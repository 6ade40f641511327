// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // A page restored from the back/forward cache may belong to the previous client:
  // reload it, so the server decides what this browser may see now.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // After a failed submit, move focus to the error summary.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }

    // Reveal show-if questions as soon as their condition holds (the server decides too):
    // {"cold_sores": "yes"} when that answer is chosen, {"treatment_areas": {"includes":
    // "other"}} when that box is ticked.
    var dependents = document.querySelectorAll("[data-show-if]");
    function isChecked(name, value) {
      var checked = document.querySelectorAll('input[name="' + name + '"]:checked');
      return Array.prototype.some.call(checked, function (input) {
        return input.value === value;
      });
    }
    function refresh() {
      dependents.forEach(function (el) {
        var cond = JSON.parse(el.getAttribute("data-show-if"));
        var shown = Object.keys(cond).every(function (name) {
          var want = cond[name];
          return isChecked(name, want && typeof want === "object" ? want.includes : want);
        });
        el.hidden = !shown;
      });
    }
    if (dependents.length) {
      document.addEventListener("change", refresh);
    }

    // A double tap on a submit button sends the form once.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var once = form.querySelector("[data-once]");
        if (once) { setTimeout(function () { once.disabled = true; }, 0); }
      });
    });

    // Kiosk: after idling, return to a fresh start for the next client.
    var idle = parseInt(document.body.getAttribute("data-kiosk-idle") || "0", 10);
    var resetUrl = document.body.getAttribute("data-kiosk-reset");
    if (idle > 0 && resetUrl) {
      var timer;
      var arm = function () {
        clearTimeout(timer);
        timer = setTimeout(function () { window.location.replace(resetUrl); }, idle * 1000);
      };
      ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (type) {
        document.addEventListener(type, arm, { passive: true });
      });
      arm();
    }
  });
})();
