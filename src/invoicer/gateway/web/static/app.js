// invoicer web app: the little that htmx does not do. Loaded from this origin
// (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // Drop zone: files dropped on it go into its file input, like files chosen
  // with it; the Upload button says how many it will send and sends them (one
  // way to upload: nothing leaves before the button is pressed).
  function initDropzones(root) {
    root.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      if (zone.dataset.ready) return;
      zone.dataset.ready = "1";
      var input = zone.querySelector("input[type=file]");
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      function show() {
        var count = input.files.length;
        var button = input.form.querySelector("[data-upload-button]");
        zone.querySelector("span").textContent = count ? count + (count === 1 ? " file chosen" : " files chosen") : "or choose them";
        if (button) button.textContent = count > 1 ? "Upload " + count + " files" : "Upload";
      }
      input.addEventListener("change", show);
      // Once sent, the files are the jobs' below: the chooser starts empty again.
      input.form.addEventListener("htmx:afterRequest", function (event) {
        if (event.detail.successful) { input.value = ""; show(); }
      });
    });
  }

  // Editor lines: add from the <template>, remove in place, renumber; the
  // server recomputes the totals on "lines-changed".
  function renumber(lines) {
    lines.querySelectorAll("[data-line]").forEach(function (line, index) {
      var number = line.querySelector("[data-line-number]");
      if (number) number.textContent = String(index + 1);
      var remove = line.querySelector("[data-remove-line]");
      if (remove) remove.setAttribute("aria-label", "Remove line " + (index + 1));
    });
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-line]");
    if (add) {
      var lines = document.querySelector("[data-lines]");
      var index = Number(lines.dataset.nextIndex || lines.children.length);
      lines.dataset.nextIndex = String(index + 1);
      var html = document.getElementById("line-template").innerHTML.split("__i__").join(String(index));
      lines.insertAdjacentHTML("beforeend", html);
      renumber(lines);
      var added = lines.lastElementChild.querySelector("input");
      if (added) added.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-line]");
    if (remove) {
      var container = remove.closest("[data-lines]");
      var form = remove.closest("form");
      remove.closest("[data-line]").remove();
      renumber(container);
      if (form && window.htmx) window.htmx.trigger(form, "lines-changed");
    }
  });

  // A form that htmx also posts in the background (the editor's totals, as you
  // type): saving it while such a request is in flight would abort that
  // request (htmx logs an abort as an error) and lose nothing but noise, so
  // the save waits for the answer and then goes; once saving, no new
  // background request starts.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.dataset) return;
    if (form.dataset.saving) { event.preventDefault(); return; }
    form.dataset.busy = "1";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.dataset) return;
    delete form.dataset.busy;
    if (form.pendingSave) {
      var submitter = form.pendingSave.submitter;
      form.pendingSave = null;
      if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("hx-post") || form.hasAttribute("data-htmx-submit")) return;
    if (form.dataset.busy) {
      event.preventDefault();
      event.stopImmediatePropagation();
      form.pendingSave = { submitter: event.submitter || null };
      return;
    }
    form.dataset.saving = "1";
  }, true);

  // Forms marked data-confirm ask first.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // A form posted the ordinary way shows that it is waiting (Pico draws a
  // spinner on aria-busy). htmx forms show their own indicator.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented || event.target.hasAttribute("data-htmx-submit")) return;
    var button = event.submitter || event.target.querySelector("button[type=submit]");
    if (button) { button.setAttribute("aria-busy", "true"); }
  });

  // htmx 2 does not swap 4xx answers by default; the app's partials answer
  // 422 with the form and its errors, which must be shown.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });

  // A table too wide for a phone scrolls inside its .table-wrap; the wrap is
  // then a named region that takes the keyboard focus, so that arrow keys can
  // scroll it (WCAG 2.1.1; axe's scrollable-region-focusable). Named after the
  // table's caption, else the heading before it.
  function initTableWraps(root) {
    var wraps = root.matches && root.matches(".table-wrap") ? [root] : root.querySelectorAll(".table-wrap");
    Array.prototype.forEach.call(wraps, function (wrap) {
      if (wrap.hasAttribute("tabindex")) return;
      var caption = wrap.querySelector("caption");
      var heading = wrap.closest("section, article, main");
      heading = heading && heading.querySelector("h1, h2, h3");
      var name = (caption || heading || {}).textContent;
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", (name || "Table").trim());
    });
  }

  // The editor's totals name the inputs whose values they cannot count
  // (data-invalid: their ids); each is marked invalid and described by the
  // problems under the totals, and unmarked once it is fixed.
  function markInvalid(root) {
    var totals = root.id === "totals" ? root : root.querySelector && root.querySelector("#totals");
    if (!totals) return;
    var form = totals.closest("form");
    if (!form) return;
    var ids = (totals.getAttribute("data-invalid") || "").split(" ").filter(Boolean);
    form.querySelectorAll("[data-marked-invalid]").forEach(function (input) {
      if (ids.indexOf(input.id) >= 0) return;
      input.removeAttribute("data-marked-invalid");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", input.getAttribute("data-described") || "");
      if (!input.getAttribute("aria-describedby")) input.removeAttribute("aria-describedby");
    });
    ids.forEach(function (id) {
      var input = document.getElementById(id);
      if (!input || input.hasAttribute("data-marked-invalid")) return;
      input.setAttribute("data-marked-invalid", "1");
      input.setAttribute("data-described", input.getAttribute("aria-describedby") || "");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " totals-problems").trim());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initDropzones(document);
    initTableWraps(document);
    markInvalid(document);
  });
  document.addEventListener("htmx:load", function (event) {
    initDropzones(event.detail.elt);
    initTableWraps(event.detail.elt);
    markInvalid(event.detail.elt);
  });
})();
