// The custodian's answer check: selecting text in the original fills in the offsets of the
// "redact a stretch" form. Offsets count Unicode code points, as Python does on the server.
(function () {
  "use strict";
  var original = document.getElementById("original");
  var form = document.getElementById("mark-span");
  if (!original || !form) { return; }
  var startInput = form.querySelector("input[name=start]");
  var endInput = form.querySelector("input[name=end]");
  var preview = document.getElementById("selection-preview");

  function codePoints(text) { return Array.from(text).length; }

  // Position (in code points of the whole answer) of a DOM point inside the original.
  function offsetOf(node, offset) {
    var el = node.nodeType === Node.TEXT_NODE ? node.parentNode : node;
    if (el === original) {
      // The point lies between segments: take the start of the segment after it.
      var child = original.childNodes[offset];
      if (!child) { return Number(original.dataset.length); }
      return Number(child.dataset.start);
    }
    var segment = el.closest("[data-start]");
    if (!segment || !original.contains(segment)) { return null; }
    var text = node.nodeType === Node.TEXT_NODE ? node.textContent.slice(0, offset) : "";
    return Number(segment.dataset.start) + codePoints(text);
  }

  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return; }
    var range = selection.getRangeAt(0);
    if (!original.contains(range.startContainer) || !original.contains(range.endContainer)) { return; }
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) { return; }
    startInput.value = start;
    endInput.value = end;
    if (preview) { preview.textContent = "«" + selection.toString() + "»"; }
  });
})();
