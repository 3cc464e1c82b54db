"""``make chaos``: a crowd clicks while MongoDB and a gunicorn worker die; then a held outage.

The steps, each a function below:

1. ``stack.running(supervised=True)``: the site as ``make run`` runs it (the
   embedded MongoDB under its supervisor, gunicorn with ``CHAOS_WORKERS``
   processes) in a scratch directory.
2. ``loadtests.chaos.fixture``: users with tokens (``make_loadtest_fixture``), the
   crowd's event (``CHAOS_CAPACITY`` seats, fewer than the crowd; waiting list
   on) and an event for the outage's RSVPs.
3. ``crowd_phase``: ``CHAOS_USERS`` people arrive over ``CHAOS_CROWD_S``
   seconds; each RSVPs or joins the waiting list through the API with their
   Bearer token, asking again after a 503 or no answer until told for good;
   some of those seated cancel, so the first waiting are promoted. Meanwhile
   (``inject_faults``) the MongoDB server is SIGKILLed ``CHAOS_MONGO_KILLS``
   times and a gunicorn worker ``CHAOS_WORKER_KILLS`` times, spread over the
   crowd, each timed from the kill to the site serving again and to
   ``/healthz`` 200 (``loadtests.chaos.faults``).
4. ``outage_phase``: ``CHAOS_OUTAGE_CLIENTS`` clients keep asking (the event,
   anonymously or with a token, and RSVPs) while MongoDB is held down for
   ``CHAOS_OUTAGE_S`` seconds: how long a request waits for its 503, and how
   long the site takes to serve and be healthy once the hold ends.
5. the end check (``loadtests.chaos.check``): everyone told "going" and not
   cancelled is in the ledger, attendees within capacity, nobody listed twice
   or both going and waiting, no free seat while someone waits, every request
   answered for good, no 5xx but 503, and the SQL record agreeing with the
   ledger after a reconcile.

Numbers in ``var/chaos/summary.md`` (``CHAOS_OUT`` elsewhere), one line
PASS/FAIL on stdout; exit 1 on any violation, each named in the summary.
Everything started is stopped on the way out, also on Ctrl-C, SIGTERM or
SIGHUP (exit 130). ``CHAOS_CLIENT_PROCESSES`` (4) spreads the clients over
that many processes.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loadtests import stack
from loadtests.chaos import clients, faults, report
from loadtests.chaos.clients import GIVE_UP_S, Asker, Person
from loadtests.chaos.faults import ChaosError, Fault, Probe
from loadtests.endcheck import Click

ROOT = Path(__file__).resolve().parents[2]
SEED = 9  # the same crowd every run: who RSVPs, who joins, who cancels, and when
RSVP_SHARE = 0.3  # the others join the waiting list
CANCEL_SHARE = 0.5  # of those told they have a seat
CANCEL_AFTER_S = (0.5, 3.0)
CLIENT_TIMEOUT_S = 10.0
OUTAGE_PAUSE_S = 1.0  # each outage client asks about once a second
OUTAGE_ASKS = ("read", "standing", "rsvp")  # in turn over the outage clients
OUTAGE_TAIL_S = 3.0  # the clients keep asking this long after the site is healthy again
START_S = 120.0  # for client processes to start on a busy machine
FAULT_GAP_S = 1.0  # at least this long between one fault's recovery and the next fault
OUTPUTS = ("summary.md", "gunicorn.log", "fixture.json")


def _number(name: str, default: float, kind: type = int):
    value = os.environ.get(name, str(default))
    try:
        return kind(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {value!r}") from None


@dataclass(frozen=True)
class Config:
    users: int
    capacity: int
    workers: int
    crowd_s: float
    mongo_kills: int
    worker_kills: int
    outage_s: float
    outage_clients: int
    processes: int
    out: Path

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            users=_number("CHAOS_USERS", 500),
            capacity=_number("CHAOS_CAPACITY", 50),
            workers=_number("CHAOS_WORKERS", 3),
            crowd_s=_number("CHAOS_CROWD_S", 10.0, float),
            mongo_kills=_number("CHAOS_MONGO_KILLS", 2),
            worker_kills=_number("CHAOS_WORKER_KILLS", 1),
            outage_s=_number("CHAOS_OUTAGE_S", 30.0, float),
            outage_clients=_number("CHAOS_OUTAGE_CLIENTS", 300),
            processes=_number("CHAOS_CLIENT_PROCESSES", 4),
            out=Path(os.environ.get("CHAOS_OUT", ROOT / "var" / "chaos")).resolve(),
        )


@dataclass
class Crowd:
    people: list[Person]
    clicks: list[Click]
    faults: list[Fault]
    t0: float  # the crowd's start (time.monotonic())


@dataclass
class Outage:
    event_id: int
    clicks: list[Click]
    hold: Fault
    clients: int


def say(message: str) -> None:
    print(f"chaos: {message}", file=sys.stderr, flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait(condition, seconds: float, what: str) -> None:
    if not stack.wait_for(condition, seconds):
        raise ChaosError(f"not within {seconds:.0f}s: {what}")


def plan_crowd(cfg: Config, users: list[dict]) -> list[Person]:
    """Who RSVPs and who joins the waiting list, when each arrives, who cancels and when."""
    rng = random.Random(SEED)
    people = []
    for user in users[: cfg.users]:
        action = "rsvp" if rng.random() < RSVP_SHARE else "join"
        cancel = rng.uniform(*CANCEL_AFTER_S) if rng.random() < CANCEL_SHARE else None
        start = rng.uniform(0, cfg.crowd_s)
        people.append(Person(user["username"], user["token"], action, start, cancel))
    return people


def plan_faults(cfg: Config) -> list[str]:
    """MongoDB kills with the worker kills between them: mongo, worker, mongo, ..."""
    kinds = ["mongo"] * cfg.mongo_kills
    for n in range(cfg.worker_kills):
        kinds.insert(min(2 * n + 1, len(kinds)), "worker")
    return kinds


def inject_faults(cfg: Config, site: stack.Stack, probe: Probe, t0: float) -> list[Fault]:
    """Each fault at its moment, spread evenly over the crowd.

    A fault waits for the site to serve again after the one before, and
    FAULT_GAP_S more, so that each one's failures are its own; not for
    /healthz, which is watched meanwhile.
    """
    kinds = plan_faults(cfg)
    injected: list[Fault] = []
    watch: faults.HealthWatch | None = None
    for n, kind in enumerate(kinds, 1):
        moment = t0 + cfg.crowd_s * n / (len(kinds) + 1)
        time.sleep(max(moment - time.monotonic(), FAULT_GAP_S if injected else 0))
        if watch is not None:
            watch.stop()
        kill = faults.kill_server if kind == "mongo" else faults.kill_worker
        fault, watch = kill(site, probe)
        injected.append(fault)
        say(
            f"{fault.what} (pid {fault.pid}) at {fault.at - t0:.1f}s: replacement after "
            f"{report.duration(fault.replaced_s)}, "
            f"serving again after {report.duration(fault.serving_s)}"
        )
    if watch is not None:
        watch.stop(wait_s=faults.BACK_S)
    return injected


def crowd_phase(cfg: Config, site: stack.Stack, probe: Probe, fixture: dict) -> Crowd:
    people = plan_crowd(cfg, fixture["users"])
    say(f"crowd: {len(people)} users over {cfg.crowd_s:.0f}s on {cfg.capacity} seats")
    with clients.running(cfg.processes) as pool:
        pool.start(clients.crowd_person, site.url, fixture["event_id"], people, CLIENT_TIMEOUT_S)
        _wait(pool.ready, START_S, "the crowd's client processes started")
        t0 = pool.go()
        faults = inject_faults(cfg, site, probe, t0)
        clicks = pool.collect(cfg.crowd_s + max(CANCEL_AFTER_S) + 2 * GIVE_UP_S + 30)
    return Crowd(people, clicks, faults, t0)


def outage_phase(
    cfg: Config, site: stack.Stack, probe: Probe, users: list[dict], event_id: int
) -> Outage:
    """MongoDB held down for CHAOS_OUTAGE_S while every client keeps asking."""
    askers = [
        Asker(user["username"], user["token"], OUTAGE_ASKS[n % len(OUTAGE_ASKS)], OUTAGE_PAUSE_S)
        for n, user in enumerate(users[: cfg.outage_clients])
    ]
    say(f"outage: {len(askers)} clients; MongoDB held down for {cfg.outage_s:.0f}s")
    with clients.running(cfg.processes) as pool:
        pool.start(clients.outage_client, site.url, event_id, askers, CLIENT_TIMEOUT_S)
        _wait(pool.ready, START_S, "the outage's client processes started")
        pool.go()
        _wait(lambda: pool.answered() >= len(askers), START_S, "every outage client answered")
        with faults.mongo_held_down(site, probe) as hold:
            time.sleep(cfg.outage_s)  # the hold itself: a length, not a condition
        # The clients pressed on while the site recovered, and go on a little
        # longer, so that their rush back is measured too.
        time.sleep(OUTAGE_TAIL_S)
        pool.gate.stop.set()
        clicks = pool.collect(CLIENT_TIMEOUT_S + clients.STOP_S)
    say(
        f"outage over: after the hold, server back {report.duration(hold.replaced_s)}, "
        f"serving {report.duration(hold.serving_s)}, "
        f"/healthz 200 {report.duration(hold.healthy_s)}"
    )
    return Outage(event_id, clicks, hold, len(askers))


def run_violations(crowd: Crowd, outage: Outage) -> list[str]:
    """What makes the run wrong: a fault that missed the crowd, a site that did not recover.

    A /healthz still 503 is no violation: while the crowd swamps the ledger
    its 0.5 s ping may fail, though the site serves.
    """
    violations = []
    last_request = max((c.at for c in crowd.clicks), default=crowd.t0)
    for n, fault in enumerate([*crowd.faults, outage.hold], 1):
        if fault.replaced_s is None or fault.serving_s is None:
            violations.append(
                f"fault {n} ({fault.what}): not serving again within {faults.BACK_S:.0f}s"
            )
    for n, fault in enumerate(crowd.faults, 1):
        if fault.at > last_request:
            violations.append(f"fault {n} ({fault.what}) came after the crowd's last request")
    if outage.hold.came_back_early:
        violations.append("a MongoDB server answered during the hold: the outage was not held")
    if other := report.outage_stats(outage.clicks, outage.hold).other:
        violations.append(
            "answered during the outage with neither 503 nor the seat cache: "
            + report.counts(other)
        )
    return violations


def summarize(cfg: Config, crowd: Crowd, outage: Outage, checks: dict, violations) -> str:
    threads = os.environ.get("GUNICORN_THREADS", "8")
    head = [
        f"{cfg.users} users on one event of {cfg.capacity} seats (waiting list on); gunicorn "
        f"{cfg.workers} workers of {threads} threads; the embedded MongoDB supervised as by "
        f"`make run`; clients in {cfg.processes} processes.",
        "",
        "Timings come from a 2-core machine shared with other work: read them as rough.",
    ]
    actions = Counter(p.action for p in crowd.people)
    crowd_lines = report.crowd_lines(
        crowd.clicks, len(crowd.people), actions, crowd.faults, crowd.t0
    )
    sections = {
        f"Crowd ({cfg.crowd_s:.0f} s of arrivals, faults during it)": crowd_lines,
        f"Outage: MongoDB held down {outage.hold.held_s:.1f} s under {outage.clients} clients": (
            report.outage_lines(outage.clicks, outage.hold, outage.clients, CLIENT_TIMEOUT_S)
        ),
        "Ledger at the end": report.ledger_lines(checks),
    }
    return report.write(cfg.out / "summary.md", head, sections, violations)


def run(cfg: Config) -> list[str]:
    """The whole run; returns the violations (summary.md written)."""
    with stack.running(
        cfg.workers, log_file=cfg.out / "gunicorn.log", supervised=True, static=False
    ) as site:
        # These two use Django's models and the ledger: importable only now that
        # the stack has set the environment and set Django up on its databases.
        from loadtests.chaos import check, fixture  # needs Django set up: only here

        rsvpers = cfg.outage_clients // len(OUTAGE_ASKS)
        made, outage_event = fixture.make(
            site.url,
            cfg.out / "fixture.json",
            users=max(cfg.users, cfg.outage_clients),
            capacity=cfg.capacity,
            # some RSVPs seated before the hold, some told "full"
            outage_capacity=max(rsvpers // 2, 1),
        )
        probe = Probe(site.url, made["event_id"], made["users"][0]["token"])
        crowd = crowd_phase(cfg, site, probe, made)
        outage = outage_phase(cfg, site, probe, made["users"], outage_event)
        checks = check.end_check(
            made["users"],
            (made["event_id"], crowd.clicks),
            (outage.event_id, outage.clicks),
        )
    violations = run_violations(crowd, outage)
    violations += [f"{role}: {v}" for role, found in checks.items() for v in found.violations]
    print(summarize(cfg, crowd, outage, checks, violations), file=sys.stderr)
    return violations


def main() -> int:
    # Ctrl-C, a polite kill or a closed terminal all stop everything, also when
    # this process was started in the background with SIGINT ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    if os.environ.get("MONGODB_URI"):
        print("make chaos kills the embedded MongoDB: unset MONGODB_URI", file=sys.stderr)
        return 2
    cfg = Config.from_env()
    cfg.out.mkdir(parents=True, exist_ok=True)
    for old in OUTPUTS:  # only what a run writes: CHAOS_OUT may name a directory in use
        (cfg.out / old).unlink(missing_ok=True)
    try:
        violations = run(cfg)
    except (ChaosError, TimeoutError) as exc:
        violations = [f"the run could not finish: {exc}"]
        report.write(cfg.out / "summary.md", [], {}, violations)
    summary = cfg.out / "summary.md"
    if violations:
        print(f"FAIL: {len(violations)} violations ({violations[0]} ...); see {summary}")
        return 1
    print(f"PASS: no violations; numbers in {summary}")
    return 0
