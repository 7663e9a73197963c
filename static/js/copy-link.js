// "Copy link" next to a read-only address (templates/components/share_link.html): copies it
// to the clipboard and says so in the box's status (role="status", read out by screen
// readers). Without this script the button stays hidden and the address is selectable.
document.querySelectorAll("[data-copy-link]").forEach((row) => {
  const source = row.querySelector("[data-copy-source]");
  const button = row.querySelector("[data-copy-button]");
  const status = row.parentElement.querySelector("[data-copy-status]");
  if (!source || !button || !status) {
    return;
  }
  source.addEventListener("focus", () => source.select());
  if (!navigator.clipboard) {
    return; // Not offered (an insecure origin): the address is still there to select.
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      await navigator.clipboard.writeText(source.value);
      status.textContent = button.dataset.copied;
    } catch {
      source.focus();
      source.select();
      status.textContent = button.dataset.failed;
    }
  });
});
