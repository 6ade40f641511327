// Staff pages only, progressive enhancement: every page works without this file.
// - The idle warning: before the server logs an idle user off, offer "Stay logged in";
//   at the deadline, leave the page (the server then asks to log in, and comes back here).
// - A decision form's typed note, kept in this tab's sessionStorage (never sent anywhere
//   until the provider saves), so that a logoff does not lose it.
// - Keyboard shortcuts: elements with data-shortcut="<key>".
(function () {
  "use strict";

  var DRAFT = "staff-draft:";

  function draftKey(form) {
    return DRAFT + (document.body.getAttribute("data-user") || "") + ":" + form.getAttribute("data-draft");
  }

  function readForm(form) {
    var checked = form.querySelector('input[name="decision"]:checked');
    var confirm = form.querySelector('input[name="confirm_clear"]');
    var defer = form.querySelector('[name="defer_until"]');
    var note = form.querySelector('[name="note"]');
    return {
      decision: checked ? checked.value : "",
      defer_until: defer ? defer.value : "",
      confirm_clear: confirm ? confirm.checked : false,
      note: note ? note.value : ""
    };
  }

  function keepDraft(form) {
    var state = readForm(form);
    try {
      if (state.note || state.decision || state.defer_until) {
        sessionStorage.setItem(draftKey(form), JSON.stringify(state));
      } else {
        sessionStorage.removeItem(draftKey(form));
      }
    } catch (e) { /* storage full or refused: the form still works */ }
  }

  function restoreDraft(form) {
    var stored;
    try { stored = JSON.parse(sessionStorage.getItem(draftKey(form)) || "null"); } catch (e) { stored = null; }
    var now = readForm(form);
    // The server's own values (a form sent back with an error) win over a kept draft.
    if (!stored || now.note || now.decision) { return; }
    var radio = stored.decision && form.querySelector('input[name="decision"][value="' + stored.decision + '"]');
    if (radio) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true })); // reveals what it shows
    }
    var defer = form.querySelector('[name="defer_until"]');
    if (defer && stored.defer_until) { defer.value = stored.defer_until; }
    var confirm = form.querySelector('input[name="confirm_clear"]');
    if (confirm) { confirm.checked = !!stored.confirm_clear; }
    var note = form.querySelector('[name="note"]');
    if (note && stored.note) { note.value = stored.note; }
    var notice = form.querySelector(".draft-restored");
    if (notice && stored.note) { notice.hidden = false; }
  }

  function forgetDrafts(submissionId) {
    try {
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var key = sessionStorage.key(i);
        if (key && key.indexOf(DRAFT) === 0 &&
            (submissionId === null || key.slice(key.lastIndexOf(":") + 1) === submissionId)) {
          sessionStorage.removeItem(key);
        }
      }
    } catch (e) { /* nothing kept */ }
  }

  function keepAllDrafts() {
    document.querySelectorAll("form[data-draft]").forEach(keepDraft);
  }

  // -- the idle warning ---------------------------------------------------------------------

  function idleWarning() {
    var body = document.body;
    var left = parseInt(body.getAttribute("data-idle-seconds") || "", 10);
    var total = parseInt(body.getAttribute("data-idle-total") || "", 10);
    var box = document.getElementById("idle-warning");
    if (!(left >= 0) || !(total > 0) || !box) { return; }
    var lead = Math.min(120, Math.floor(total / 2)); // warn 2 minutes before (less if idle is short)
    var stay = box.querySelector("[data-idle-stay]");
    var shown = box.querySelector("[data-idle-left]");
    var deadline, warnTimer, endTimer, tick;

    function words(seconds) {
      if (seconds >= 90) { return Math.round(seconds / 60) + " minutes"; }
      return seconds + " second" + (seconds === 1 ? "" : "s");
    }

    function leave() {
      keepAllDrafts();
      // Ask the server for this page again: logged off, it shows the login page and
      // brings the provider back here; still logged in (another tab was busy), the page.
      window.location.replace(body.getAttribute("data-return") || window.location.href);
    }

    function warn() {
      box.hidden = false;
      var update = function () {
        shown.textContent = words(Math.max(0, Math.round((deadline - Date.now()) / 1000)));
      };
      update();
      tick = setInterval(update, 1000);
      stay.focus();
    }

    function arm(seconds) {
      clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
      box.hidden = true;
      deadline = Date.now() + seconds * 1000;
      warnTimer = setTimeout(warn, Math.max(0, seconds - lead) * 1000);
      endTimer = setTimeout(leave, (seconds + 2) * 1000); // just after the server's deadline
    }

    stay.addEventListener("click", function () {
      var logout = document.querySelector("form[data-logout] input[name=csrf_token]");
      fetch(body.getAttribute("data-keepalive"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": logout ? logout.value : "", "Accept": "application/json" }
      }).then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (!response.ok || response.redirected || !json) { throw new Error("logged off"); }
        return response.json();
      }).then(function (data) {
        arm(data.seconds_left);
      }).catch(leave);
    });
    arm(left);
  }

  // -- keyboard shortcuts --------------------------------------------------------------------

  function shortcuts() {
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) { return; }
      var target = event.target;
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) { return; }
      var key = (event.key || "").toLowerCase();
      if (!/^[a-z]$/.test(key)) { return; }
      var el = document.querySelector('[data-shortcut="' + key + '"]');
      if (!el) { return; }
      event.preventDefault();
      if (el.tagName === "A") {
        window.location.assign(el.href);
      } else {
        var field = el.querySelector("input:checked, input:not([type=hidden]), textarea");
        (field || el).focus();
        el.scrollIntoView({ block: "start" });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var saved = document.body.getAttribute("data-saved");
    if (saved) { forgetDrafts(saved); }
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      restoreDraft(form);
      form.addEventListener("input", function () { keepDraft(form); });
      form.addEventListener("change", function () { keepDraft(form); });
    });
    document.querySelectorAll("form[data-logout]").forEach(function (form) {
      form.addEventListener("submit", function () { forgetDrafts(null); });
    });
    // On a phone, filters nobody uses yet fold away so that the list is on the first screen.
    if (window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) {
      document.querySelectorAll("details[data-fold-on-phone]:not([data-in-use])").forEach(
        function (details) { details.open = false; });
    }
    idleWarning();
    shortcuts();
  });
})();
