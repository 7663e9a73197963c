// Staff pages' two small behaviours; both pages work without them.
//
// 1. Confirmations in place. A confirmation link (components/confirm_button.html) loads the
//    action's confirmation into #confirm-dialog-body with htmx; this opens the dialog around
//    it. Its way back closes the dialog (without JavaScript it is a link back), and a
//    confirm that posts with htmx closes it once the answer is in. Escape closes it too.
// 2. Select all. A checkbox marked data-select-all="NAME" (hidden until this runs) ticks or
//    unticks every enabled checkbox named NAME; without JavaScript a link reloads the page
//    with them ticked.
(() => {
  "use strict";

  const dialog = () => document.getElementById("confirm-dialog");

  document.addEventListener("htmx:afterSwap", (event) => {
    const box = dialog();
    if (box && event.detail.target.id === "confirm-dialog-body" && !box.open) {
      box.showModal();
      const first = box.querySelector("input:not([type=hidden]), textarea, select");
      if (first) {
        first.focus();
      }
    }
  });

  document.addEventListener("click", (event) => {
    const dismiss = event.target.closest("[data-confirm-dismiss]");
    const box = dialog();
    if (dismiss && box && box.contains(dismiss)) {
      event.preventDefault();
      box.close();
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const box = dialog();
    const form = event.detail.elt;
    if (box && box.open && form.tagName === "FORM" && box.contains(form)) {
      box.close();
    }
  });

  const boxesFor = (name) =>
    document.querySelectorAll(`input[type=checkbox][name="${CSS.escape(name)}"]:not(:disabled)`);

  const reveal = (root) => {
    root.querySelectorAll("[data-select-all]").forEach((all) => {
      all.hidden = false;
      const boxes = Array.from(boxesFor(all.dataset.selectAll));
      all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
    });
  };

  document.addEventListener("change", (event) => {
    const all = event.target.closest("[data-select-all]");
    if (all) {
      boxesFor(all.dataset.selectAll).forEach((box) => {
        box.checked = all.checked;
      });
      return;
    }
    const box = event.target;
    if (box.type === "checkbox" && box.name) {
      document.querySelectorAll(`[data-select-all="${CSS.escape(box.name)}"]`).forEach((one) => {
        const boxes = Array.from(boxesFor(box.name));
        one.checked = boxes.length > 0 && boxes.every((other) => other.checked);
      });
    }
  });

  document.addEventListener("DOMContentLoaded", () => reveal(document));
  document.addEventListener("htmx:load", (event) => reveal(event.target));
})();
