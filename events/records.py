"""The SQL record of RSVPs (``events.models.Rsvp``): written after the ledger, repaired from it.

The ledger decides; this mirror only makes RSVPs queryable (by user, by
event, by status). After each ledger write ``record`` copies what the write
returned: the asker's standing and whoever the write promoted. A crash between
the two writes leaves the record behind the ledger; ``record`` notices it on
the event's next write (the ledger's counts and the record's disagree) and
``reconcile`` rewrites the event's record from the ledger, which always wins
(``diff`` says what it would change without writing, ``apply`` writes it).
``manage.py check_ledger`` reports the differences of every event; with
``--repair`` it rewrites them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q
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
    safe when two writes race, since each statement keeps the newer copy. One
    transaction, so one commit (SQLite syncs the disk on each).
    """
    now = timezone.now()
    rows = [
        Rsvp(event_id=event_id, user_id=u, status=status, ledger_version=version, updated_at=now)
        for u in user_ids
    ]
    with transaction.atomic():
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


@dataclass(frozen=True)
class RecordDiff:
    """What the event's record must change to say what its ledger says (read, not written)."""

    event_id: int
    version: int  # the ledger document's version read
    new: dict[int, Status]  # rows to add: user -> status
    stale: dict[int, tuple[Status, Status]]  # rows to change: user -> (recorded, ledger's)

    @property
    def changes(self) -> list[tuple[int, Status | None, Status]]:
        """(user, recorded status or None for no row, the ledger's), users in order."""
        found = [(u, None, s) for u, s in self.new.items()]
        found += [(u, was, now) for u, (was, now) in self.stale.items()]
        return sorted(found)


def diff(event_id: int) -> RecordDiff | None:
    """What ``reconcile`` would change; None if the event has no ledger document.

    Rows are read before the ledger: a write landing in between has its own
    row with a newer version, which ``apply`` then leaves alone.
    """
    rows = {r.user_id: r for r in Rsvp.objects.filter(event_id=event_id)}
    roster = ledger.roster(event_id)
    if roster is None:
        return None
    # Someone in both lists (a damaged ledger) holds the seat: a repair keeps it.
    truth = {user_id: Status.WAITING for user_id in roster.waitlist}
    truth |= {a.user_id: Status.GOING for a in roster.attendees}
    existing = set(get_user_model().objects.filter(pk__in=list(truth)).values_list("pk", flat=True))
    new = {u: s for u, s in truth.items() if u not in rows and u in existing}
    stale = {
        user_id: (Status(row.status), status)
        for user_id, row in rows.items()
        if row.status != (status := _expected(row, truth))
    }
    return RecordDiff(event_id, roster.version, new, stale)


def apply(found: RecordDiff) -> Repair:
    """Write a diff: each row only if it was not copied from a newer version than the diff's.

    A row copied from the very version the diff read, yet saying otherwise,
    was changed by hand: it is rewritten too.
    """
    rows = [
        Rsvp(event_id=found.event_id, user_id=u, status=s, ledger_version=found.version)
        for u, s in found.new.items()
    ]
    Rsvp.objects.bulk_create(rows, ignore_conflicts=True)
    by_status: dict[Status, list[int]] = {}
    for user_id, (_, status) in found.stale.items():
        by_status.setdefault(status, []).append(user_id)
    now = timezone.now()
    for status, user_ids in by_status.items():  # one statement per status, not per row
        _older(found.event_id, user_ids, found.version + 1).update(
            status=status, ledger_version=found.version, updated_at=now
        )
    return Repair(found.event_id, added=len(found.new), changed=len(found.stale))


def reconcile(event_id: int) -> Repair:
    """Make the event's record say what its ledger says, row by row.

    The ledger is read once, with its version; each row is rewritten only if
    it was copied from an older version, so a write that lands meanwhile
    keeps its own, newer copy.
    """
    found = diff(event_id)
    return apply(found) if found is not None else Repair(event_id)


def newest_version(event_id: int) -> int:
    """The newest ledger version the event's record was copied from (0: no rows)."""
    found = Rsvp.objects.filter(event_id=event_id).aggregate(newest=Max("ledger_version"))
    return found["newest"] or 0


def holding(event_id: int) -> dict[Status, list[int]]:
    """Who the record says is going and waiting (for an event whose ledger is missing)."""
    rows = Rsvp.objects.filter(event_id=event_id, status__in=HOLDING).order_by("pk")
    found: dict[Status, list[int]] = {status: [] for status in HOLDING}
    for user_id, status in rows.values_list("user_id", "status"):
        found[Status(status)].append(user_id)
    return found


def _expected(row: Rsvp, truth: dict[int, Status]) -> Status:
    if row.user_id in truth:
        return truth[row.user_id]
    if row.status == Status.GOING:
        return Status.CANCELLED
    if row.status == Status.WAITING:
        return Status.LEFT
    return Status(row.status)
