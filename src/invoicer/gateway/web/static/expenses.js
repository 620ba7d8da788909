// The expenses page: drop or choose many files; each is sent on its own request with a
// progress bar of its own, then the list refreshes. Without this script the form posts them
// all at once and the page comes back with a message per file.
(function () {
  "use strict";
  const form = document.getElementById("expense-upload");
  if (!form) { return; }
  const input = document.getElementById("expense-files");
  const list = document.getElementById("expense-progress");
  const token = form.querySelector("input[name=csrf_token]").value;

  function send(file) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    item.append(name, bar);
    list.append(item);
    return new Promise(function (resolve) {
      const body = new FormData();
      body.append("files", file);
      body.append("csrf_token", token);
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Requested-With", "fetch");
      request.setRequestHeader("X-CSRFToken", token);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.value = Math.round((event.loaded / event.total) * 100); }
      });
      request.addEventListener("load", function () {
        let result = null;
        try { result = JSON.parse(request.responseText).results[0]; } catch (error) { result = null; }
        const status = document.createElement("span");
        if (request.status === 200 && result && result.ok) {
          bar.value = 100;
          status.textContent = "received, being read";
        } else {
          item.classList.add("failed");
          status.textContent = result && result.message ? result.message : "refused (" + request.status + ")";
        }
        item.replaceChild(status, bar);
        resolve();
      });
      request.addEventListener("error", function () {
        item.classList.add("failed");
        bar.replaceWith(Object.assign(document.createElement("span"), { textContent: "could not be sent" }));
        resolve();
      });
      request.send(body);
    });
  }

  async function sendAll(files) {
    for (const file of files) { await send(file); }
    if (window.htmx) {
      window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#expense-rows", swap: "innerHTML" });
    }
  }

  form.addEventListener("submit", function (event) {
    if (!input.files.length) { return; }
    event.preventDefault();
    sendAll(Array.from(input.files));
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    form.addEventListener(type, function (event) { event.preventDefault(); form.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    form.addEventListener(type, function () { form.classList.remove("dragging"); });
  });
  form.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) { sendAll(Array.from(event.dataTransfer.files)); }
  });
}());
