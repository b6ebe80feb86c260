// File inputs in Persian (see the file_input macro in _form.html): the chosen file's name,
// or «فایلی انتخاب نشده», beside the «انتخاب فایل» button. A static file because the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";

  function persian(number) {
    return String(number).replace(/[0-9]/g, function (digit) { return PERSIAN_DIGITS[digit]; });
  }

  function chosenText(input) {
    var names = Array.prototype.map.call(input.files || [], function (file) { return file.name; });
    if (names.length === 0) { return ""; }
    if (names.length === 1) { return names[0]; }
    return persian(names.length) + " فایل: " + names.join("، ");
  }

  function show(input) {
    var output = document.getElementById(input.id + "-chosen");
    if (!output) { return; }
    var text = chosenText(input);
    output.textContent = text || output.getAttribute("data-empty");
    output.classList.toggle("has-file", text !== "");
  }

  function start() {
    document.querySelectorAll(".file-picker input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () { show(input); });
      show(input); // a page restored from the history keeps its chosen files
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
