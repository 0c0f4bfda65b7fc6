// What Flask-Admin's templates did with inline onclick handlers, which the Content-Security-Policy
// does not run: bulk actions ([data-model-action], Flask-Admin's modelActions asks its confirmation),
// a confirmation before a form is sent ([data-confirm]: deleting a row), and links that only open
// something on the page ([data-no-follow]: the filter list).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-model-action], [data-confirm], [data-no-follow]");
    if (!target) { return; }
    if (target.hasAttribute("data-model-action")) {
      event.preventDefault();
      window.modelActions.execute(target.getAttribute("data-model-action"));
    } else if (target.hasAttribute("data-confirm")) {
      if (!window.confirm(target.getAttribute("data-confirm"))) { event.preventDefault(); }
    } else {
      event.preventDefault();
    }
  }, true);  // capturing: menus that stop the click's propagation must not skip this
}());
