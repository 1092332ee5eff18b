/* Form builder: drag a field on the canvas before a sibling (or to the end of its list).
   The move is posted with the page's hidden #canvas-move form, so the server does the
   work and the page comes back as for the up and down buttons (which remain for the
   keyboard). Listens on the document once; the canvas is redrawn by every htmx swap. */
(function () {
  "use strict";
  if (window.andonBuilder) return;
  window.andonBuilder = true;
  let dragged = null;

  function siblingOf(target) {
    const item = target.closest && target.closest(".canvas-item");
    if (!item || !dragged || item === dragged) return null;
    return item.parentElement === dragged.parentElement ? item : null;
  }

  function clear() {
    document.querySelectorAll(".canvas-item.drop-before").forEach(function (item) {
      item.classList.remove("drop-before");
    });
  }

  document.addEventListener("dragstart", function (event) {
    dragged = event.target.closest && event.target.closest(".canvas-item");
    if (dragged) {
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.path);
    }
  });
  document.addEventListener("dragover", function (event) {
    const item = siblingOf(event.target);
    if (!item) return;
    event.preventDefault();
    clear();
    item.classList.add("drop-before");
  });
  document.addEventListener("dragend", function () { clear(); dragged = null; });
  document.addEventListener("drop", function (event) {
    const item = siblingOf(event.target);
    const form = document.getElementById("canvas-move");
    if (!item || !form) return;
    event.preventDefault();
    clear();
    form.elements.path.value = dragged.dataset.path;
    form.elements.before.value = item.dataset.path.split("/").pop();
    dragged = null;
    form.requestSubmit();
  });
})();
