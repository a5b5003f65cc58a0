/* Review screen shortcuts: 1/2/3 sentiment, Shift+1..5 quality, i intent, Enter confirm,
   s skip, j next, k previous. Ignored while typing in a text field (Enter still submits). */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var sentiments = form.querySelectorAll('input[name="sentiment"]');
  var quality = form.querySelector('input[name="quality"]');
  var intent = form.querySelector('input[name="intent"]');
  function typing(el) { return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && ["text", "number", "search"].indexOf(el.type) >= 0) || el.tagName === "SELECT"); }
  function go(id) { var a = document.getElementById(id); if (a) window.location.href = a.href; }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(document.activeElement)) {
      if (e.key === "Escape") document.activeElement.blur();
      return;
    }
    var digit = e.code && e.code.indexOf("Digit") === 0 ? parseInt(e.code.slice(5), 10) : NaN;
    if (e.shiftKey && digit >= 1 && digit <= 5) { quality.value = digit; e.preventDefault(); return; }
    if (!e.shiftKey && digit >= 1 && digit <= 3 && sentiments[digit - 1]) { sentiments[digit - 1].checked = true; sentiments[digit - 1].focus(); e.preventDefault(); return; }
    switch (e.key) {
      case "Enter": e.preventDefault(); document.getElementById("review-submit").click(); break;
      case "s": e.preventDefault(); document.getElementById("review-skip").click(); break;
      case "j": go("review-next"); break;
      case "k": go("review-prev"); break;
      case "i": e.preventDefault(); intent.focus(); intent.select(); break;
    }
  });
})();
