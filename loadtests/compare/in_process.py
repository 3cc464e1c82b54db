"""The parts of a ``make compare`` turn that run in its own process, on Django and the ledger.

The fixture (``make_loadtest_fixture``), the end check of the HTTP crowd, the
same race without HTTP and the cost of one RSVP at 1,000 attendees. They use
Django's models and ``events.ledger.strategies`` (which reads the environment
when imported), so ``loadtests.compare.turn`` imports this module only once
``stack.running`` has set the environment and set Django up.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from events import ledger
from events.ledger import strategies as ledger_strategies
from loadtests import ledger_benchmark
from loadtests.endcheck import Click, Ledger, judge
from loadtests.measure import hammer, percentile, spread, timed

# The controls' cost at 1,000 is measured without their deliberate pauses.
WITHOUT_PAUSE = {"naive": {"delay_s": 0.0}, "unguarded_batch": {"gather": 1}}
COST_AT = 1000  # attendees already seated when one more RSVP's cost is measured
COST_OPS = 30
RAW_FIRST_ID = 800_000_000  # ledger-only events: ids no SQL event reaches


def make_fixture(site_url: str, path: Path, users: int, capacity: int) -> dict:
    """``users`` users with tokens and one event of ``capacity`` seats, as ``path`` holds them."""
    call_command(
        "make_loadtest_fixture", users=users, capacity=capacity,
        out=path, api_url=f"{site_url}/api",
    )  # fmt: skip
    return json.loads(path.read_text())


def judged(event_id: int, clicks: list[Click], capacity: int) -> dict:
    """The ledger read back and held against every answer, by the load tests' own rules."""
    names = [c.username for c in clicks]
    by_id = dict(get_user_model().objects.filter(username__in=names).values_list("pk", "username"))
    roster = ledger.roster(event_id)
    going = [by_id.get(a.user_id, str(a.user_id)) for a in roster.attendees]
    found = Ledger.from_lists(capacity, going, [by_id.get(u, str(u)) for u in roster.waitlist])
    summary = judge(clicks, found, waves=1)
    return {"attendees": found.taken, "overbooked": summary["overbooked"],
            "violations": summary["violations"]}  # fmt: skip


def raw_crowd(name: str, users: int, capacity: int, clients: int) -> dict:
    """The race without HTTP: ``users`` take_seat calls from ``clients`` threads at once."""
    strategy = ledger_strategies.get(name)
    event_id = RAW_FIRST_ID
    ledger.create_event(event_id, capacity)
    outcomes: list[str] = []

    def take(user_id: int) -> bool:
        outcomes.append(str(strategy.take_seat(event_id, user_id).outcome))
        return True

    tasks = [lambda u=u: take(u) for u in range(1, users + 1)]
    latencies, wall, failures = hammer(spread(tasks, clients))
    taken = ledger.seats([event_id])[event_id].taken
    return {
        "confirmed": outcomes.count("confirmed"),
        "busy": outcomes.count("busy"),
        "errors": len(failures),
        "overbooked": max(taken - capacity, 0),
        "throughput": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def raw_cost(name: str) -> float:
    """Median ms of one RSVP on an event already holding ``COST_AT`` attendees."""
    strategy = ledger_strategies.get(name, **WITHOUT_PAUSE.get(name, {}))
    event_id = RAW_FIRST_ID + 1
    ledger.create_event(event_id, COST_AT + COST_OPS)
    ledger_benchmark.fill_for_benchmark(event_id, list(range(10**6, 10**6 + COST_AT)))
    costs = []
    for user_id in range(1, COST_OPS + 1):
        ms, result = timed(lambda u=user_id: strategy.take_seat(event_id, u))
        if str(result.outcome) == "confirmed":
            costs.append(ms)
    return round(statistics.median(costs), 2) if costs else float("nan")
