"""Items 3 and 5: the rush over HTTP, with readers on the pages before and during it.

``READERS`` anonymous visitors are released together and each loads the
event page (``GET /events/<id>/``) and the home page (``GET /``) in turn,
one request after another, for the whole step. For ``ALONE_S`` seconds they
are alone (the first ``SETTLE_S`` are not counted); then the RSVP crowd of
``loadtests.bench.crowds`` is released: ``CLIENTS`` API clients, each POSTing
``/api/events/<id>/rsvp`` for its users one after another, each request with
that user's Bearer token. The readers stop when the last RSVP is answered.

A page load counts for the phase it began in: "alone" if it also finished
before the release, "rush" if it began between the release and the last
RSVP answer. Pages/s: the phase's loads over its length.

Item 5: the event's ledger ``version`` (one more on every ledger write) is
read before the release and after the last answer; the RSVP requests over
the writes between them is how many requests each write decided.

Everything is warmed first (every gunicorn thread answers an RSVP and both
pages once), so no cold start lands in a phase.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import partial

import requests

from loadtests import stack
from loadtests.bench import crowds
from loadtests.bench.context import (
    ALONE_S,
    CAPACITY,
    CLIENTS,
    PAGES,
    READERS,
    SETTLE_S,
    USERS,
    WORKERS,
    log,
)
from loadtests.bench.supplies import Bench
from loadtests.crowd import fire_together
from loadtests.endcheck import api_outcome
from loadtests.measure import STOP, hammer, percentile

READER_MAX_S = 300.0  # a reader stops by then whatever happens
READER_MAX_LOADS = 20_000
TIMEOUT_S = 60.0  # one request; gunicorn's own worker timeout is 30 s


class ApiClient:
    """One RSVP client: a connection of its own, each request with its user's token."""

    def __init__(self, site_url: str, event_id: int) -> None:
        self.url = f"{site_url}/api/events/{event_id}/rsvp"
        self.http = requests.Session()

    def rsvp(self, user: tuple[int, str]) -> tuple[int, str]:
        user_id, token = user
        try:
            answer = self.http.post(
                self.url, json={}, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
            )
        except requests.RequestException as exc:
            return user_id, f"error {type(exc).__name__}"
        try:
            body = answer.json()
        except ValueError:
            body = {}
        outcome = api_outcome(answer.status_code, body, crowds.CONFIRMED)
        return user_id, outcome if outcome != "error" else f"error {answer.status_code}"


@dataclass(frozen=True)
class Load:
    kind: str  # a key of PAGES
    began: float  # time.perf_counter()
    ms: float
    error: str = ""  # the status or exception, if it was not a 200

    @property
    def finished(self) -> float:
        return self.began + self.ms / 1000


class Readers:
    """The anonymous visitors, on a thread of their own until ``stop``."""

    def __init__(self, site_url: str, event_id: int) -> None:
        self.urls = {"event": f"{site_url}/events/{event_id}/", "home": f"{site_url}/"}
        self.loads: list[Load] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.released = 0.0
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        visitors = [partial(self._visit, n) for n in range(READERS)]
        self.thread = threading.Thread(
            target=fire_together, args=(visitors,), kwargs={"released": self._mark}, daemon=True
        )
        self.thread.start()
        stack.wait_for(lambda: self.released, 60)

    def _mark(self) -> None:
        self.released = time.perf_counter()

    def _visit(self, n: int) -> None:
        http = requests.Session()
        order = ("event", "home") if n % 2 == 0 else ("home", "event")  # both pages at once
        deadline = time.monotonic() + READER_MAX_S
        for i in range(READER_MAX_LOADS):
            if self.done.is_set() or STOP.is_set() or time.monotonic() > deadline:
                break
            kind = order[i % 2]
            began = time.perf_counter()
            try:
                status = http.get(self.urls[kind], timeout=TIMEOUT_S).status_code
                error = "" if status == 200 else str(status)
            except requests.RequestException as exc:
                error = type(exc).__name__
            with self.lock:
                self.loads.append(Load(kind, began, (time.perf_counter() - began) * 1000, error))
        http.close()

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(TIMEOUT_S * 2)

    def phase(self, kind: str, start: float, end: float, *, finished_by: bool) -> dict:
        """Loads of one page begun in [start, end] (and finished by ``end`` if ``finished_by``)."""
        within = [
            load
            for load in self.loads
            if load.kind == kind
            and start <= load.began <= end
            and (not finished_by or load.finished <= end)
        ]
        ok = [load.ms for load in within if not load.error]
        return {
            "loads": len(ok),
            "errors": len(within) - len(ok),
            "seconds": round(end - start, 2),
            "pages_per_s": round(len(ok) / (end - start), 1) if end > start else None,
            "p50_ms": crowds.rounded(percentile(ok, 50), 1),
            "p99_ms": crowds.rounded(percentile(ok, 99), 1),
            "max_ms": crowds.rounded(max(ok, default=None), 1),
        }


def warm_up(bench: Bench, event_id: int) -> None:
    """Every gunicorn thread answers an RSVP and both pages once; nothing of it is timed."""
    threads = WORKERS * int(os.environ.get("GUNICORN_THREADS", "8"))
    url = bench.site.url
    warm_event = bench.new_event("bench warm-up rush", capacity=threads)
    asks = [ApiClient(url, warm_event).rsvp for _ in range(threads)]
    crowds.rush(asks, bench.api_users(threads))
    pages = [f"{url}/events/{event_id}/", f"{url}/"]
    work = [[partial(_ok, page) for page in pages] for _ in range(threads)]
    if failures := hammer(work)[2]:
        bench.problem(f"3. warm-up: pages answered {failures[:3]}")


def _ok(url: str) -> bool:
    return requests.get(url, timeout=TIMEOUT_S).status_code == 200


def measure(bench: Bench) -> dict:
    """Items 3 and 5 on one event of ``CAPACITY`` seats; their end check goes to the problems."""
    site = bench.site
    event_id = bench.new_event("bench rush", capacity=CAPACITY)
    users = bench.api_users(USERS)
    warm_up(bench, event_id)
    readers = Readers(site.url, event_id)
    log(f"3. {READERS} readers alone for {ALONE_S:g} s")
    readers.start()
    try:
        STOP.wait(ALONE_S)
        before = crowds.ledger_document(site.mongodb_uri, site.mongodb_db, event_id)["version"]
        log(f"3. the rush: {CLIENTS} API clients, {USERS} users, {CAPACITY} seats")
        cpu = bench.meter.read()
        run = crowds.rush([ApiClient(site.url, event_id).rsvp for _ in range(CLIENTS)], users)
        cpu = {k: round((v - cpu[k]) / run.wall_s, 2) for k, v in bench.meter.read().items()}
    finally:
        readers.stop()
    doc = crowds.ledger_document(site.mongodb_uri, site.mongodb_db, event_id)
    bench.problems.extend(crowds.check("3. HTTP rush", doc["attendees"], doc["capacity"], run))
    alone, rush_end = (readers.released + SETTLE_S, run.released), run.released + run.wall_s
    writes = doc["version"] - before
    return {
        "http": crowds.summary(run),
        "pages": {
            kind: {
                "alone": readers.phase(kind, *alone, finished_by=True),
                "rush": readers.phase(kind, run.released, rush_end, finished_by=False),
            }
            for kind in PAGES
        },
        "ledger_writes": {
            "requests": len(run.told),
            "delta_version": writes,
            "requests_per_write": round(len(run.told) / writes, 3) if writes else None,
        },
        "cpu_cores": cpu,
    }
