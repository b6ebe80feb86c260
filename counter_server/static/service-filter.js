// Reception's service list: filter as the clerk types (the form still works without script,
// the server filtering on submit). Text is compared after the same folding as the server's
// shared.text.normalize, in short: Arabic ي/ك as Persian ی/ک, any digits as ASCII, ZWNJ
// and punctuation as spaces, diacritics dropped.
(function () {
  var input = document.querySelector("[data-filter-input]");
  var list = document.querySelector("[data-filter-list]");
  if (!input || !list) { return; }
  var empty = document.querySelector("[data-filter-empty]");
  var digits = "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩";

  function fold(text) {
    var out = "";
    text = text.normalize("NFKC").toLowerCase();
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      var d = digits.indexOf(ch);
      if (d >= 0) { ch = String(d % 10); }
      else if (ch === "ي" || ch === "ى" || ch === "ئ") { ch = "ی"; }
      else if (ch === "ك") { ch = "ک"; }
      else if (ch === "ة" || ch === "ۀ") { ch = "ه"; }
      else if ("آأإٱ".indexOf(ch) >= 0) { ch = "ا"; }
      else if (ch === "ؤ") { ch = "و"; }
      else if (/[\u064B-\u065F\u0670\u0640]/.test(ch)) { ch = ""; }
      else if (ch === "\u200c" || /[\p{P}\s]/u.test(ch)) { ch = " "; }
      else if (/\p{Cf}/u.test(ch)) { ch = ""; }
      out += ch;
    }
    return out.split(/\s+/).filter(Boolean);
  }

  function apply() {
    var words = fold(input.value);
    var shown = 0;
    list.querySelectorAll("[data-search]").forEach(function (item) {
      var text = item.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) >= 0; });
      item.hidden = !match;
      if (match) { shown++; }
    });
    if (empty) { empty.hidden = shown > 0; }
  }

  input.addEventListener("input", apply);
  apply();
})();
