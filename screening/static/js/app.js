// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // A page restored from the back/forward cache may belong to the previous client, or show
  // answers older than the saved ones: reload it, so the server decides what it shows now.
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
      refresh();  // as the boxes are now, should a browser have put older values back
      document.addEventListener("change", refresh);
    }

    // A double tap on a submit button sends the form once.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var once = form.querySelector("[data-once]");
        if (once) { setTimeout(function () { once.disabled = true; }, 0); }
      });
    });

    kioskTimer();
  });

  // Kiosk: a client's page left alone returns to a blank start for the next person. When
  // data-kiosk-warn is set, it first asks "Are you still there?" for that many seconds.
  function kioskTimer() {
    var body = document.body;
    var idle = parseInt(body.getAttribute("data-kiosk-idle") || "0", 10);
    var warn = parseInt(body.getAttribute("data-kiosk-warn") || "0", 10);
    var reset = document.getElementById("kiosk-reset");
    var dialog = document.getElementById("kiosk-warning");
    if (!(idle > 0) || !reset) { return; }
    if (!dialog || typeof dialog.showModal !== "function") { warn = 0; }
    var countdown = document.getElementById("kiosk-countdown");
    var timer, ticker, deadline;

    function end() {
      clearTimeout(timer);
      clearInterval(ticker);
      reset.submit();
    }
    function tick() {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) { end(); } else if (countdown) { countdown.textContent = String(left); }
    }
    function ask() {
      deadline = Date.now() + warn * 1000;
      tick();
      dialog.showModal();
      ticker = setInterval(tick, 250);
    }
    function arm() {
      if (dialog && dialog.open) { return; }  // only "I'm still here" answers the question
      clearTimeout(timer);
      timer = warn > 0 ? setTimeout(ask, (idle - warn) * 1000) : setTimeout(end, idle * 1000);
    }
    function stillHere() {
      clearInterval(ticker);
      if (dialog.open) { dialog.close(); }
      arm();
    }
    if (warn > 0) {
      document.getElementById("kiosk-still-here").addEventListener("click", stillHere);
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); stillHere(); });
    }
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (type) {
      document.addEventListener(type, arm, { passive: true });
    });
    arm();
  }
})();
