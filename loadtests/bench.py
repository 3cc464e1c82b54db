"""``make bench``: what one RSVP costs, raw and through the site, on this machine.

One run, one machine, one MongoDB. ``loadtests.stack`` starts the whole stack
(the embedded MongoDB unless ``MONGODB_URI`` is set, a scratch SQLite database,
gunicorn with ``WEB_CONCURRENCY`` workers), then this measures:

(a) raw: ``events.ledger.add_attendee`` through pymongo from ``BENCH_CLIENTS``
    threads, ``BENCH_OPS`` distinct users on one event of huge capacity, so
    every operation is a real write (the event fills from 0 to BENCH_OPS);
(b) http: ``POST /events/<id>/rsvp/`` through gunicorn from ``BENCH_CLIENTS``
    clients, each with logged-in session cookies and a CSRF token from the
    event page, the same number of distinct users on another such event;
(c) the cost of one RSVP, raw and over HTTP, one at a time (median of
    ``BENCH_LEVEL_SAMPLES``), on events that already have 10, 1,000 and 10,000
    attendees (pre-filled by ``ledger.fill_for_benchmark``).

It prints throughput and p50/p99 of (a) and (b), the ratio b/a and the costs,
checks them against the targets below (reported, never asserted: missing one
does not fail the run), and writes ``var/bench/results.md``, ``results.json``
and ``bench.png``. When a target is missed and the server is the embedded one,
it records a short py-spy profile of that server during RSVPs at 10,000
attendees (``BENCH_PROFILE=0`` skips it). It exits 1 only if an RSVP failed
or the ledger does not hold exactly the attendees that were confirmed, 130 when
interrupted; everything it started is stopped either way.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import requests

from loadtests import stack

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100"))
OPS = int(os.environ.get("BENCH_OPS", "500"))
LEVELS = (10, 1_000, 10_000)
LEVEL_SAMPLES = int(os.environ.get("BENCH_LEVEL_SAMPLES", "10"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "var" / "bench"))
WARMUP = 20  # operations on each path before measuring; an even number
HUGE = 10_000_000  # capacity: nobody is ever turned away
LEDGER_ONLY_IDS = 1_000_000_000  # user ids for raw ops and fills; no account needed

TARGET_RATIO = 0.5  # HTTP throughput / raw throughput
TARGET_P99_MS = 250.0  # HTTP RSVP p99 with BENCH_CLIENTS concurrent users
TARGET_GROWTH = 2.0  # cost at 10,000 attendees / cost at 10

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STOP = threading.Event()


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- measuring


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Phase:
    """Many clients doing one kind of operation at once."""

    name: str
    clients: int
    latencies_ms: list[float]
    wall_s: float
    errors: list[str]
    cpu_cores: dict[str, float]  # busy cores per component, averaged over the phase
    attendees_after: int = 0

    @property
    def ops(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.ops / self.wall_s if self.wall_s else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "clients": self.clients,
            "ops": self.ops,
            "errors": len(self.errors),
            "error_kinds": dict(Counter(self.errors).most_common(5)),
            "wall_s": round(self.wall_s, 3),
            "throughput_ops_s": round(self.throughput, 2),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms or [float("nan")]), 2),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
            "cpu_cores": {k: round(v, 2) for k, v in self.cpu_cores.items()},
            "attendees_after": self.attendees_after,
        }


@dataclass
class Level:
    attendees: int
    raw_ms: list[float]
    http_ms: list[float]

    @property
    def raw(self) -> float:
        return statistics.median(self.raw_ms)

    @property
    def http(self) -> float:
        return statistics.median(self.http_ms)


def hammer(work: list[list[Callable[[], bool]]]) -> tuple[list[float], float, list[str]]:
    """Run each client's tasks in its own thread, all starting together.

    Returns the latency of every task that answered as expected (ms), the wall
    time from the start signal to the last answer (s), and the failures.
    """
    barrier = threading.Barrier(len(work) + 1)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(tasks: list[Callable[[], bool]]) -> None:
        mine: list[float] = []
        failed: list[str] = []
        barrier.wait(timeout=120)
        for task in tasks:
            if STOP.is_set():
                break
            began = time.perf_counter()
            try:
                ok = task()
            except Exception as exc:  # counted and reported, the run goes on
                failed.append(type(exc).__name__)
                continue
            if ok:
                mine.append((time.perf_counter() - began) * 1000)
            else:
                failed.append("unexpected answer")
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in work]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, errors


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time of each part of the stack, read from /proc."""

    def __init__(self, site: stack.Stack) -> None:
        self.parts: dict[str, Callable[[], list[int]]] = {
            "gunicorn": site.gunicorn_pids,
            "bench clients": lambda: [os.getpid()],
        }
        if site.mongo is not None:
            self.parts = {"mongodb": lambda: [site.mongo.pid], **self.parts}

    def read(self) -> dict[str, float]:
        return {name: sum(map(_cpu_seconds, pids())) for name, pids in self.parts.items()}


def measured(name: str, meter: CpuMeter, work: list[list[Callable[[], bool]]]) -> Phase:
    before = meter.read()
    latencies, wall, errors = hammer(work)
    after = meter.read()
    cores = {k: (after[k] - before[k]) / wall for k in after}
    return Phase(name, len(work), latencies, wall, errors, cores)


def spread(items: list, clients: int) -> list[list]:
    """Deal items round-robin to ``clients`` hands."""
    return [items[i::clients] for i in range(clients) if items[i::clients]]


# --------------------------------------------------------------------------- the site


class Browserish:
    """An HTTP client primed like a browser: event page loaded, CSRF token in hand.

    Any number of logged-in users can click through it: each POST carries the
    session cookie of the user clicking and the CSRF cookie this client got.
    """

    def __init__(self, site_url: str, event_id: int, session_key: str) -> None:
        from django.conf import settings

        self.session_cookie = settings.SESSION_COOKIE_NAME
        self.csrf_cookie_name = settings.CSRF_COOKIE_NAME
        self.http = requests.Session()
        self.page_url = f"{site_url}/events/{event_id}/"
        self.rsvp_url = f"{site_url}/events/{event_id}/rsvp/"
        self.landing = f"/events/{event_id}/"
        page = self.http.get(self.page_url, cookies={self.session_cookie: session_key}, timeout=60)
        page.raise_for_status()
        match = CSRF_INPUT.search(page.text)
        if match is None or self.csrf_cookie_name not in self.http.cookies:
            raise RuntimeError(f"no RSVP form for a logged-in user on {self.page_url}")
        self.csrf_cookie = self.http.cookies[self.csrf_cookie_name]
        self.token = match.group(1)
        self.http.cookies.clear()
        # Clicks start on a fresh connection: gunicorn closes keep-alive ones
        # left idle for 2 s, which those primed first would be by the start.
        self.http.close()

    def rsvp(self, session_key: str) -> bool:
        """One click: True when the site answers with its redirect to the event page."""
        response = self.http.post(
            self.rsvp_url,
            data={"csrfmiddlewaretoken": self.token},
            cookies={self.session_cookie: session_key, self.csrf_cookie_name: self.csrf_cookie},
            headers={"Referer": self.page_url},
            allow_redirects=False,
            timeout=120,
        )
        self.http.cookies.clear()  # no message cookies carried from one user to the next
        return response.status_code == 302 and response.headers["Location"] == self.landing


def primed(site_url: str, event_id: int, session_keys: list[str]) -> list[Browserish]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda key: Browserish(site_url, event_id, key), session_keys))


# --------------------------------------------------------------------------- profile


def profile_server(pid: int, event_id: int, first_id: int, path: Path) -> dict | None:
    """py-spy on the embedded server while it takes 3 RSVPs at 10,000 attendees."""
    from events import ledger

    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    try:
        spy = subprocess.Popen(
            [*command, "--output", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        log(f"no profile: cannot run py-spy ({exc})")
        return None
    try:
        for line in spy.stdout:  # wait until it is attached
            if "Sampling process" in line:
                break
        else:
            log(f"no profile: py-spy exited with {spy.wait()}")
            return None
        for i in range(3):
            ledger.add_attendee(event_id, first_id + i)
    finally:
        if spy.poll() is None:
            spy.send_signal(signal.SIGINT)
            spy.communicate(timeout=60)
    return summarise_profile(path) if path.exists() else None


def summarise_profile(path: Path) -> dict:
    """Busy samples of the server (a mongoeco frame on the stack), by function."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack_text.split(";")]
        if not any("mongoeco/" in f for f in frames):
            continue  # an idle thread: the event loop waiting, the parent watch
        count = int(count_text)
        busy += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    # Frames on (nearly) every busy stack are dispatch, not cost: leave them out.
    telling = [(f, n) for f, n in inclusive.most_common() if n < 0.9 * busy]
    return {
        "busy_samples": busy,
        "inclusive": [(f, round(100 * n / busy, 1)) for f, n in telling[:14]],
        "self": [(f, round(100 * n / busy, 1)) for f, n in own.most_common(10)],
    }


# --------------------------------------------------------------------------- the run


@dataclass
class Report:
    started: str
    settings: dict
    phases: list[Phase] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    profile: dict | None = None
    elapsed_s: float = 0.0

    @property
    def raw(self) -> Phase:
        return self.phases[0]

    @property
    def http(self) -> Phase:
        return self.phases[1]

    def targets(self) -> list[dict]:
        ratio = self.http.throughput / self.raw.throughput
        p99 = self.http.p99
        first, last = self.levels[0], self.levels[-1]
        growth_raw, growth_http = last.raw / first.raw, last.http / first.http
        return [
            _target(
                "HTTP / raw throughput (b/a)",
                f">= {TARGET_RATIO}",
                ratio,
                ratio >= TARGET_RATIO,
                f"{ratio:.2f}",
                f"short by {TARGET_RATIO - ratio:.2f} ({ratio / TARGET_RATIO:.0%} of the target)",
            ),
            _target(
                f"HTTP RSVP p99, {self.http.clients} concurrent users",
                f"< {TARGET_P99_MS:.0f} ms",
                p99,
                p99 < TARGET_P99_MS,
                f"{p99:,.0f} ms",
                f"over by {p99 - TARGET_P99_MS:,.0f} ms ({p99 / TARGET_P99_MS:.1f}x the target)",
            ),
            *(
                _target(
                    f"{kind} RSVP cost at {last.attendees:,} vs {first.attendees:,} attendees",
                    f"<= {TARGET_GROWTH:.0f}x",
                    growth,
                    growth <= TARGET_GROWTH,
                    f"{growth:,.1f}x",
                    f"{growth / TARGET_GROWTH:,.0f}x over the allowed {TARGET_GROWTH:.0f}x",
                )
                for kind, growth in (("HTTP", growth_http), ("raw", growth_raw))
            ),
        ]

    def as_json(self) -> dict:
        return {
            "started": self.started,
            "elapsed_s": round(self.elapsed_s, 1),
            "settings": self.settings,
            "concurrent": [p.summary() for p in self.phases],
            "ratio_http_over_raw": round(self.http.throughput / self.raw.throughput, 3),
            "cost_by_attendees": [
                {
                    "attendees": lv.attendees,
                    "raw_median_ms": round(lv.raw, 2),
                    "http_median_ms": round(lv.http, 2),
                    "raw_samples_ms": [round(x, 2) for x in lv.raw_ms],
                    "http_samples_ms": [round(x, 2) for x in lv.http_ms],
                }
                for lv in self.levels
            ],
            "targets": self.targets(),
            "problems": self.problems,
            "profile": self.profile,
        }


def _target(name, goal, value, met, shown, miss) -> dict:
    return {
        "target": name,
        "goal": goal,
        "value": round(value, 3),
        "measured": shown,
        "met": met,
        "miss": "" if met else miss,
    }


def run(site: stack.Stack) -> Report:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from events import ledger, services
    from events.ledger import Outcome
    from loadtests.fixtures import login_sessions, make_users

    report = Report(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        settings={
            "clients": CLIENTS,
            "ops": OPS,
            "level_samples": LEVEL_SAMPLES,
            "gunicorn_workers": WORKERS,
            "gunicorn_threads": int(os.environ.get("GUNICORN_THREADS", "8")),
            "mongodb": "MONGODB_URI" if site.mongo is None else "embedded",
            "mongoeco": version("mongoeco"),
            "pymongo": version("pymongo"),
            "django": version("django"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
    )
    meter = CpuMeter(site)
    organiser = get_user_model().objects.create_user("bench-organiser", is_staff=True)
    next_id = LEDGER_ONLY_IDS

    def new_event(title: str, fill: int = 0) -> int:
        nonlocal next_id
        event = services.create_event(
            capacity=HUGE,
            title=title,
            venue="Benchmark hall",
            organiser=organiser,
            starts_at=timezone.now() + timedelta(days=30),
        )
        if fill:
            seats = ledger.fill_for_benchmark(event.pk, list(range(next_id, next_id + fill)))
            if seats is None or seats.taken != fill:
                raise RuntimeError(f"could not fill event {event.pk} with {fill} attendees")
            next_id += fill
        return event.pk

    def fresh_ids(count: int) -> list[int]:
        nonlocal next_id
        next_id += count
        return list(range(next_id - count, next_id))

    def raw_task(event_id: int, user_id: int) -> Callable[[], bool]:
        return lambda: ledger.add_attendee(event_id, user_id).outcome is Outcome.CONFIRMED

    def check(event_id: int, clickers: set[int], confirmed: int, what: str) -> int:
        """Every confirmation is one seat, held by one of those who clicked, once."""
        going = [a.user_id for a in ledger.attendees(event_id)]
        if len(going) != len(set(going)) or len(going) != confirmed or set(going) - clickers:
            report.problems.append(
                f"{what}: ledger holds {len(going)} attendees ({len(set(going))} distinct, "
                f"{len(set(going) - clickers)} who never clicked); {confirmed} were confirmed"
            )
        return len(going)

    log(f"making {OPS + 3 * LEVEL_SAMPLES + WARMUP} users and their sessions")
    users = make_users(OPS + 3 * LEVEL_SAMPLES + WARMUP, prefix="bench")
    keys = dict(zip((u.pk for u in users), login_sessions(users), strict=True))
    pool = list(keys.items())  # (user id, session key), each user clicks once

    def take(count: int) -> list[tuple[int, str]]:
        taken, pool[:count] = pool[:count], []
        return taken

    # Warm up both paths: connections, imports, caches.
    warm = new_event("warm-up")
    hammer(spread([raw_task(warm, i) for i in fresh_ids(WARMUP)], 10))
    warm_users = take(WARMUP)
    warm_clients = primed(site.url, warm, [k for _, k in warm_users[:10]])
    warm_clicks = zip(warm_clients * 2, warm_users, strict=True)
    hammer(spread([lambda c=c, k=k: c.rsvp(k) for c, (_, k) in warm_clicks], 10))

    # (a) the raw ledger operation.
    log(f"(a) raw ledger op: {CLIENTS} threads, {OPS} distinct users, one event")
    event_a = new_event("bench raw")
    ids_a = fresh_ids(OPS)
    phase_a = measured(
        "(a) raw ledger op (pymongo)",
        meter,
        spread([raw_task(event_a, uid) for uid in ids_a], CLIENTS),
    )
    phase_a.attendees_after = check(event_a, set(ids_a), phase_a.ops, "(a)")
    report.phases.append(phase_a)

    # (b) the HTTP RSVP endpoint.
    log(f"(b) HTTP RSVP: {CLIENTS} clients, {OPS} distinct logged-in users, one event")
    event_b = new_event("bench http")
    users_b = take(OPS)
    hands = spread(users_b, CLIENTS)
    clients_b = primed(site.url, event_b, [hand[0][1] for hand in hands])
    work_b = [
        [lambda c=client, k=key: c.rsvp(k) for _, key in hand]
        for client, hand in zip(clients_b, hands, strict=True)
    ]
    phase_b = measured("(b) HTTP RSVP (gunicorn)", meter, work_b)
    phase_b.attendees_after = check(event_b, {uid for uid, _ in users_b}, phase_b.ops, "(b)")
    report.phases.append(phase_b)
    if phase_a.errors or phase_b.errors:
        report.problems.append(
            f"errors: (a) {dict(Counter(phase_a.errors))}, (b) {dict(Counter(phase_b.errors))}"
        )

    # (c) one RSVP at a time on events that already have many attendees.
    for level in LEVELS:
        log(f"(c) one RSVP at a time with {level:,} attendees already going")
        raw_event = new_event(f"bench raw {level}", fill=level)
        raw_ms = []
        for uid in fresh_ids(LEVEL_SAMPLES):
            began = time.perf_counter()
            outcome = ledger.add_attendee(raw_event, uid).outcome
            raw_ms.append((time.perf_counter() - began) * 1000)
            if outcome is not Outcome.CONFIRMED:
                report.problems.append(f"raw RSVP at {level}: {outcome}")
        http_event = new_event(f"bench http {level}", fill=level)
        clickers = take(LEVEL_SAMPLES)
        (client,) = primed(site.url, http_event, [clickers[0][1]])
        http_ms = []
        for _, key in clickers:
            began = time.perf_counter()
            ok = client.rsvp(key)
            http_ms.append((time.perf_counter() - began) * 1000)
            if not ok:
                report.problems.append(f"HTTP RSVP at {level}: unexpected answer")
        report.levels.append(Level(level, raw_ms, http_ms))

    missed = [t for t in report.targets() if not t["met"]]
    if missed and PROFILE and site.mongo is None:
        log("a target is missed; no profile: MongoDB is an outside server (MONGODB_URI)")
    elif missed and PROFILE:
        log("a target is missed: profiling the embedded server (py-spy, 3 RSVPs at 10,000)")
        profile_event = new_event("bench profile", fill=LEVELS[-1])
        report.profile = profile_server(
            site.mongo.pid, profile_event, fresh_ids(3)[0], OUT / "profile-mongodb-10000.txt"
        )
    return report


# --------------------------------------------------------------------------- output


def markdown(report: Report) -> str:
    s = report.settings
    lines = [
        "# RSVP benchmark",
        "",
        f"Run {report.started}, {report.elapsed_s:.0f} s; {s['cpus']} CPUs, Python {s['python']}, "
        f"Django {s['django']}, pymongo {s['pymongo']}; MongoDB: {s['mongodb']}"
        + (f" (mongoeco {s['mongoeco']}, SQLite engine)" if s["mongodb"] == "embedded" else "")
        + f"; gunicorn {s['gunicorn_workers']} workers x {s['gunicorn_threads']} threads.",
        "",
        f"## Concurrent RSVPs: {s['clients']} clients, {s['ops']} distinct users, one event",
        "",
        "The event fills from 0 to the number of users during each run, so later RSVPs cost"
        " more (see the next table). CPU is in busy cores, averaged over the run.",
        "",
        "| | ops | errors | throughput (ops/s) | p50 (ms) | p99 (ms) | max (ms) | CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in report.phases:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in p.cpu_cores.items())
        lines.append(
            f"| {p.name} | {p.ops} | {len(p.errors)} | {p.throughput:,.1f} | {p.p50:,.1f} "
            f"| {p.p99:,.1f} | {max(p.latencies_ms):,.1f} | {cpu} |"
        )
    ratio = report.http.throughput / report.raw.throughput
    lines += [
        "",
        f"Ratio b/a (HTTP throughput / raw throughput): **{ratio:.2f}**",
        "",
        f"## Cost of one RSVP by attendees already going (median of {s['level_samples']},"
        " one at a time)",
        "",
        "| attendees | raw ledger op (ms) | HTTP RSVP (ms) | raw vs 10 | HTTP vs 10 |",
        "|---:|---:|---:|---:|---:|",
    ]
    base = report.levels[0]
    for lv in report.levels:
        lines.append(
            f"| {lv.attendees:,} | {lv.raw:,.1f} | {lv.http:,.1f} | {lv.raw / base.raw:,.1f}x "
            f"| {lv.http / base.http:,.1f}x |"
        )
    lines += ["", "## Targets (reported, not asserted)", ""]
    lines += ["| target | goal | measured | verdict |", "|---|---|---:|---|"]
    for t in report.targets():
        verdict = "met" if t["met"] else f"MISSED: {t['miss']}"
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {verdict} |")
    if report.problems:
        lines += ["", "## Problems", "", *(f"- {p}" for p in report.problems)]
    if report.profile:
        prof = report.profile
        lines += [
            "",
            "## Where the embedded server's time goes at 10,000 attendees",
            "",
            f"py-spy, {prof['busy_samples']} busy samples of the server process during 3"
            " RSVPs (raw stacks: `profile-mongodb-10000.txt`).",
            "",
            "| % of busy samples (inclusive) | function |",
            "|---:|---|",
            *(f"| {pct} | `{frame}` |" for frame, pct in prof["inclusive"]),
            "",
            "| % of busy samples (self) | function |",
            "|---:|---|",
            *(f"| {pct} | `{frame}` |" for frame, pct in prof["self"]),
        ]
    return "\n".join(lines) + "\n"


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.8))
    names = ["(a) raw ledger op", "(b) HTTP RSVP"]
    colours = ["#2d5bd7", "#1f7a4d"]
    ax1.bar(names, [p.throughput for p in report.phases], color=colours)
    ax1.set_title(f"Throughput, {report.raw.clients} concurrent clients")
    ax1.set_ylabel("RSVPs per second")
    ax1.margins(y=0.12)
    for i, p in enumerate(report.phases):
        ax1.annotate(f"{p.throughput:,.1f}", (i, p.throughput), ha="center", va="bottom")

    width = 0.38
    for i, (p, colour, name) in enumerate(zip(report.phases, colours, names, strict=True)):
        xs = [x + (i - 0.5) * width for x in (0, 1)]
        bars = ax2.bar(xs, [p.p50, p.p99], width, color=colour, label=name)
        ax2.bar_label(bars, fmt="{:,.0f}")
    ax2.set_xticks([0, 1], ["p50", "p99"])
    ax2.axhline(
        TARGET_P99_MS, color="#b42318", linestyle="--", label=f"p99 target {TARGET_P99_MS:.0f} ms"
    )
    ax2.set_title("Latency under concurrency")
    ax2.set_ylabel("ms")
    ax2.legend(fontsize=8)

    levels = [lv.attendees for lv in report.levels]
    ax3.loglog(levels, [lv.raw for lv in report.levels], "o-", color=colours[0], label=names[0])
    ax3.loglog(levels, [lv.http for lv in report.levels], "o-", color=colours[1], label=names[1])
    ax3.axhline(
        TARGET_GROWTH * report.levels[0].http,
        color="#b42318",
        linestyle="--",
        label=f"target: {TARGET_GROWTH:.0f}x HTTP cost at {levels[0]}",
    )
    ax3.set_title("Cost of one RSVP by attendees already going")
    ax3.set_xlabel("attendees")
    ax3.set_ylabel("ms (median, one at a time)")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    OUT.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    try:
        log(f"starting the stack (gunicorn {WORKERS} workers); output in {OUT}")
        with stack.running(WORKERS, log_file=OUT / "gunicorn.log") as site:
            report = run(site)
    except KeyboardInterrupt:
        STOP.set()
        log("interrupted; everything it started is stopped")
        return 130
    report.elapsed_s = time.monotonic() - began
    text = markdown(report)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    chart(report, OUT / "bench.png")
    print(text)
    log(f"wrote {OUT / 'results.md'}, results.json and bench.png")
    if report.problems:
        log("some RSVPs failed or the ledger does not match them: see Problems")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
