// Progressive enhancement: a seat form submits once. Without JavaScript the
// form still posts and the server's guard makes a repeat harmless.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList.contains("rsvp-form")) return;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
  for (const button of form.querySelectorAll("button")) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
});
