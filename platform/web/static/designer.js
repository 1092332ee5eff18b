/* Flow designer: the bpmn-js modeller on the page, saving the diagram as the draft.

   - loads the draft's XML (its revision comes in the X-Draft-Revision header);
   - after each change, saves the whole diagram (debounced) with the revision it
     was loaded or last saved at; a 409 means someone else saved first: nothing
     is overwritten, the page says so and stops saving;
   - selecting an element draws the server's side panel for it; the panel's form
     is posted with the current XML and revision, and the diagram is reloaded
     from the saved draft afterwards (keeping the view and the selection);
   - a problem or path naming an element (data-element) selects it. */
(function () {
  "use strict";
  const root = document.getElementById("designer");
  if (!root || root.dataset.started) return;
  root.dataset.started = "yes";
  const SAVE_DELAY_MS = 800;
  const csrf = JSON.parse(document.getElementById("main").getAttribute("hx-headers") || "{}")[
    "X-CSRFToken"];
  const status = document.getElementById("designer-status");
  let revision = Number(root.dataset.revision);
  let xml = "";
  let timer = null;
  let stopped = false;
  let selected = "";
  let importing = false;
  let stalePanel = false;

  function setRevision(value) {
    revision = Number(value);
    document.querySelectorAll(".designer-revision").forEach(function (input) {
      input.value = String(revision);
    });
  }

  function conflict(html) {
    stopped = true;
    document.getElementById("designer-conflict").innerHTML = html;
  }

  // Panel loads run one after another, so an older answer never replaces a newer one.
  let panelQueue = Promise.resolve();
  function showPanel(elementId) {
    selected = elementId || "";
    const url = root.dataset.panelUrl + "?element=" + encodeURIComponent(selected);
    panelQueue = panelQueue.then(function () {
      return htmx.ajax("GET", url, { target: "#designer-panel", swap: "innerHTML" });
    }, function () { return null; });
    return panelQueue;
  }

  function start(Modeler) {
    const modeler = new Modeler({ container: "#designer-canvas" });
    window.andonModeler = modeler;

    function load(keepView) {
      return fetch(root.dataset.xmlUrl, { credentials: "same-origin" }).then(function (answer) {
        setRevision(answer.headers.get("X-Draft-Revision"));
        return answer.text();
      }).then(function (text) {
        xml = text;
        const canvas = modeler.get("canvas");
        const view = keepView ? canvas.viewbox() : null;
        importing = true;  // the import clears the selection: keep the panel as it is
        return modeler.importXML(text).then(function () {
          if (view) canvas.viewbox(view); else canvas.zoom("fit-viewport", "auto");
          if (selected) select(selected, false);
          importing = false;
          root.dataset.ready = "yes";
        }, function (error) { importing = false; throw error; });
      });
    }

    function select(elementId, scroll) {
      const shape = modeler.get("elementRegistry").get(elementId);
      if (!shape) return;
      modeler.get("selection").select(shape);
      if (scroll) modeler.get("canvas").scrollToElement(shape);
    }

    function save() {
      if (stopped) return Promise.resolve();
      status.textContent = root.dataset.saving;
      const body = new URLSearchParams({ xml: xml, revision: String(revision) });
      return fetch(root.dataset.saveUrl, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": csrf },
      }).then(function (answer) {
        return answer.json().then(function (data) {
          if (answer.status === 409) {
            conflict("<div class=\"form-error\" role=\"alert\"><p class=\"field-error\"></p></div>");
            document.querySelector("#designer-conflict .field-error").textContent = data.conflict;
            status.textContent = "";
          } else if (!answer.ok) {
            status.textContent = root.dataset.failed + " " + (data.error || answer.status);
          } else {
            setRevision(data.revision);
            document.getElementById("designer-problems").innerHTML = data.problems;
            status.textContent = root.dataset.saved;
          }
        });
      }).catch(function (error) {
        root.dataset.pending = "yes";  // try again with the next change
        status.textContent = root.dataset.failed + " " + error;
      });
    }

    // Save what changed now: take the diagram's XML, then post it (at most one save at a time).
    let saving = Promise.resolve();
    function flush() {
      clearTimeout(timer);
      saving = saving.then(function () {
        if (!root.dataset.pending) return null;
        delete root.dataset.pending;
        const refresh = stalePanel;  // the selected element changed on the canvas (renamed)
        stalePanel = false;  // a change from now on is for the next save to show
        return modeler.saveXML({ format: true }).then(function (result) {
          xml = result.xml;
          return save();
        }).then(function () {
          return refresh && !importing ? showPanel(selected) : null;
        });
      });
      return saving;
    }

    modeler.on("commandStack.changed", function () {
      root.dataset.pending = "yes";
      clearTimeout(timer);
      timer = setTimeout(flush, SAVE_DELAY_MS);
    });
    modeler.on("element.changed", function (event) {
      if (!importing && event.element.id === selected) stalePanel = true;  // e.g. renamed
    });
    modeler.on("selection.changed", function (event) {
      if (importing) return;
      const chosen = event.newSelection.length === 1 ? event.newSelection[0] : null;
      const id = chosen ? chosen.id : "";
      if (id === selected && document.querySelector("#designer-panel form")) return;
      selected = id;
      flush().then(function () {  // a new element must be saved first
        if (selected === id) showPanel(id);  // unless another selection came meanwhile
      });
    });

    function here() { return document.body.contains(root); }

    document.body.addEventListener("htmx:configRequest", function (event) {
      if (!here()) return;
      if (!event.detail.elt.closest || !event.detail.elt.closest("#designer-panel")) return;
      if (event.detail.verb !== "post") return;
      event.detail.parameters.xml = xml;
      event.detail.parameters.revision = String(revision);
    });
    document.body.addEventListener("htmx:confirm", function (event) {
      if (!here() || !root.dataset.pending) return;
      if (!event.detail.elt.closest || !event.detail.elt.closest("#designer-panel")) return;
      event.preventDefault();  // save the drawing first, so the panel posts the latest XML
      flush().then(function () { event.detail.issueRequest(true); });
    });
    document.body.addEventListener("andon:panel-saved", function (event) {
      if (!here()) return;
      setRevision(event.detail.revision);
      delete root.dataset.pending;
      load(true);
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (here() && event.detail.xhr && event.detail.xhr.status === 409 &&
          event.detail.elt.closest && event.detail.elt.closest("#designer-panel")) {
        stopped = true;
      }
    });
    document.addEventListener("click", function (event) {
      const button = event.target.closest && event.target.closest("[data-element]");
      if (!here() || !button || !root.contains(button)) return;
      select(button.dataset.element, true);
    });
    document.getElementById("designer-publish").addEventListener("submit", function (event) {
      if (root.dataset.pending) {  // save first, then publish what was saved
        event.preventDefault();
        flush().then(function () { event.target.requestSubmit(); });
      }
    });
    load(false).then(function () { showPanel(""); });
  }

  (function wait(left) {
    if (typeof window.BpmnJS === "function") start(window.BpmnJS);
    else if (left > 0) setTimeout(function () { wait(left - 1); }, 50);
  })(200);
})();
