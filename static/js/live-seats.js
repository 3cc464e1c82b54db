// Live seats: the event page's seat line and buttons follow the ledger while
// the page is open and visible. Every few seconds it reads the event's JSON
// (anonymous callers get it from a cache at most a second old); when the
// counts or the viewer's own seat or place differ from what the page shows
// (#seats data-state), it fetches the server-rendered seat line and buttons
// (data-fragment) and swaps them in, so they are exactly what a reload would
// show. Without JavaScript the page is as the server rendered it.
(() => {
  const EVERY_MS = 3000;
  const first = document.getElementById("seats");
  if (!first || !first.dataset.poll) return;
  const { poll, fragment } = first.dataset;
  let timer = null;
  let checking = false;

  // The JSON's counts and standing, in the order of data-state in _seats_line.html.
  const stateOf = (data) =>
    [
      data.seats_taken,
      data.capacity,
      data.waiting,
      data.going ? 1 : 0,
      data.waitlist_position ?? "",
    ].join(" ");

  // What the viewer has chosen or typed in a form (guests, their names, the
  // names box opened) survives a swap to the same form: a seat taken elsewhere
  // must not wipe a half-filled party.
  const FIELDS = "select, input[type=text], details";
  const keyOf = (field) => `${field.closest("form")?.action} ${field.name || field.className}`;

  function typedIn(actions) {
    const typed = new Map();
    for (const field of actions.querySelectorAll(FIELDS)) {
      typed.set(keyOf(field), field.tagName === "DETAILS" ? field.open : field.value);
    }
    return typed;
  }

  function typeBack(actions, typed) {
    for (const field of actions.querySelectorAll(FIELDS)) {
      const key = keyOf(field);
      if (!typed.has(key)) continue;
      if (field.tagName === "DETAILS") field.open = typed.get(key);
      else if (field.tagName !== "SELECT" || field.querySelector(`option[value="${typed.get(key)}"]`))
        field.value = typed.get(key);
    }
  }

  async function swap() {
    const response = await fetch(fragment, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const seats = html.getElementById("seats");
    const actions = html.getElementById("actions");
    // A click on its way will load the page with its own answer: leave it be.
    if (!seats || !actions || document.querySelector("form[data-submitting]")) return;
    const line = document.getElementById("seats");
    line.innerHTML = seats.innerHTML; // the same element stays: a live region, announced
    line.dataset.state = seats.dataset.state;
    const focused = document.activeElement?.id;
    const typed = typedIn(document.getElementById("actions"));
    document.getElementById("actions").replaceWith(document.adoptNode(actions));
    typeBack(actions, typed);
    if (focused) document.getElementById(focused)?.focus();
    // A message about a click ("You're going!") told of seats that have moved on
    // since; the swapped-in status line says where the viewer stands now, once.
    for (const told of document.querySelectorAll(".messages [data-outcome^='outcome-']")) {
      told.remove();
    }
  }

  async function check() {
    timer = null;
    // Gone from the swapped-in line once RSVPs close (the event started): stop.
    if (checking || document.hidden || !document.getElementById("seats").dataset.poll) return;
    checking = true;
    try {
      const response = await fetch(poll, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const data = await response.json();
        if (stateOf(data) !== document.getElementById("seats").dataset.state) await swap();
      }
    } catch {
      // Offline, or the site is briefly away: the next tick tries again.
    } finally {
      checking = false;
      schedule();
    }
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = setTimeout(check, EVERY_MS);
  }

  // A hidden tab costs the site nothing; shown again, it catches up at once.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      check();
    }
  });
  schedule();
})();
