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
  for (const control of form.querySelectorAll("button, [data-confirm-submit]")) {
    control.disabled = true;
    control.setAttribute("aria-disabled", "true");
    control.setAttribute("aria-busy", "true");
  }
});

// Giving back a scarce seat asks first. Without JavaScript the link opens a
// confirmation page; with it, a dialog asks and its form posts at once.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-confirm-submit]");
  if (!link) return;
  event.preventDefault();
  const form = link.closest("form");
  if (form.dataset.submitting) return;
  if (window.confirm(form.dataset.confirm)) form.requestSubmit();
});

// The account menu (a <details>) closes on Escape and on a click elsewhere,
// as menus do; without JavaScript its summary opens and closes it.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.account-menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.account-menu[open]")) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});
