"use strict";
// Names for the admin's autocomplete boxes (`autocomplete_fields`, drawn by the select2 that
// Django's admin vendors). Select2 hides the <select> and shows a combobox named only after its
// current choice, so an empty box has no name at all. Each box is named after the label of the
// <select> it stands for (its <label>, or in a tabular inline its column's `aria-label`), kept
// in a hidden element the combobox and its text point to. Boxes added later (an inline's new
// row) are named as they appear.
(function () {
    function labelText(select) {
        if (select.labels && select.labels.length) {
            return select.labels[0].textContent.trim().replace(/\s*:$/, "");
        }
        return (select.getAttribute("aria-label") || "").trim();
    }

    function name(select) {
        const container = select.nextElementSibling;
        if (!select.id || !container || !container.classList.contains("select2")) {
            return;
        }
        const combobox = container.querySelector('[role="combobox"]');
        const text = labelText(select);
        if (!combobox || !text) {
            return;
        }
        const nameId = select.id + "-a11y-name";
        let holder = document.getElementById(nameId);
        if (!holder) {
            holder = document.createElement("span");
            holder.id = nameId;
            holder.hidden = true;
            container.after(holder);
        }
        if (holder.textContent !== text) {
            holder.textContent = text; // only when it changed: the observer sees this too
        }
        const rendered = container.querySelector(".select2-selection__rendered");
        const ids = [nameId];
        if (rendered && rendered.id) {
            if (rendered.getAttribute("aria-labelledby") !== nameId) {
                rendered.setAttribute("aria-labelledby", nameId);
            }
            ids.push(rendered.id);
        }
        const wanted = ids.join(" ");
        if (combobox.getAttribute("aria-labelledby") !== wanted) {
            combobox.setAttribute("aria-labelledby", wanted);
        }
    }

    function nameAll() {
        document.querySelectorAll("select.admin-autocomplete").forEach(name);
    }

    new MutationObserver(nameAll).observe(document.documentElement, {
        childList: true,
        subtree: true,
    });
    document.addEventListener("DOMContentLoaded", nameAll);
})();
