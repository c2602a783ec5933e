// The review page: keys 1–5 score the focused criterion, Enter submits, drafts autosave.
// Without this script the page still works: radio buttons, a textarea and a submit button.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form || !form.querySelector("button[type=submit]")) { return; }
  var status = form.querySelector(".draft-status");
  var tokenField = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var pending = false;

  function collect() {
    var scores = {};
    form.querySelectorAll("fieldset.criterion").forEach(function (fs) {
      var checked = fs.querySelector("input[type=radio]:checked");
      if (checked) { scores[fs.dataset.criterion] = parseInt(checked.value, 10); }
    });
    var comment = form.querySelector("textarea[name=comment]");
    return { scores: scores, comment: comment ? comment.value : "" };
  }

  function save() {
    timer = null;
    pending = false;
    fetch(form.dataset.draftUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": tokenField.value },
      body: JSON.stringify(collect())
    }).then(function (response) {
      if (status) { status.textContent = response.ok ? form.dataset.savedText : form.dataset.failedText; }
    }).catch(function () {
      if (status) { status.textContent = form.dataset.failedText; }
    });
  }

  function schedule(delay) {
    pending = true;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, delay);
  }

  form.addEventListener("change", function () { schedule(300); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { schedule(1200); }
  });
  window.addEventListener("pagehide", function () { if (pending) { save(); } });

  form.addEventListener("keydown", function (event) {
    if (event.altKey || event.metaKey) { return; }
    var inText = event.target.tagName === "TEXTAREA";
    if (event.key === "Enter") {
      if (inText && !event.ctrlKey) { return; }
      event.preventDefault();
      if (timer) { clearTimeout(timer); timer = null; pending = false; }
      form.requestSubmit ? form.requestSubmit() : form.submit();
      return;
    }
    if (inText || event.ctrlKey || !/^[1-5]$/.test(event.key)) { return; }
    var fieldset = event.target.closest("fieldset.criterion");
    if (!fieldset) { return; }
    var radio = fieldset.querySelector("input[type=radio][value='" + event.key + "']");
    if (!radio) { return; }
    event.preventDefault();
    radio.checked = true;
    radio.focus();
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
