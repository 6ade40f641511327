// "Copy link" buttons on the staff appointment pages (shown only when this script runs).
(function () {
  "use strict";

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on the clinic's network: the older way.
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    var done = document.execCommand("copy");
    document.body.removeChild(field);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var status = document.querySelector(".copy-status");
    document.querySelectorAll("button.copy-link").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(button.getAttribute("data-copy")).then(function () {
          if (status) { status.textContent = "Link copied."; }
          button.classList.add("copied");
        }, function () {
          if (status) { status.textContent = "Could not copy: open the QR code page and copy the link there."; }
        });
      });
    });
  });
})();
