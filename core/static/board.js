/* The board's drag and drop: dropping a card on a column presses the card's own button for that
   status, so the move takes exactly the path of the buttons (a form post through the task service).
   Without this file, or without drag and drop (a phone), the buttons work alone. A static file: the
   Content-Security-Policy allows no inline script or handler. */
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board || !("draggable" in document.createElement("span"))) {
    return;
  }
  var dragged = null;

  function buttonFor(card, status) {
    var buttons = card.querySelectorAll("form.move button[name=status]");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].value === status) {
        return buttons[i];
      }
    }
    return null;
  }

  function markTargets(card, on) {
    board.querySelectorAll(".column").forEach(function (column) {
      column.classList.toggle("drop-ok", on && buttonFor(card, column.dataset.status) !== null);
    });
  }

  board.querySelectorAll(".board-card").forEach(function (card) {
    if (!card.querySelector("form.move")) {
      return;
    }
    card.setAttribute("draggable", "true");
    card.classList.add("can-drag");
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.task);
      card.classList.add("dragging");
      markTargets(card, true);
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      markTargets(card, false);
      dragged = null;
    });
  });

  board.querySelectorAll(".column").forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (dragged && buttonFor(dragged, column.dataset.status)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
      }
    });
    column.addEventListener("drop", function (event) {
      var button = dragged && buttonFor(dragged, column.dataset.status);
      if (!button) {
        return;
      }
      event.preventDefault();
      if (button.form.requestSubmit) {
        button.form.requestSubmit(button);
      } else {
        button.click();
      }
    });
  });
}());
