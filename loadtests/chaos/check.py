"""The chaos run's end check: every answer held against the ledger, and the SQL record.

Runs in the chaos process once the faults are over, with Django set up on
the stack's databases (so import it after ``stack.running`` has started).
The ledger is read from its document (``events.ledger.roster``), not
through each user's view, so that someone listed twice shows as twice. The
rules themselves are ``loadtests.endcheck``'s, shared with ``make loadtest``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import get_user_model

from events import ledger, records
from events.ledger import LedgerUnavailable
from events.models import Rsvp
from loadtests.chaos.clients import RETRY
from loadtests.chaos.report import EventCheck
from loadtests.endcheck import (
    SEATED,
    WAITING,
    Click,
    Ledger,
    check_cancelled,
    check_ledger,
    check_lists,
    check_told,
)

READ_S = 15.0  # this process's pymongo may need a probe or two after the kills
GAVE_BACK = {"cancelled", "not_going"}  # a cancel's definitive answers


def _read[T](read: Callable[[], T]) -> T:
    """A ledger read, again while this process still sees MongoDB as down."""
    deadline = time.monotonic() + READ_S
    while True:
        try:
            return read()
        except LedgerUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def user_names(usernames: list[str]) -> dict[int, str]:
    users = get_user_model().objects.filter(username__in=usernames)
    return dict(users.values_list("pk", "username"))


def last_answers(clicks: list[Click], action: str | None = None) -> dict[str, Click]:
    """Each user's last answer to ``action`` (or to any seat request but a cancel)."""
    last: dict[str, Click] = {}
    for click in sorted(clicks, key=lambda c: c.at):
        if click.action == action or (action is None and click.action in ("rsvp", "join")):
            last[click.username] = click
    return last


def check_settled(clicks: list[Click]) -> list[str]:
    """Everyone who retried until answered was answered for good in the end."""
    finals = [*last_answers(clicks).values(), *last_answers(clicks, "cancel").values()]
    if unanswered := sorted(c.username for c in finals if c.outcome in RETRY):
        return [f"no definitive answer after every retry: {unanswered}"]
    return []


def check_statuses(clicks: list[Click]) -> list[str]:
    """The site never failed but with a 503, and never answered what the API does not."""
    violations = []
    if broken := sorted({c.status for c in clicks if c.status >= 500 and c.status != 503}):
        violations.append(f"server errors other than 503: statuses {broken}")
    if odd := sorted({c.status for c in clicks if c.outcome == "error" and c.status < 500}):
        violations.append(f"answers no seat request should get: statuses {odd}")
    return violations


def _found_no_seat(clicks: list[Click]) -> list[str]:
    """Told a seat, yet the very first cancel found none (a retried one may, rightly)."""
    first_cancel = {}
    for click in sorted(clicks, key=lambda c: c.at):
        if click.action == "cancel":
            first_cancel.setdefault(click.username, click)
    if lost := sorted(u for u, c in first_cancel.items() if c.outcome == "not_going"):
        return [f"told a seat, but the cancel found none: {lost}"]
    return []


def read_ledger(event_id: int, names: dict[int, str]) -> tuple[Ledger, list[str]]:
    """The event's ledger by username, and whoever its lists hold twice."""
    roster = _read(lambda: ledger.roster(event_id))
    seats = _read(lambda: ledger.seats([event_id], skip_damaged=False))
    if roster is None or event_id not in seats:
        raise LedgerUnavailable(f"event {event_id} has no ledger document")
    going = [names.get(a.user_id, f"user id {a.user_id}") for a in roster.attendees]
    waiting = [names.get(u, f"user id {u}") for u in roster.waitlist]
    found = Ledger.from_lists(seats[event_id].capacity, going, waiting)
    violations = check_lists(going, waiting)
    if (seats[event_id].taken, seats[event_id].waiting) != (found.taken, found.waiting):
        violations.append(
            f"stored counts {seats[event_id].taken} going, {seats[event_id].waiting} waiting "
            f"disagree with the lists ({found.taken}, {found.waiting})"
        )
    return found, violations


def check_sql_record(event_id: int, names: dict[int, str]) -> tuple[int, list[str]]:
    """Reconcile as ``manage.py check_ledger`` does; then the record must match the ledger."""
    repair = records.reconcile(event_id)
    roster = _read(lambda: ledger.roster(event_id))
    rows = Rsvp.objects.filter(event_id=event_id)
    going = set(rows.filter(status=Rsvp.Status.GOING).values_list("user_id", flat=True))
    waiting = set(rows.filter(status=Rsvp.Status.WAITING).values_list("user_id", flat=True))
    violations = []
    if going != {a.user_id for a in roster.attendees} or waiting != set(roster.waitlist):
        violations.append("the SQL record disagrees with the ledger after reconcile")
    return repair.added + repair.changed, violations


def check_event(event_id: int, clicks: list[Click], names: dict[int, str], settled: bool):
    """One event: its ledger's invariants, and every user's last answer against it.

    ``settled``: its clients retried until answered for good (the crowd's;
    the outage's stop when told to, whatever they last heard).
    """
    found, violations = read_ledger(event_id, names)
    told = last_answers([c for c in clicks if c.outcome not in RETRY])
    cancels = last_answers(clicks, "cancel")
    cancelled = {u for u, c in cancels.items() if c.outcome in GAVE_BACK}
    # Whoever tried to cancel gave their seat up (or, without a definitive
    # answer, may have): "told going" holds only for the others.
    kept = {u: c for u, c in told.items() if u not in cancels}
    violations += check_ledger(found) + check_told(found, kept)
    violations += check_cancelled(found, cancelled) + _found_no_seat(clicks)
    violations += check_statuses(clicks) + (check_settled(clicks) if settled else [])
    repaired, disagree = check_sql_record(event_id, names)
    going = sum(c.outcome in SEATED for c in kept.values())
    promoted = sum(c.outcome in WAITING and u in found.going for u, c in kept.items())
    violations += disagree
    return EventCheck(event_id, found, told, cancelled, going, promoted, repaired, violations)


def end_check(
    users: list[dict], crowd: tuple[int, list[Click]], outage: tuple[int, list[Click]]
) -> dict[str, EventCheck]:
    """Both events' ledgers, (event id, answers) each, against every answer of the run."""
    names = user_names([u["username"] for u in users])
    return {
        "crowd": check_event(*crowd, names, settled=True),
        "outage": check_event(*outage, names, settled=False),
    }
