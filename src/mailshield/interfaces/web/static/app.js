// MailShield's progressive enhancement. Every page works without this file; it only adds
// copy buttons, a busy state on slow forms, and keeps keyboard focus sensible.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy buttons: copy the neighbouring <pre> text; without JS the text stays selectable.
  function copyText(button) {
    var box = button.closest(".copyable");
    var source = box && box.querySelector(".copy-text");
    if (!source) return;
    var text = source.textContent;
    var done = function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      window.setTimeout(function () {
        button.textContent = "Copy";
        button.classList.remove("copied");
      }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else {
      selectText(source);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected for manual copy */ }
    }
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copyText(button);
  });

  // Slow forms (checks take seconds): show that work is under way and prevent double submits.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute("data-busy-text");
    if (!text) return;
    if (form.classList.contains("is-busy")) { event.preventDefault(); return; }
    form.classList.add("is-busy");
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.setAttribute("aria-disabled", "true");
      button.dataset.label = button.textContent;
      var spinner = document.createElement("span");
      spinner.className = "spinner";
      spinner.setAttribute("aria-hidden", "true");
      button.replaceChildren(spinner, document.createTextNode(text));
    }
  });

  // Back/forward cache: a page restored after a check must not stay "busy".
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.is-busy").forEach(function (form) {
      form.classList.remove("is-busy");
      var button = form.querySelector("button[type=submit]");
      if (button && button.dataset.label) {
        button.textContent = button.dataset.label;
        button.removeAttribute("aria-disabled");
      }
    });
  });

  // Open <details> when a link points inside it (e.g. #check-spf to a folded finding).
  function openTarget() {
    if (!location.hash) return;
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
