// File inputs in Persian (see the file_input macro in _form.html): the chosen file's name,
// or «فایلی انتخاب نشده», beside the «انتخاب فایل» button; and the sizes checked before
// anything is sent, against the form's data-max-file-bytes and data-max-total-bytes (the
// server checks them again). A static file because the Content-Security-Policy allows no
// inline script.
(function () {
  "use strict";
  var PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  var MEGABYTE = 1024 * 1024;

  function persian(number) {
    return String(number).replace(/[0-9]/g, function (digit) { return PERSIAN_DIGITS[digit]; });
  }

  function megabytes(bytes) {
    return persian(Math.ceil(bytes / MEGABYTE));
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

  // What is wrong with the sizes of the files chosen in `form`, or "" when nothing is.
  function sizeProblem(form) {
    var maxFile = Number(form.getAttribute("data-max-file-bytes"));
    var maxTotal = Number(form.getAttribute("data-max-total-bytes"));
    var total = 0;
    var tooLarge = null;
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        total += file.size;
        if (!tooLarge && file.size > maxFile) { tooLarge = file; }
      });
    });
    if (tooLarge) {
      return "حجم پرونده «" + tooLarge.name + "» " + megabytes(tooLarge.size) +
        " مگابایت است؛ هر پرونده حداکثر " + megabytes(maxFile) + " مگابایت پذیرفته می‌شود.";
    }
    if (total > maxTotal) {
      return "پرونده‌های انتخاب‌شده روی هم " + megabytes(total) + " مگابایت است و بیش از " +
        megabytes(maxTotal) + " مگابایت پذیرفته نمی‌شود؛ پرونده‌ها را کم‌حجم‌تر کنید.";
    }
    return "";
  }

  function report(form) {
    var output = form.querySelector("[data-size-error]");
    var problem = sizeProblem(form);
    if (output) {
      output.textContent = problem;
      output.hidden = problem === "";
    }
    return problem;
  }

  function watchSizes(form) {
    form.addEventListener("change", function (event) {
      if (event.target.type === "file") { report(form); }
    });
    form.addEventListener("submit", function (event) {
      if (report(form)) {
        event.preventDefault();
        var output = form.querySelector("[data-size-error]");
        if (output) {
          output.setAttribute("tabindex", "-1");
          output.focus();
        }
      }
    });
  }

  function start() {
    document.querySelectorAll(".file-picker input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () { show(input); });
      show(input); // a page restored from the history keeps its chosen files
    });
    document.querySelectorAll("form[data-max-total-bytes]").forEach(watchSizes);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
