/* Autosave for stage answers, the countdown, and text kept in the browser.
 *
 * Every few seconds a changed answer is posted as JSON ({text, version}) with the CSRF token
 * in the X-CSRFToken header; the server answers with the new version and "Saved at …".
 * Until the server confirms, the text also lives in localStorage under the answer's id, so an
 * expired session, a lost connection or a closed tab loses nothing: on the next page load the
 * text is restored and sent again. A save based on an old version (another tab saved since)
 * is refused by the server (409) and never overwrites; the applicant chooses what to keep.
 * Configuration comes from data-* attributes; no inline script is needed.
 */
(function () {
  "use strict";

  var PREFIX = "recruit:answer:";
  var INTERVAL = 3000;
  var WORD = /[\p{L}\p{N}]+(?:[-'\u2019][\p{L}\p{N}]+)*/gu;

  function readStored(id) {
    try {
      var raw = window.localStorage.getItem(PREFIX + id);
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      return null;
    }
  }

  function writeStored(id, value) {
    try {
      window.localStorage.setItem(PREFIX + id, JSON.stringify(value));
    } catch (e) { /* storage full or disabled: the server copy still works */ }
  }

  function forget(id) {
    try { window.localStorage.removeItem(PREFIX + id); } catch (e) { /* ignore */ }
  }

  function countWords(text) {
    var m = text.match(WORD);
    return m ? m.length : 0;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  /* -- read-only page: show text typed here that never reached the server ---------------- */
  function keptAfterSubmit() {
    var conf = document.getElementById("kept-messages");
    if (!conf) { return; }
    var blocks = document.querySelectorAll("[data-submitted-for]");
    Array.prototype.forEach.call(blocks, function (block) {
      var id = block.getAttribute("data-submitted-for");
      var stored = readStored(id);
      if (!stored) { return; }
      if (stored.text.trim() === block.textContent.trim() || !stored.text.trim()) {
        forget(id);
        return;
      }
      var box = el("div", "late");
      box.appendChild(el("p", null, conf.dataset.msgKept));
      var area = el("textarea");
      area.readOnly = true;
      area.rows = 6;
      area.value = stored.text;
      box.appendChild(area);
      var drop = el("button", "button", conf.dataset.msgForget);
      drop.type = "button";
      drop.addEventListener("click", function () { forget(id); box.remove(); });
      box.appendChild(drop);
      block.parentNode.insertBefore(box, block.nextSibling);
    });
  }

  /* -- countdown -------------------------------------------------------------------------- */
  function countdown() {
    var node = document.getElementById("countdown");
    if (!node) { return; }
    var end = Date.now() + parseInt(node.dataset.remaining, 10) * 1000;
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    function update() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left <= 0) {
        node.textContent = node.dataset.msgUp;
        node.classList.add("up");
        window.clearInterval(timer);
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      var text = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
      node.textContent = node.dataset.msgLeft.replace("{time}", text);
      node.classList.toggle("soon", left < 300);
    }
    var timer = window.setInterval(update, 1000);
    update();
  }

  /* -- autosave --------------------------------------------------------------------------- */
  function autosave(form) {
    var msg = form.dataset;
    var csrf = form.querySelector('input[name="csrf_token"]').value;
    var halted = false;       // session expired or time up: stop until the page reloads
    var submitting = false;   // the form itself is being sent
    var pendingSubmit = false;
    var pendingSubmitter = null;
    var states = [];

    function version(st) { return parseInt(st.versionInput.value, 10) || 0; }

    function setState(st, text, kind) {
      st.stateEl.textContent = text;
      st.stateEl.className = "save-state" + (kind ? " " + kind : "");
    }

    function showLogin(st, text) {
      setState(st, text + " ", "bad");
      var link = el("a", null, msg.msgLogin);
      link.href = form.dataset.loginUrl;
      st.stateEl.appendChild(link);
    }

    function updateWords(st) {
      var n = countWords(st.area.value);
      st.wordsEl.textContent = msg.msgWords.replace("{n}", n);
      var min = parseInt(st.area.dataset.min, 10) || 0;
      var max = st.area.dataset.max === "" ? null : parseInt(st.area.dataset.max, 10);
      var text = "";
      if (n < min) { text = st.area.dataset.msgShort; }
      else if (max !== null && n > max) { text = st.area.dataset.msgLong; }
      st.limitEl.textContent = text;
      st.limitEl.hidden = !text;
      st.limitEl.classList.toggle("warn", max !== null && n > max);
    }

    function remember(st) {
      writeStored(st.id, { text: st.area.value, base: version(st), at: Date.now(),
                           counts: st.counts });
    }

    /* Counts of how the text arrived, kept until a save that carries them is acknowledged:
       characters typed, characters pasted or dropped, the longest single paste. Only these
       numbers leave the page; never the pasted text, never when keys were pressed. */
    function showCounts(st) {
      st.typedInput.value = st.counts.typed;
      st.pastedInput.value = st.counts.pasted;
      st.longestInput.value = st.counts.longest;
    }

    function count(st, event) {
      var before = st.before;
      st.before = null;
      var kind = event.inputType || "";
      if (!before || kind.indexOf("insert") !== 0) { return; }
      var removed = before.end - before.start;
      var units = st.area.value.length - (before.length - removed);
      if (units <= 0) { return; }
      // Code points, as the server counts characters (an emoji is one).
      var n = Array.from(st.area.value.slice(before.start, before.start + units)).length;
      if (kind === "insertFromPaste" || kind === "insertFromDrop" ||
          kind === "insertFromPasteAsQuotation" || kind === "insertFromYank") {
        st.counts.pasted += n;
        st.counts.longest = Math.max(st.counts.longest, n);
      } else {
        st.counts.typed += n;
      }
      showCounts(st);
    }

    function acknowledge(st, sent) {
      // Counts that arrived while the save was on its way stay for the next one.
      st.counts.typed -= sent.typed;
      st.counts.pasted -= sent.pasted;
      if (st.counts.pasted === 0) { st.counts.longest = 0; }
      showCounts(st);
    }

    function anyInFlight() {
      return states.some(function (st) { return st.inflight; });
    }

    function finished() {
      if (pendingSubmit && !anyInFlight()) {
        var submitter = pendingSubmitter;
        pendingSubmit = false;
        pendingSubmitter = null;
        form.requestSubmit(submitter);
      }
    }

    function send(st) {
      var text = st.area.value;
      var sent = { typed: st.counts.typed, pasted: st.counts.pasted,
                   longest: st.counts.longest };
      st.inflight = true;
      setState(st, msg.msgSaving, "busy");
      fetch(st.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": csrf },
        body: JSON.stringify({ text: text, version: version(st), input: sent })
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { status: response.status, data: data };
        });
      }).then(function (result) {
        var data = result.data;
        if (result.status === 200) {
          st.versionInput.value = data.version;
          acknowledge(st, sent);
          if (st.area.value === text) {
            st.dirty = false;
            forget(st.id);
          } else {
            remember(st);  // typed on while saving: keep the newer text, on the new version
          }
          setState(st, data.saved_label, "ok");
        } else if (result.status === 401 || (result.status === 400 && data.error === "csrf")) {
          halted = true;
          showLogin(st, data.message || "");
        } else if (result.status === 409 || result.status === 413) {
          st.stopped = true;
          if (data.error === "deadline" || data.error === "submitted" ||
              data.error === "not_in_stage") { halted = true; }
          setState(st, data.message || "", "bad");
        } else {
          setState(st, data.message || msg.msgOffline, "bad");
        }
      }).catch(function () {
        setState(st, msg.msgOffline, "bad");
      }).then(function () {
        st.inflight = false;
        finished();
      });
    }

    function tick() {
      if (halted || submitting) { return; }
      states.forEach(function (st) {
        if (st.dirty && !st.inflight && !st.stopped) { send(st); }
      });
    }

    function restoreCounts(st, stored) {
      var c = stored.counts;
      if (c && typeof c.typed === "number" && typeof c.pasted === "number" &&
          typeof c.longest === "number") {
        st.counts = { typed: c.typed, pasted: c.pasted, longest: c.longest };
        showCounts(st);
      }
    }

    function restore(st) {
      var stored = readStored(st.id);
      if (!stored || typeof stored.text !== "string") { return; }
      if (stored.text === st.area.value) { forget(st.id); return; }
      if (stored.base === version(st)) {
        // Nothing was saved since this text was typed (session expired, connection lost).
        st.area.value = stored.text;
        restoreCounts(st, stored);
        st.dirty = true;
        setState(st, msg.msgRestored, "busy");
        return;
      }
      var box = el("div", "restore notice");
      box.appendChild(el("p", null, msg.msgRestoreConflict));
      var kept = el("textarea");
      kept.readOnly = true;
      kept.rows = 5;
      kept.value = stored.text;
      box.appendChild(kept);
      var use = el("button", "button", msg.msgUseLocal);
      use.type = "button";
      use.addEventListener("click", function () {
        st.area.value = stored.text;
        restoreCounts(st, stored);
        st.dirty = true;
        st.stopped = false;
        remember(st);
        updateWords(st);
        box.remove();
        send(st);
      });
      var drop = el("button", "button", msg.msgDiscardLocal);
      drop.type = "button";
      drop.addEventListener("click", function () { forget(st.id); box.remove(); });
      var row = el("p", "actions");
      row.appendChild(use);
      row.appendChild(drop);
      box.appendChild(row);
      st.area.parentNode.insertBefore(box, st.area);
    }

    var areas = form.querySelectorAll("textarea[data-autosave-url]");
    Array.prototype.forEach.call(areas, function (area) {
      var id = area.dataset.answerId;
      var st = {
        id: id, area: area, url: area.dataset.autosaveUrl,
        versionInput: form.querySelector('[data-version-for="' + id + '"]'),
        stateEl: form.querySelector('[data-state-for="' + id + '"]'),
        wordsEl: form.querySelector('[data-words-for="' + id + '"]'),
        limitEl: form.querySelector('[data-limit-for="' + id + '"]'),
        typedInput: form.querySelector('[data-typed-for="' + id + '"]'),
        pastedInput: form.querySelector('[data-pasted-for="' + id + '"]'),
        longestInput: form.querySelector('[data-longest-for="' + id + '"]'),
        counts: { typed: 0, pasted: 0, longest: 0 }, before: null,
        dirty: false, inflight: false, stopped: false
      };
      states.push(st);
      area.addEventListener("beforeinput", function () {
        st.before = { start: area.selectionStart, end: area.selectionEnd,
                      length: area.value.length };
      });
      area.addEventListener("input", function (event) {
        count(st, event);
        st.dirty = true;
        remember(st);
        updateWords(st);
        if (!st.inflight && !st.stopped && !halted) { setState(st, msg.msgUnsaved, "busy"); }
      });
      area.addEventListener("blur", function () {
        if (st.dirty && !st.inflight && !st.stopped && !halted && !submitting) { send(st); }
      });
      restore(st);
      updateWords(st);
    });

    form.addEventListener("submit", function (event) {
      // Let a running autosave finish first, so the form carries the newest version numbers.
      if (anyInFlight()) {
        event.preventDefault();
        pendingSubmit = true;
        pendingSubmitter = event.submitter || null;
        return;
      }
      submitting = true;
    });

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { tick(); }
    });
    window.setInterval(tick, INTERVAL);
    tick();
  }

  function init() {
    countdown();
    keptAfterSubmit();
    var form = document.getElementById("stage-form");
    if (form) { autosave(form); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
