// The check-in page (admin/events/event/check_in.html), enhanced. Without
// JavaScript every form posts and the page comes back; with it, the same
// forms post with fetch (asking for JSON) and the row and counts update in
// place. Each form carries the state it wants, so a repeat is harmless.
(() => {
  const door = document.getElementById("door");
  if (!door) return;
  const say = document.getElementById("door-message");

  function show(answer) {
    say.textContent = answer.message;
    say.classList.toggle("refused", !answer.ok);
    if (answer.counts) {
      document.getElementById("checked-count").textContent = answer.counts.checked_in;
      document.getElementById("going-count").textContent = answer.counts.going;
      // Shown only while someone brings guests (the page says seats then).
      const seatsIn = document.getElementById("seats-checked-count");
      if (seatsIn) seatsIn.textContent = answer.counts.seats_checked_in;
    }
    const row = answer.ok && door.querySelector(`li[data-user="${answer.user_id}"]`);
    if (!row) return;
    row.classList.toggle("is-in", answer.checked_in);
    row.querySelector('input[name="checked_in"]').value = answer.checked_in ? "0" : "1";
    const button = row.querySelector(".door-toggle button");
    button.setAttribute("aria-pressed", String(answer.checked_in));
    button.textContent = answer.checked_in ? "✓ Checked in" : "Check in";
  }

  async function post(form) {
    const response = await fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.headers.get("Content-Type")?.includes("json")) throw new Error("not JSON");
    return response.json();
  }

  door.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.method.toLowerCase() !== "post") return; // the search reloads the page
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    try {
      const answer = await post(form);
      show(answer);
      if (answer.ok && form.id === "code-form") form.reset();
    } catch {
      form.submit(); // anything unexpected: the plain form, as without JavaScript
    } finally {
      delete form.dataset.busy;
    }
  });

  // Instant filter over the listed rows; the Search button asks the server.
  const search = document.getElementById("q");
  search.addEventListener("input", () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of door.querySelectorAll("li[data-search]")) {
      row.hidden = !words.every((word) => row.dataset.search.includes(word));
    }
  });

  // The camera, only where the browser has its own QR reader: no library.
  const scan = document.getElementById("scan-button");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  scan.hidden = false;
  const video = document.getElementById("scan-video");
  const codeForm = document.getElementById("code-form");
  let stream = null;

  function stop() {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    scan.textContent = "Scan a QR code with the camera";
  }

  async function look(detector) {
    if (!stream) return;
    try {
      const [found] = await detector.detect(video);
      if (found) {
        stop();
        codeForm.elements.code.value = found.rawValue;
        codeForm.requestSubmit();
        return;
      }
    } catch {
      // a frame that is not ready yet: try the next one
    }
    setTimeout(() => look(detector), 200);
  }

  scan.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      scan.textContent = "Stop scanning";
      look(detector);
    } catch (error) {
      stop();
      show({ ok: false, message: `The camera is not available (${error.name}): type the code.` });
    }
  });
})();
