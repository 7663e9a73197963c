// Staff pickers (templates/components/picker.html): the keyboard between the search field
// and its matches. Without this file the pickers still work: Tab reaches the matches, Space
// picks, and Enter in the search field submits the page's search form.
(function () {
  "use strict";

  function choices(picker) {
    return Array.prototype.filter.call(
      picker.querySelectorAll("[data-picker-results] input[type=radio]"),
      function (radio) { return !radio.disabled; }
    );
  }

  function firstChoice(picker) {
    var all = choices(picker);
    var checked = all.filter(function (radio) { return radio.checked; });
    return checked[0] || all[0] || null;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    var picker = target.closest("[data-picker]");
    if (!picker) return;

    if (target.hasAttribute("data-picker-search")) {
      if (event.key === "ArrowDown" || event.key === "Enter") {
        // Enter searches as typing does (htmx), rather than reloading the page.
        event.preventDefault();
        var choice = firstChoice(picker);
        if (choice && event.key === "ArrowDown") choice.focus();
      }
      return;
    }

    if (target.type === "radio" && event.key === "Enter") {
      // Enter picks the focused match, as Space does, instead of submitting the form.
      event.preventDefault();
      if (!target.disabled) {
        target.checked = true;
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else if (target.type === "radio" && event.key === "ArrowUp") {
      var all = choices(picker);
      if (all[0] === target) {
        event.preventDefault();
        picker.querySelector("[data-picker-search]").focus();
      }
    }
  });
})();
