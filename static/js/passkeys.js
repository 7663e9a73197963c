// Once django-otp-webauthn's script has registered a passkey, go on to the page named by the
// passkey section's data-passkey-done (the recovery codes, then where the person was going).
document.addEventListener("otp_webauthn.register_complete", () => {
  const section = document.querySelector("[data-passkey-done]");
  if (section) {
    window.location.assign(section.dataset.passkeyDone);
  }
});
