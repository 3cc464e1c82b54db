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
    attendees (pre-filled by ``ledger_benchmark.fill_for_benchmark``);
(d) the same for one join of the waiting list (``ledger.join_waitlist``;
    ``POST /events/<id>/waitlist/``) on a full event whose list already holds
    10, 1,000 and 10,000 people;
(e) the same for one cancel with promotion (``ledger.remove_attendee``;
    ``POST /events/<id>/cancel/``): a seat holder of such a full event cancels
    and the head of the list takes the seat in the same write;
(f) the site's history (``loadtests.bench_history``; ``BENCH_HISTORY=0``
    skips it): the events of (a)-(e) are deleted, then 1, 1,000 and 10,000
    past events with 10 RSVPs each (up to 100,000 past RSVPs) are loaded in
    bulk, and at each level one RSVP, one cancel and one "My RSVPs" are timed
    over HTTP, raw today, and raw in the ledger's form before issue 8 (guard
    in the filter, an ``rsvp_times`` upsert per RSVP, "My RSVPs" as a query
    over every ledger) on the same history: before and after in one run;
(g) a mixed rush on one hot event (``loadtests.bench_rush``; ``BENCH_RUSH=0``
    skips it): 500 clients released together, 400 anonymous readers opening
    the event page and polling its seat counts, 100 logged-in users clicking
    RSVP for 80 seats; throughput and p50/p99 per kind, and the end check.

(c), (d) and (e) run level by level, their samples taken in turn so that a
busy machine slows them alike (``loadtests.bench_levels``); so do (f)'s.
It prints throughput and p50/p99 of (a) and (b), the ratio b/a, the costs and
the ratios join/RSVP and cancel-with-promotion/RSVP at each level, (f)'s costs
by history with its before/after table, (g)'s table, checks them against the
targets in ``loadtests.bench_context`` (reported, never asserted: missing one
does not fail the run), and writes ``var/bench/results.md``,
``results.json`` and ``bench.png``. When a target is missed and the server is
the embedded one, it records a short py-spy profile of that server during
RSVPs at 10,000 attendees (``BENCH_PROFILE=0`` skips it). It exits 1 only if
an operation did not answer as expected or a ledger does not hold exactly the
attendees (and waiting list) it should, 130 when interrupted; everything it
started is stopped either way.

Modules: ``bench_context`` (settings, the run's events, ids, users and
problems), ``bench_measure`` (timing), ``bench_http`` (clicks on the page's
forms), ``bench_levels`` (c-e), ``bench_profile`` (py-spy), ``bench_history``
and ``bench_history_report`` (f), ``bench_rush`` (g), ``bench_report`` (results.md,
JSON, chart).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version

from loadtests import bench_history, bench_rush, stack
from loadtests.bench_context import (
    CLIENTS,
    HISTORY,
    LEVEL_SAMPLES,
    LEVELS,
    OPS,
    OUT,
    PROFILE,
    RUSH,
    WARMUP,
    WORKERS,
    Bench,
    log,
)
from loadtests.bench_http import primed
from loadtests.bench_levels import USERS_PER_SAMPLE, measure_level
from loadtests.bench_measure import STOP, Phase, hammer, measured, spread
from loadtests.bench_profile import profile_server
from loadtests.bench_report import Report, chart, markdown


def run_settings(site: stack.Stack) -> dict:
    return {
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
    }


def users_needed() -> int:
    """Logged-in users the run takes: warm-up, (b), each level plus a warm-up level, (f), (g)."""
    needed = WARMUP + OPS + USERS_PER_SAMPLE * LEVEL_SAMPLES * (len(LEVELS) + 1)
    needed += bench_history.users_needed() if HISTORY else 0
    return needed + (bench_rush.rsvpers() if RUSH else 0)


def raw_task(event_id: int, user_id: int):
    from events import ledger
    from events.ledger import Outcome

    return lambda: ledger.add_attendee(event_id, user_id).outcome is Outcome.CONFIRMED


# --------------------------------------------------------------------------- the steps


def warm_up(bench: Bench) -> None:
    """Both paths of (a) and (b) once over: connections, imports, caches."""
    warm = bench.new_event("warm-up")
    hammer(spread([raw_task(warm, i) for i in bench.fresh_ids(WARMUP)], 10))
    warm_users = bench.take(WARMUP)
    warm_clients = primed(bench.site.url, warm, [k for _, k in warm_users[:10]])
    warm_clicks = zip(warm_clients * 2, warm_users, strict=True)
    hammer(spread([partial(c.rsvp, k) for c, (_, k) in warm_clicks], 10))


def concurrent_raw(bench: Bench) -> Phase:
    log(f"(a) raw ledger op: {CLIENTS} threads, {OPS} distinct users, one event")
    event_a = bench.new_event("bench raw")
    ids_a = bench.fresh_ids(OPS)
    phase_a = measured(
        "(a) raw ledger op (pymongo)",
        bench.meter,
        spread([raw_task(event_a, uid) for uid in ids_a], CLIENTS),
    )
    phase_a.attendees_after = bench.check(event_a, set(ids_a), phase_a.ops, "(a)")
    return phase_a


def concurrent_http(bench: Bench) -> Phase:
    log(f"(b) HTTP RSVP: {CLIENTS} clients, {OPS} distinct logged-in users, one event")
    event_b = bench.new_event("bench http")
    users_b = bench.take(OPS)
    hands = spread(users_b, CLIENTS)
    clients_b = primed(bench.site.url, event_b, [hand[0][1] for hand in hands])
    work_b = [
        [partial(client.rsvp, key) for _, key in hand]
        for client, hand in zip(clients_b, hands, strict=True)
    ]
    phase_b = measured("(b) HTTP RSVP (gunicorn)", bench.meter, work_b)
    clickers = {uid for uid, _ in users_b}
    phase_b.attendees_after = bench.check(event_b, clickers, phase_b.ops, "(b)")
    return phase_b


def levels(bench: Bench, report: Report) -> None:
    """(c), (d) and (e) level by level, their samples taken in turn (``bench_levels``)."""
    log(f"warming up (c), (d) and (e) at {LEVELS[0]}: not reported")
    measure_level(bench, LEVELS[0])
    for level in LEVELS:
        log(f"(c) RSVP with {level:,} going, (d) join and (e) cancel with {level:,} waiting")
        rsvp, join, cancel = measure_level(bench, level)
        report.levels.append(rsvp)
        report.joins.append(join)
        report.cancels.append(cancel)


def profile_if_missed(bench: Bench, report: Report) -> None:
    missed = [t for t in report.targets() if not t["met"]]
    if not (missed and PROFILE):
        return
    if bench.site.mongo is None:
        log("a target is missed; no profile: MongoDB is an outside server (MONGODB_URI)")
        return
    log("a target is missed: profiling the embedded server (py-spy, 3 RSVPs at 10,000)")
    profile_event = bench.new_event("bench profile", fill=LEVELS[-1])
    report.profile = profile_server(
        bench.site.mongo.pid,
        profile_event,
        bench.fresh_ids(3)[0],
        OUT / "profile-mongodb-10000.txt",
    )


def history(bench: Bench, report: Report) -> None:
    """(f), on a ledger holding nothing but the history: (a)-(e)'s events are checked, so go."""
    if HISTORY:
        log("(f) deleting the events of (a)-(e): the history starts from an empty ledger")
        bench.clear_events()
        report.history = bench_history.measure_history(bench)


def rush(bench: Bench, report: Report) -> None:
    if RUSH:
        report.rush = bench_rush.measure_rush(bench, report.http.throughput)


def run(site: stack.Stack) -> Report:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    report = Report(started=started, settings=run_settings(site))
    bench = Bench(site, report.problems)
    log(f"making {users_needed()} users and their sessions")
    bench.log_in_users(users_needed())
    warm_up(bench)
    report.phases += [concurrent_raw(bench), concurrent_http(bench)]
    phase_a, phase_b = report.phases
    if phase_a.errors or phase_b.errors:
        bench.problem(
            f"errors: (a) {dict(Counter(phase_a.errors))}, (b) {dict(Counter(phase_b.errors))}"
        )
    levels(bench, report)
    profile_if_missed(bench, report)
    history(bench, report)
    rush(bench, report)
    return report


# --------------------------------------------------------------------------- main


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
        log("some operations failed or a ledger does not match them: see Problems")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
