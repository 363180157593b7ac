// Sends the session's CSRF token with requests that change something: htmx requests get the X-CSRF-Token header,
// and adminFetch(url, options) is fetch() with it. Plain forms carry it in a hidden csrf_token field instead.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = token;
  });
  window.adminFetch = function (url, options) {
    options = options || {};
    var headers = new Headers(options.headers || {});
    headers.set("X-CSRF-Token", token);
    options.headers = headers;
    options.credentials = "same-origin";
    return fetch(url, options);
  };
})();

// Lessons and Nudges (connectors/admin/lessons.py, nudges.py): progressive enhancements only; every form works
// without them. A form with data-busy says so while the server works (uploads, drafting with the model); the lesson
// editor shows one empty option row at a time behind "Add an option" and counts the lesson text; the nudge form shows
// only the fields that the chosen target and repeat use.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-busy");
    if (!message || event.defaultPrevented) return;
    var status = form.querySelector(".busy");
    if (status) status.textContent = message;
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () {  // after the browser has taken the submit button's value
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  function setUpOptions(fieldset) {
    var add = fieldset.querySelector("[data-add-option]");
    var empty = Array.prototype.slice.call(fieldset.querySelectorAll("[data-option][data-empty]"));
    if (!add || empty.length < 2) return;
    empty.slice(1).forEach(function (row) { row.hidden = true; });
    add.hidden = false;
    add.addEventListener("click", function () {
      var next = fieldset.querySelector("[data-option][hidden]");
      if (next) {
        next.hidden = false;
        next.querySelector("input").focus();
      }
      if (!fieldset.querySelector("[data-option][hidden]")) add.hidden = true;
    });
  }

  function setUpCounter(counter) {
    var field = document.getElementById(counter.getAttribute("data-counts"));
    if (!field) return;
    var show = function () { counter.textContent = field.value.trim().length.toLocaleString() + " characters now."; };
    field.addEventListener("input", show);
    show();
  }

  function setUpNudgeForm(form) {
    var update = function () {
      var target = (form.querySelector("input[name=target]:checked") || {}).value;
      var repeat = (form.querySelector("select[name=repeat]") || {}).value;
      var flagged = function (el) {  // a field with a problem stays in view whatever is chosen
        return el.matches("[aria-invalid=true]") || el.querySelector("[aria-invalid=true]") !== null;
      };
      form.querySelectorAll("[data-when-target]").forEach(function (el) {
        el.hidden = el.getAttribute("data-when-target") !== target && !flagged(el);
      });
      form.querySelectorAll("[data-when-repeat]").forEach(function (el) {
        var wanted = el.getAttribute("data-when-repeat").split(" ");
        el.hidden = wanted.indexOf(repeat) < 0 && !flagged(el);
      });
    };
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset.options").forEach(setUpOptions);
    document.querySelectorAll("[data-counts]").forEach(setUpCounter);
    document.querySelectorAll("form[data-nudge-form]").forEach(setUpNudgeForm);
  });
})();

// Content upload (connectors/admin/content.py): files dropped on the drop zone or chosen in its file input are sent
// one per request (XHR, for upload progress), each shown in a list with its progress and then its result (added,
// updated, unchanged or refused with the reason), announced through the form's status region. Without this script
// the form posts every file at once and the server answers with a results page.
(function () {
  "use strict";
  var WORDS = { added: "added", updated: "updated", unchanged: "unchanged", refused: "refused" };

  function setUpUpload(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".dropzone");
    var list = document.getElementById("upload-files");
    var status = document.getElementById("upload-status");
    var overall = document.getElementById("upload-progress");
    var button = form.querySelector("button[type=submit]");
    var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    var queue = [];
    if (!input || !zone || !list || !window.FormData) return;
    input.required = false;  // dropped files are not in the input; the script checks for an empty choice itself

    function row(file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      var bar = document.createElement("progress");
      var state = document.createElement("span");
      name.className = "file-name";
      name.textContent = file.name;
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + file.name);
      state.className = "file-state";
      state.textContent = "waiting";
      item.append(name, " ", bar, " ", state);
      list.appendChild(item);
      return { file: file, item: item, bar: bar, state: state };
    }

    function choose(files) {
      Array.prototype.forEach.call(files, function (file) { queue.push(row(file)); });
      status.textContent = queue.length + (queue.length === 1 ? " file" : " files") + " ready to upload.";
    }

    input.addEventListener("change", function () {
      list.textContent = "";
      queue = [];
      choose(input.files);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) choose(event.dataTransfer.files);
    });

    function send(entry, done) {
      var data = new FormData(form);
      data.delete("files");
      data.append("files", entry.file, entry.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", token);
      entry.state.textContent = "uploading";
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) entry.bar.value = Math.round(100 * event.loaded / event.total);
      });
      xhr.upload.addEventListener("load", function () {
        entry.bar.value = 100;
        entry.state.textContent = "ingesting…";
      });
      xhr.addEventListener("load", function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (ignored) { answer = {}; }
        var result = (answer.files || [])[0];
        if (xhr.responseURL && xhr.responseURL.indexOf("/admin/login") >= 0) {
          show(entry, "refused", "your session has ended: sign in again in another tab, then upload this file again");
        } else if (xhr.status === 200 && result) {
          show(entry, result.status, result.status === "refused" ? result.reason : result.chunks + (result.chunks === 1 ? " chunk" : " chunks"),
               result.status === "refused" ? "" : result.source_id);
        } else {
          show(entry, "refused", answer.detail || ("the server answered " + xhr.status));
        }
        done(result ? result.status : "refused");
      });
      xhr.addEventListener("error", function () {
        show(entry, "refused", "the upload did not reach the server: check the connection and try again");
        done("refused");
      });
      xhr.send(data);
    }

    function show(entry, word, detail, sourceId) {
      entry.bar.hidden = true;
      entry.state.textContent = "";
      var badge = document.createElement("span");
      badge.className = "badge " + word;
      badge.textContent = WORDS[word] || word;
      entry.state.appendChild(badge);
      entry.state.append(" " + detail);
      if (sourceId) {
        var link = document.createElement("a");
        link.href = "/admin/content/sources/" + encodeURIComponent(sourceId);
        link.textContent = "open";
        entry.state.append(" · ", link);
      }
      status.textContent = entry.file.name + ": " + (WORDS[word] || word) + ", " + detail + ".";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var todo = queue.filter(function (entry) { return !entry.sent; });
      if (!todo.length) {
        status.textContent = "Choose or drop at least one file first.";
        input.focus();
        return;
      }
      var counts = {};
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      overall.hidden = false;
      overall.max = todo.length;
      overall.value = 0;
      (function next(n) {
        if (n === todo.length) {
          button.disabled = false;
          form.removeAttribute("aria-busy");
          input.value = "";
          status.textContent = "Done: " + Object.keys(counts).map(function (k) { return counts[k] + " " + k; }).join(", ") + ".";
          return;
        }
        todo[n].sent = true;
        status.textContent = "Uploading " + todo[n].file.name + " (" + (n + 1) + " of " + todo.length + ")…";
        send(todo[n], function (word) {
          counts[word] = (counts[word] || 0) + 1;
          overall.value = n + 1;
          next(n + 1);
        });
      })(0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload-form");
    if (form) setUpUpload(form);
  });
})();

// Reports and Content gaps (connectors/admin/reports.py, gaps.py): draws each [data-chart] element from the Vega-Lite
// specs in the page's JSON block (#chart-specs: {options, specs}) with the vendored scripts. Vega's expression
// interpreter stands in for its code generation, which the admin's Content-Security-Policy (no 'unsafe-eval')
// forbids, and vega-embed's and the tooltip's styles are in admin.css rather than injected (no inline styles). A drawn chart gets data-drawn="true"; one that fails says so, and the table under it has the numbers.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var block = document.getElementById("chart-specs");
    var elements = document.querySelectorAll("[data-chart]");
    if (!block || !elements.length) return;
    if (!window.vegaEmbed || !window.vega || !window.vega.expressionInterpreter) {
      elements.forEach(function (el) { el.textContent = "The chart scripts did not load; the table below has the numbers."; });
      return;
    }
    var data = JSON.parse(block.textContent);
    // their default styles come from admin.css: the CSP's style-src has no 'unsafe-inline' for injected <style>
    var options = Object.assign({}, data.options, { ast: true, expr: window.vega.expressionInterpreter,
                                                    defaultStyle: false, tooltip: { disableDefaultStyle: true } });
    elements.forEach(function (el) {
      var spec = data.specs[el.getAttribute("data-chart")];
      if (!spec) return;
      window.vegaEmbed(el, spec, options).then(function () {
        el.setAttribute("data-drawn", "true");
      }).catch(function (error) {
        el.setAttribute("data-drawn", "false");
        el.textContent = "The chart could not be drawn (" + error.message + "); the table below has the numbers.";
      });
    });
  });
})();
