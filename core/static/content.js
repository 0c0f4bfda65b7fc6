// The task page's progressive enhancements; without JavaScript every form works as it is.
// Loaded as a static file (the Content-Security-Policy runs no inline script or handler).
(function () {
  "use strict";

  // Drag and drop: files dropped on an upload form go into its file input.
  document.querySelectorAll("form[data-dropzone]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
          event.preventDefault();
          form.classList.add("dragover");
        }
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove("dragover"); });
    });
    form.addEventListener("drop", function (event) {
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", {bubbles: true}));
    });
  });

  // @mention suggestions in the comment box: people whose name or email starts with what follows "@".
  document.querySelectorAll("form[data-mentions]").forEach(function (form) {
    var box = form.querySelector("textarea");
    if (!box) { return; }
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.parentNode.insertBefore(list, box.nextSibling);
    var pending = 0;

    function typedMention() {
      var before = box.value.slice(0, box.selectionStart);
      var match = /(?:^|[\s(\[{,;:])@([^\s@]{1,40})$/.exec(before);
      return match ? match[1] : null;
    }

    function choose(person) {
      var start = box.selectionStart;
      var before = box.value.slice(0, start).replace(/@[^\s@]*$/, "@" + person.name + " ");
      box.value = before + box.value.slice(start);
      box.selectionStart = box.selectionEnd = before.length;
      list.hidden = true;
      box.focus();
    }

    box.addEventListener("input", function () {
      var typed = typedMention();
      if (!typed) { list.hidden = true; return; }
      var ticket = ++pending;
      fetch(form.dataset.mentions + "?q=" + encodeURIComponent(typed), {credentials: "same-origin",
                                                                         headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {items: []}; })
        .then(function (data) {
          if (ticket !== pending) { return; }
          list.textContent = "";
          data.items.forEach(function (person) {
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "link";
            button.setAttribute("role", "option");
            button.textContent = person.name + " · " + person.email;
            button.addEventListener("click", function () { choose(person); });
            item.appendChild(button);
            list.appendChild(item);
          });
          list.hidden = data.items.length === 0;
        })
        .catch(function () { list.hidden = true; });
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { list.hidden = true; }
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  });
})();
