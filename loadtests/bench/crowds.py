"""The rush's shape, the same on every path, and what one crowd of seat requests says.

Every path (the plain write, the site's own write, HTTP) gets the same crowd:
``CLIENTS`` clients released together, ``USERS`` distinct users dealt round
robin to them (600 to 150: four each), each client asking for its users' seats
one after another, on one event of ``CAPACITY`` seats. So the event fills
(500 confirmed) and then refuses (100 "full"), and the ratios between paths
compare like with like.

Throughput is read two ways. **Seats/s**: the capacity over the time from
the release to the answer that confirmed its last seat, the rate the event
fills; this is what the ratios use, because the refusals that follow are
cheaper on every path. **Answers/s**: every answer over the time to the last
one. Latencies (p50, p99, max) are over every answer.

``check`` is the end check of each crowd: the ledger holds exactly the users
told "confirmed", once each, never more than its capacity, and nobody was
told "full" while a seat stayed free.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from functools import partial

from pymongo import MongoClient

from events.ledger import COLLECTION
from loadtests.bench.context import CAPACITY
from loadtests.measure import CrowdRun, crowd, percentile, spread

CONFIRMED, FULL = "confirmed", "full"

# One client's ask for one user's seat: (user id, what it was told). An
# answer other than confirmed or full is "error <what>".
Ask = Callable[[object], tuple[int, str]]


def rush(asks: list[Ask], users: list) -> CrowdRun:
    """Each ask is one client; ``users`` are dealt to them round robin and asked in turn."""
    hands = spread(users, len(asks))  # fewer users than clients: the spare clients sit out
    work = [[partial(ask, user) for user in hand] for ask, hand in zip(asks, hands, strict=False)]
    return crowd(work)


def told(run: CrowdRun) -> list[tuple[int | None, str]]:
    """(user id, outcome) of every answer; a task that raised is an error of no known user."""
    return [t.value if t.value else (None, f"error {t.error}") for t in run.told]


def summary(run: CrowdRun, capacity: int = CAPACITY) -> dict:
    """Seats/s, answers/s, latencies and outcome counts of one crowd (see the module)."""
    outcomes = Counter(outcome for _, outcome in told(run))
    confirmed = sorted(t.done_s for t in run.told if t.value and t.value[1] == CONFIRMED)
    seats = min(capacity, len(confirmed))
    fill_s = confirmed[seats - 1] if seats else None
    latencies = [t.ms for t in run.told]
    errors = {o: n for o, n in outcomes.items() if o not in (CONFIRMED, FULL)}
    return {
        "clients": run.clients,
        "requests": len(run.told),
        "confirmed": outcomes[CONFIRMED],
        "full": outcomes[FULL],
        "errors": sum(errors.values()),
        "error_kinds": dict(Counter(errors).most_common(5)),
        "fill_s": rounded(fill_s, 3),
        "seats_per_s": rounded(seats / fill_s if fill_s else None, 2),
        "answers_per_s": rounded(len(run.told) / run.wall_s if run.wall_s else None, 2),
        "wall_s": round(run.wall_s, 3),
        "p50_ms": rounded(percentile(latencies, 50), 1),
        "p99_ms": rounded(percentile(latencies, 99), 1),
        "mean_ms": rounded(statistics.fmean(latencies) if latencies else None, 1),
        "max_ms": rounded(max(latencies, default=None), 1),
    }


def rounded(value: float | None, digits: int) -> float | None:
    """JSON has no NaN: a figure that could not be measured is null."""
    if value is None or value != value:
        return None
    return round(value, digits)


def check(what: str, attendees: list[int], capacity: int, run: CrowdRun) -> list[str]:
    """The ledger against every answer: seated == told confirmed, once each, within capacity."""
    answers = told(run)
    confirmed = [user for user, outcome in answers if outcome == CONFIRMED]
    problems = []
    if len(attendees) > capacity:
        problems.append(f"{what}: overbooked, {len(attendees)} seated on {capacity} seats")
    if twice := sorted(u for u, n in Counter(attendees).items() if n > 1):
        problems.append(f"{what}: seated twice: {twice[:10]}")
    if len(confirmed) != len(set(confirmed)):
        problems.append(f"{what}: a user was told 'confirmed' twice")
    seated, said = set(attendees), set(confirmed)
    if seated != said:
        problems.append(
            f"{what}: {len(seated - said)} seated without being told 'confirmed',"
            f" {len(said - seated)} told 'confirmed' but not seated"
        )
    turned_away = sum(outcome == FULL for _, outcome in answers)
    if turned_away and len(attendees) < capacity:
        problems.append(
            f"{what}: {turned_away} told 'full' while {capacity - len(attendees)} seats stayed free"
        )
    return problems


def ledger_document(mongodb_uri: str, mongodb_db: str, event_id: int) -> dict:
    """The event's ledger document as the server holds it: capacity, attendees, version.

    Read with a client of its own, not through the site's ledger code: the
    bench reads what any MongoDB tool would, whatever the site's code does.
    """
    with MongoClient(mongodb_uri, serverSelectionTimeoutMS=10_000) as client:
        doc = client[mongodb_db][COLLECTION].find_one(
            {"_id": event_id}, {"capacity": 1, "attendees": 1, "version": 1}
        )
    if doc is None:
        raise RuntimeError(f"event {event_id} has no ledger document")
    return doc
