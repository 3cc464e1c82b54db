"""(g) A mixed rush on one hot event: most clients read it, some RSVP.

``BENCH_RUSH_CLIENTS`` (500) clients are released together on one upcoming
event of ``BENCH_RUSH_CAPACITY`` (80) seats: 80 % are anonymous readers that
open the event page (``GET /events/<id>/``) and then poll its seat counts
(``GET /api/events/<id>/``, which anonymous callers get from the seat cache)
``BENCH_RUSH_POLLS`` (5) times, one poll every ``BENCH_RUSH_POLL_S`` (1 s) as
a live page would; 20 % are logged-in users who click RSVP once on the page's
form (primed like (b): event page loaded, CSRF token in hand). With 100 users
after 80 seats, the guard is tested too: the end check wants exactly the
capacity seated, every seat held once by someone who clicked, as many seats
as "You're going!" answers, and the SQL record saying the same.

Reported per kind (page, poll, RSVP): answers, errors, throughput (answers
over the time from the release to that kind's last answer), p50, p99, max.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import partial

import requests

from loadtests.bench_context import TARGET_P99_MS, Bench, log, target
from loadtests.bench_http import IDLE_S, primed
from loadtests.bench_measure import Phase, hammer

RUSH_CLIENTS = int(os.environ.get("BENCH_RUSH_CLIENTS", "500"))
RUSH_RSVP_SHARE = 0.2
RUSH_CAPACITY = int(os.environ.get("BENCH_RUSH_CAPACITY", "80"))
RUSH_POLLS = int(os.environ.get("BENCH_RUSH_POLLS", "5"))
RUSH_POLL_S = float(os.environ.get("BENCH_RUSH_POLL_S", "1.0"))
KINDS = {"page": "event page (anonymous)", "poll": "seat poll (anonymous API)", "rsvp": "RSVP"}


def rsvpers() -> int:
    return round(RUSH_CLIENTS * RUSH_RSVP_SHARE)


class Log:
    """What each kind of request took and said, from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}  # began, ms
        self.errors: dict[str, list[str]] = {k: [] for k in KINDS}
        self.outcomes: list[str] = []

    def timed(self, kind: str, request) -> requests.Response | None:
        began = time.perf_counter()
        try:
            response = request()
        except requests.RequestException as exc:
            with self.lock:
                self.errors[kind].append(type(exc).__name__)
            return None
        with self.lock:
            self.done[kind].append((began, (time.perf_counter() - began) * 1000))
        return response

    def failed(self, kind: str, what: str) -> bool:
        with self.lock:
            self.errors[kind].append(what)
        return False


class Reader:
    """An anonymous visitor: the event page, then a poll of its seats now and then."""

    def __init__(self, site_url: str, event_id: int, log: Log) -> None:
        self.page = f"{site_url}/events/{event_id}/"
        self.api = f"{site_url}/api/events/{event_id}/"
        self.http = requests.Session()
        self.log = log
        self.last = 0.0

    def get(self, kind: str, url: str) -> requests.Response | None:
        if time.monotonic() - self.last > IDLE_S:
            self.http.close()  # a fresh connection rather than one gunicorn may be closing
        response = self.log.timed(kind, partial(self.http.get, url, timeout=120))
        self.last = time.monotonic()
        return response

    def open_page(self) -> bool:
        response = self.get("page", self.page)
        if response is None:
            return False
        return response.status_code == 200 or self.log.failed("page", str(response.status_code))

    def poll(self) -> bool:
        time.sleep(RUSH_POLL_S)
        response = self.get("poll", self.api)
        if response is None:
            return False
        if response.status_code != 200 or "seats_left" not in response.json():
            return self.log.failed("poll", str(response.status_code))
        return True


def _click(client, key: str, log: Log) -> bool:
    response = log.timed("rsvp", partial(client.click, "rsvp", key))
    if response is None:
        return False
    said = client.outcome(response)
    if said not in ("confirmed", "full"):
        return log.failed("rsvp", said or str(response.status_code))
    with log.lock:
        log.outcomes.append(said)
    return True


@dataclass
class RushResult:
    kinds: dict[str, Phase]
    capacity: int
    clickers: int
    confirmed: int
    seated: int
    rsvp_b: float  # phase (b)'s throughput, the bar for RSVPs in the mix

    def targets(self) -> list[dict]:
        rows = []
        for kind in ("page", "poll"):
            p99 = self.kinds[kind].p99
            rows.append(
                target(
                    f"(g) {KINDS[kind]} p99 in the rush ({RUSH_CLIENTS} clients)",
                    f"< {TARGET_P99_MS:.0f} ms",
                    p99,
                    p99 < TARGET_P99_MS,
                    f"{p99:,.0f} ms",
                    f"over by {p99 - TARGET_P99_MS:,.0f} ms ({p99 / TARGET_P99_MS:.1f}x)",
                )
            )
        rate = self.kinds["rsvp"].throughput
        rows.append(
            target(
                "(g) RSVP throughput in the rush vs (b)",
                f">= {self.rsvp_b:,.1f} ops/s",
                rate,
                rate >= self.rsvp_b,
                f"{rate:,.1f} ops/s",
                f"{rate / self.rsvp_b:.0%} of (b)",
            )
        )
        return rows

    def as_json(self) -> dict:
        return {
            "clients": RUSH_CLIENTS,
            "capacity": self.capacity,
            "rsvp_clients": self.clickers,
            "polls_per_reader": RUSH_POLLS,
            "poll_interval_s": RUSH_POLL_S,
            "confirmed": self.confirmed,
            "seated": self.seated,
            "kinds": {kind: phase.summary() for kind, phase in self.kinds.items()},
        }


def _phases(log: Log, clients: dict[str, int], cores: dict[str, float]) -> dict[str, Phase]:
    starts = [began for done in log.done.values() for began, _ in done]
    release = min(starts, default=0.0)
    phases = {}
    for kind, done in log.done.items():
        last = max((began + ms / 1000 for began, ms in done), default=release)
        latencies = [ms for _, ms in done]
        phases[kind] = Phase(
            KINDS[kind], clients[kind], latencies, last - release, log.errors[kind], cores
        )
    return phases


def _check(bench: Bench, event_id: int, users: list[tuple[int, str]], confirmed: int) -> int:
    """Exactly the capacity seated (or every clicker), once each, as told and as recorded."""
    from events import ledger
    from events.models import Rsvp

    going = [a.user_id for a in ledger.attendees(event_id)]
    recorded = Rsvp.objects.filter(event_id=event_id, status=Rsvp.Status.GOING).count()
    expected = min(RUSH_CAPACITY, len(users))
    strangers = set(going) - {user_id for user_id, _ in users}
    if (
        len(going) != expected
        or len(set(going)) != len(going)
        or strangers
        or confirmed != len(going)
    ):
        bench.problem(
            f"(g) rush: the ledger seats {len(going)} ({len(set(going))} distinct,"
            f" {len(strangers)} who never clicked) on {RUSH_CAPACITY} seats, and {confirmed}"
            f" were told they are going; expected {expected}"
        )
    elif recorded != len(going):
        bench.problem(
            f"(g) rush: the ledger is right ({len(going)} seated on {RUSH_CAPACITY} seats, once"
            f" each, as many as were told so), but the SQL record says {recorded} going"
        )
    return len(going)


def measure_rush(bench: Bench, rsvp_b: float) -> RushResult:
    event_id = bench.listed_event("bench rush", [], [], capacity=RUSH_CAPACITY)
    users = bench.take(rsvpers())
    readers = RUSH_CLIENTS - len(users)
    answers = Log()
    clients = primed(bench.site.url, event_id, [key for _, key in users])
    work = [
        [partial(_click, client, key, answers)]
        for client, (_, key) in zip(clients, users, strict=True)
    ]
    for _ in range(readers):
        reader = Reader(bench.site.url, event_id, answers)
        work.append([reader.open_page] + [reader.poll] * RUSH_POLLS)
    log(
        f"(g) rush: {readers} readers ({RUSH_POLLS} polls each) and {len(users)} RSVPs"
        f" for {RUSH_CAPACITY} seats, released together"
    )
    before = bench.meter.read()
    _, wall, _ = hammer(work)
    after = bench.meter.read()
    cores = {k: (after[k] - before[k]) / wall for k in after}
    confirmed = answers.outcomes.count("confirmed")
    seated = _check(bench, event_id, users, confirmed)
    counts = {"page": readers, "poll": readers, "rsvp": len(users)}
    phases = _phases(answers, counts, cores)
    return RushResult(phases, RUSH_CAPACITY, len(users), confirmed, seated, rsvp_b)


def markdown(result: RushResult) -> list[str]:
    lines = [
        "",
        f"## (g) Mixed rush on one hot event: {RUSH_CLIENTS} clients released together",
        "",
        f"{RUSH_CLIENTS - result.clickers} anonymous readers open the event page, then poll"
        f" `GET /api/events/<id>/` {RUSH_POLLS} times, one every {RUSH_POLL_S:g} s;"
        f" {result.clickers} logged-in users click RSVP once (the page's form) for"
        f" {result.capacity} seats: {result.confirmed} told they are going, {result.seated}"
        " seated. Throughput: answers over the time from the release to the kind's last"
        " answer. CPU in busy cores over the whole rush.",
        "",
        "| kind | answers | errors | throughput (/s) | p50 (ms) | p99 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.kinds.values():
        lines.append(
            f"| {p.name} | {p.ops} | {len(p.errors)} | {p.throughput:,.1f} | {p.p50:,.1f}"
            f" | {p.p99:,.1f} | {max(p.latencies_ms, default=float('nan')):,.1f} |"
        )
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in result.kinds["rsvp"].cpu_cores.items())
    return [*lines, "", f"CPU: {cpu}."]


def panel(ax, result: RushResult) -> None:
    names = list(result.kinds)
    width = 0.38
    for i, (q, colour) in enumerate((("p50", "#2d5bd7"), ("p99", "#b42318"))):
        xs = [x + (i - 0.5) * width for x in range(len(names))]
        bars = ax.bar(
            xs, [getattr(result.kinds[k], q) for k in names], width, color=colour, label=q
        )
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    ax.set_xticks(range(len(names)), [KINDS[k] for k in names], fontsize=8)
    ax.axhline(
        TARGET_P99_MS,
        color="#b42318",
        linestyle="--",
        label=f"page p99 target {TARGET_P99_MS:.0f} ms",
    )
    ax.set_title(f"(g) Mixed rush, {RUSH_CLIENTS} clients on one event")
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
