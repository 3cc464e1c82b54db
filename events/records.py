"""The SQL record of RSVPs (``events.models.Rsvp``): written after the ledger, repaired from it.

The ledger decides; this mirror only makes RSVPs queryable (by user, by
event, by status). After each ledger write ``record`` copies what the write
returned: the asker's standing and whoever the write promoted. A crash between
the two writes leaves the record behind the ledger; ``record`` notices it on
the event's next write (the ledger's counts and the record's disagree) and
``reconcile`` rewrites the event's record from the ledger, which always wins.
``manage.py check_ledger`` does the same for every event.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from events import ledger
from events.ledger import Outcome, Result
from events.models import Rsvp

Status = Rsvp.Status
HOLDING = (Status.GOING, Status.WAITING)
GAVE_UP = (Outcome.CANCELLED, Outcome.LEFT_WAITLIST)
CHANGED = (Outcome.CONFIRMED, Outcome.WAITLISTED, Outcome.CAPACITY_SET, *GAVE_UP)


@dataclass(frozen=True)
class Repair:
    event_id: int
    added: int = 0
    changed: int = 0

    @property
    def needed(self) -> bool:
        return bool(self.added or self.changed)


def record(event_id: int, user_id: int | None, result: Result, ended: Status) -> Repair | None:
    """Copy one write's outcome; ``ended``: the asker's status if they now hold nothing.

    A write that changed nothing (full, already going, ...) is not recorded:
    in a rush that is most of them, and each SQL write takes the database's
    write lock. Every row written carries the version the write produced.
    """
    if result.seats is None or result.outcome not in CHANGED:
        return None
    if result.promoted:
        _set(event_id, result.promoted, Status.GOING, result.version)
    if user_id is not None:
        _record_asker(event_id, user_id, result, ended)
    if _counts(event_id) != (result.seats.taken, result.seats.waiting) and _first_in(event_id):
        return reconcile(event_id)
    return None


def _first_in(event_id: int, seconds: int = 1) -> bool:
    """At most one repair of an event per second.

    In a rush the counts differ for a moment whenever other writes are
    between their ledger write and their record; each repair reads the
    event's whole lists, so they are spaced out. A real gap (a crash) is
    still repaired by the first write that finds it. With the cache down,
    every mismatch repairs.
    """
    try:
        return cache.add(f"record-repair:{settings.MONGODB_DB}:{event_id}", 1, timeout=seconds)
    except Exception:
        return True


def _record_asker(event_id: int, user_id: int, result: Result, ended: Status) -> None:
    if result.going:
        _set(event_id, [user_id], Status.GOING, result.version)
    elif result.position is not None:
        _set(event_id, [user_id], Status.WAITING, result.version)
    elif result.outcome in GAVE_UP:
        # Also when no row exists (its seat was never recorded): the row then
        # says what happened, and a repair that read the ledger before this
        # write cannot bring back an older "going".
        _set(event_id, [user_id], ended, result.version)


def _older(event_id: int, user_ids, version: int):
    """The users' rows copied from before ``version``: the only ones it may replace."""
    return Rsvp.objects.filter(event_id=event_id, user_id__in=user_ids, ledger_version__lt=version)


def _set(event_id: int, user_ids, status: Status, version: int) -> None:
    """New rows as they are; existing ones only where they are older than ``version``.

    Two statements (an insert that skips existing rows, then a conditional
    update): Django's upsert cannot say "only if older", and either order is
    safe when two writes race, since each statement keeps the newer copy.
    """
    now = timezone.now()
    rows = [
        Rsvp(event_id=event_id, user_id=u, status=status, ledger_version=version, updated_at=now)
        for u in user_ids
    ]
    Rsvp.objects.bulk_create(rows, ignore_conflicts=True)
    _older(event_id, user_ids, version).update(
        status=status, ledger_version=version, updated_at=now
    )


def _counts(event_id: int) -> tuple[int, int]:
    counts = Rsvp.objects.filter(event_id=event_id).aggregate(
        going=Count("pk", filter=Q(status=Status.GOING)),
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
    )
    return counts["going"], counts["waiting"]


def reconcile(event_id: int) -> Repair:
    """Make the event's record say what its ledger says, row by row.

    The ledger is read once, with its version; each row is rewritten only if
    it was copied from an older version, so a write that lands meanwhile
    keeps its own, newer copy.
    """
    rows = {r.user_id: r for r in Rsvp.objects.filter(event_id=event_id)}
    roster = ledger.roster(event_id)
    if roster is None:
        return Repair(event_id)
    truth = {a.user_id: Status.GOING for a in roster.attendees}
    truth |= {user_id: Status.WAITING for user_id in roster.waitlist}
    existing = set(get_user_model().objects.filter(pk__in=list(truth)).values_list("pk", flat=True))
    new = [
        Rsvp(event_id=event_id, user_id=user_id, status=status, ledger_version=roster.version)
        for user_id, status in truth.items()
        if user_id not in rows and user_id in existing
    ]
    Rsvp.objects.bulk_create(new, ignore_conflicts=True)
    stale: dict[Status, list[int]] = {}
    for user_id, row in rows.items():
        if row.status != (status := _expected(row, truth)):
            stale.setdefault(status, []).append(user_id)
    now = timezone.now()
    for status, user_ids in stale.items():  # one statement per status, not per row
        _older(event_id, user_ids, roster.version).update(
            status=status, ledger_version=roster.version, updated_at=now
        )
    return Repair(event_id, added=len(new), changed=sum(map(len, stale.values())))


def _expected(row: Rsvp, truth: dict[int, Status]) -> Status:
    if row.user_id in truth:
        return truth[row.user_id]
    if row.status == Status.GOING:
        return Status.CANCELLED
    if row.status == Status.WAITING:
        return Status.LEFT
    return Status(row.status)
