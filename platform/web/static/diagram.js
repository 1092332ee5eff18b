/* Draw each .diagram[data-src] with bpmn-js: fetch {xml, steps}, show the flow, colour its steps.
   Runs on first load and after every htmx swap (boosted navigation); draws an element once. */
(function () {
  "use strict";
  if (window.andonDiagram) {  // loaded again by an htmx swap: the listener is already there
    window.andonDiagram.scan(document);
    return;
  }
  const MARKERS = { completed: "step-completed", active: "step-active", overdue: "step-overdue" };
  const WAIT_MS = 50, WAIT_TRIES = 200;

  function viewerReady(tries) {
    return new Promise(function (resolve, reject) {
      (function check(left) {
        if (typeof window.BpmnJS === "function") resolve(window.BpmnJS);
        else if (left <= 0) reject(new Error("bpmn-js did not load"));
        else setTimeout(function () { check(left - 1); }, WAIT_MS);
      })(tries);
    });
  }

  async function draw(container) {
    const response = await fetch(container.dataset.src, {
      credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("diagram: HTTP " + response.status);
    const data = await response.json();
    const BpmnJS = await viewerReady(WAIT_TRIES);
    const viewer = new BpmnJS({ container: container });
    await viewer.importXML(data.xml);
    const canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    Object.entries(data.steps || {}).forEach(function ([id, state]) {
      if (MARKERS[state] && registry.get(id)) canvas.addMarker(id, MARKERS[state]);
    });
    container.andonViewer = viewer;
  }

  function start(container) {
    if (container.dataset.diagram) return;  // drawn, or being drawn
    container.dataset.diagram = "loading";
    draw(container).then(function () {
      container.dataset.diagram = "ready";
    }, function (error) {
      console.error(error);
      container.dataset.diagram = "failed";
      container.textContent = container.dataset.error || String(error);
    });
  }

  function scan(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches(".diagram[data-src]")) start(root);
    root.querySelectorAll(".diagram[data-src]").forEach(start);
  }

  window.andonDiagram = { scan: scan };
  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document); });
  } else {
    scan(document);
  }
})();
