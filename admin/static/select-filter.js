// A search box above every long select marked data-filter (the time zones): typing hides the
// options that do not contain every typed word, and picks the first one left. Without JavaScript
// the plain select works as before; the server validates the choice either way.
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/_/g, " ").toLowerCase();
  }
  document.querySelectorAll("select[data-filter]").forEach(function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-filter";
    box.className = "form-control form-control-sm mb-1 wd-filter";
    box.placeholder = select.dataset.filter;
    box.setAttribute("aria-label", select.dataset.filter);
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var words = fold(box.value).split(/\s+/).filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var text = fold(option.value + " " + option.text);
        var shown = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !shown;
        if (shown && first === null) { first = option; }
      });
      var chosen = select.options[select.selectedIndex];
      if (first !== null && (!chosen || chosen.hidden)) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", {bubbles: true}));
      }
    });
    // Enter in the box keeps the choice instead of submitting a half-filled form.
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  });
})();
