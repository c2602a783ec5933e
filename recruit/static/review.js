// The review page: the first criterion to score has focus on load; keys 1–5 score the
// criterion in focus (or the first unscored one) and move on to the next, then to the note
// for coordinators (the comment for the candidate follows it); Enter on a score or Ctrl+Enter
// in either text submits; drafts autosave, both texts included.
// Without this script the page still works: radio buttons, two textareas and a submit button.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form || !form.querySelector("button[type=submit]")) { return; }
  var status = form.querySelector(".draft-status");
  var tokenField = form.querySelector("input[name=csrf_token]");
  var comment = form.querySelector("textarea[name=comment]");
  var forCandidate = form.querySelector("textarea[name=candidate_comment]");
  var fieldsets = Array.prototype.slice.call(form.querySelectorAll("fieldset.criterion"));
  var timer = null;
  var pending = false;

  function collect() {
    var scores = {};
    fieldsets.forEach(function (fs) {
      var checked = fs.querySelector("input[type=radio]:checked");
      if (checked) { scores[fs.dataset.criterion] = parseInt(checked.value, 10); }
    });
    return { scores: scores, comment: comment ? comment.value : "",
             candidate_comment: forCandidate ? forCandidate.value : "" };
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

  // The radio a criterion's keyboard focus belongs on: the chosen score, else the first.
  function radioOf(fieldset) {
    return fieldset.querySelector("input[type=radio]:checked") ||
      fieldset.querySelector("input[type=radio]");
  }

  function firstUnscored() {
    for (var i = 0; i < fieldsets.length; i++) {
      if (!fieldsets[i].querySelector("input[type=radio]:checked")) { return fieldsets[i]; }
    }
    return null;
  }

  function focusAfter(fieldset) {
    var next = fieldsets[fieldsets.indexOf(fieldset) + 1];
    if (next) {
      radioOf(next).focus();
    } else if (comment) {
      comment.focus();
    }
  }

  form.addEventListener("change", function () { schedule(300); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { schedule(1200); }
  });
  window.addEventListener("pagehide", function () { if (pending) { save(); } });

  function submitNow() {
    if (timer) { clearTimeout(timer); timer = null; pending = false; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.metaKey || event.defaultPrevented) { return; }
    var target = event.target;
    var typing = target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "radio") || target.isContentEditable;
    if (event.key === "Enter" && form.contains(target)) {
      if (typing && !event.ctrlKey) { return; }
      event.preventDefault();
      submitNow();
      return;
    }
    if (typing || event.ctrlKey || !/^[1-5]$/.test(event.key)) { return; }
    // Anywhere on the page but in a text field: score the criterion in focus, else the
    // first one still without a score.
    var fieldset = form.contains(target) ? target.closest("fieldset.criterion") : null;
    fieldset = fieldset || firstUnscored();
    if (!fieldset) { return; }
    var radio = fieldset.querySelector("input[type=radio][value='" + event.key + "']");
    if (!radio || radio.disabled) { return; }
    event.preventDefault();
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    focusAfter(fieldset);
  });

  // Start where the work is: the first criterion without a score (or the comment), without
  // scrolling: on a phone the rubric sits below the answer, which is read first.
  var start = firstUnscored();
  if (start) {
    radioOf(start).focus({ preventScroll: true });
  } else if (fieldsets.length && comment && !comment.value) {
    comment.focus({ preventScroll: true });
  }
})();
