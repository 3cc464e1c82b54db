"""The SQL record of RSVPs (``events.models.Rsvp``): written after the ledger, repaired from it.

The ledger decides; this mirror only makes RSVPs queryable (by user, by
event, by status). After each ledger write ``record`` copies what the write
returned: the asker's standing and whoever the write promoted, in one
statement. A crash between the two writes leaves the record behind the
ledger; ``repair_if_behind`` notices it on a later write of the event (the
ledger's counts and the record's disagree; it looks at most once a second per
event) and ``reconcile`` rewrites the event's record from the ledger, which always wins
(``diff`` says what it would change without writing, ``apply`` writes it).

A seat's confirmation is queued by whichever write moves its row to going,
in the same transaction: the copy of the write that gave it, or, if that
copy never committed (its process died after the ledger write), the repair
or the person's own "already going" retry that writes the row. The row is
unique per event and person, so exactly one of them does.
``manage.py check_ledger`` reports the differences of every event; with
``--repair`` it rewrites them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections, router, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from events import ledger
from events.ledger import Outcome, Result
from events.models import Rsvp
from events.services import notifications

Status = Rsvp.Status
HOLDING = (Status.GOING, Status.WAITING)
GAVE_UP = (
    *(Outcome.CANCELLED, Outcome.LEFT_WAITLIST, Outcome.REQUEST_WITHDRAWN, Outcome.DECLINED),
    *(Outcome.ENTRY_WITHDRAWN, Outcome.NOT_DRAWN),
)
CHANGED = (
    Outcome.CONFIRMED,
    Outcome.WAITLISTED,
    Outcome.REQUESTED,
    Outcome.APPROVED,
    Outcome.ENTERED,
    Outcome.DRAWN,
    # A party that shrank may have seated the first waiting: their row and email.
    Outcome.PARTY_CHANGED,
    Outcome.CAPACITY_SET,
    Outcome.REPAIRED,
    Outcome.RELEASED,
    *GAVE_UP,
)
# Refusals that say where the asker stands: recorded too, so a record left
# behind (a seat whose answer was lost to a crash or an outage) is mended by
# that person's own retry. They are rare (a second click), unlike "full".
STANDING_SAID = (
    *(Outcome.ALREADY_GOING, Outcome.ALREADY_WAITING),
    *(Outcome.ALREADY_REQUESTED, Outcome.ALREADY_ENTERED),
)
# How often at most an event's record is checked against its ledger (seconds).
CHECK_EVERY_S = 1


@dataclass(frozen=True)
class Repair:
    event_id: int
    added: int = 0
    changed: int = 0
    told: tuple[int, ...] = ()  # seated people whose confirmation the repair queued

    @property
    def needed(self) -> bool:
        return bool(self.added or self.changed)


def record(event_id: int, user_id: int | None, result: Result, ended: Status) -> None:
    """Copy one write's outcome; ``ended``: the asker's status if they now hold nothing.

    A refusal that changed nothing (full, closed, ...) is not recorded: in a
    rush that is most of them, and each SQL write takes the database's write
    lock; "already going" or "waiting" is (``STANDING_SAID``). Every row
    written carries the version the write produced (or the read found), and
    all of them (the asker and whoever was promoted) go in one statement.
    """
    record_many(event_id, [(user_id, result, ended)])


@dataclass(frozen=True)
class Recorded:
    """What ``record_many`` wrote: the rows, and who must be told of a seat after all."""

    written: frozenset[tuple[int, int]]  # (version, user) of every row written
    # "Already going" askers whose row did not say going: the copy of the
    # write that seated them never committed, so nobody told them.
    untold: frozenset[int] = frozenset()


def record_many(event_id: int, writes: list[tuple[int | None, Result, Status]]) -> Recorded:
    """``record`` for several writes of one event (asker, result, ended): one statement a version.

    The requests a combined ledger write decided share its version, so their
    rows go in one statement. Call it inside a transaction: the untold are
    found from their rows as they were before it.
    """
    by_version: dict[int, dict[int, Status]] = {}
    for user_id, result, ended in writes:
        if result.seats is None or result.outcome not in (*CHANGED, *STANDING_SAID):
            continue
        rows = by_version.setdefault(result.version, {})
        rows.update(dict.fromkeys(result.promoted, Status.GOING))
        if user_id is not None and (status := _asker_status(result, ended)) is not None:
            rows[user_id] = status
    # Rare (a second click, a retry): only these askers' rows are read first.
    said = {(r.version, u) for u, r, _ in writes if r.outcome is Outcome.ALREADY_GOING and u}
    going_before = _going(event_id, [u for _, u in said])
    written = set()
    for version, rows in by_version.items():
        if rows:
            written |= {(version, u) for u in _upsert(event_id, rows, version)}
    untold = {u for version, u in said & written if u not in going_before}
    return Recorded(frozenset(written), frozenset(untold))


def _going(event_id: int, user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = Rsvp.objects.filter(event_id=event_id, user_id__in=user_ids, status=Status.GOING)
    return set(rows.values_list("user_id", flat=True))


def repair_if_behind(event_id: int, result: Result) -> Repair | None:
    """After a recorded write: rewrite the event's record if it disagrees with the ledger.

    A crash between a ledger write and its record leaves the record behind;
    a later write notices it here (the record's counts and the ledger's
    differ) and ``reconcile`` rewrites the event's record from the ledger.
    The counts read every row of the event, so they are taken at most once
    every ``CHECK_EVERY_S`` per event: the throttle comes first, and most
    writes of a rush pay no count at all. A gap is repaired by the first
    write checking after it.
    """
    if result.seats is None or result.outcome not in CHANGED or not _first_in(event_id):
        return None
    if _counts(event_id) == (result.seats.taken, result.seats.waiting):
        return None
    return reconcile(event_id)


def _first_in(event_id: int) -> bool:
    """Whether this write is the event's first in its window of ``CHECK_EVERY_S``.

    In a rush the counts also differ for a moment whenever other writes are
    between their ledger write and their record; each repair reads the
    event's whole lists, so checks are spaced out. With the cache down, every
    write checks (slower, never wrong).
    """
    key = f"record-check:{settings.MONGODB_DB}:{event_id}"
    try:
        return cache.add(key, 1, timeout=CHECK_EVERY_S)
    except Exception:
        return True


def _asker_status(result: Result, ended: Status) -> Status | None:
    if result.going:
        return Status.GOING
    if result.position is not None:
        return Status.WAITING
    if result.requested:
        return Status.REQUESTED
    if result.entered:
        return Status.ENTERED
    if result.outcome in GAVE_UP:
        # Also when no row exists (its seat was never recorded): the row then
        # says what happened, and a repair that read the ledger before this
        # write cannot bring back an older "going".
        return ended
    return None


def _older(event_id: int, user_ids, version: int):
    """The users' rows copied from before ``version``: the only ones it may replace."""
    return Rsvp.objects.filter(event_id=event_id, user_id__in=user_ids, ledger_version__lt=version)


# One statement, which SQLite (3.35+) and PostgreSQL both run as written.
# Django's bulk_create(update_conflicts=True) cannot add the WHERE, and the
# WHERE is the rule: a row only yields to a newer ledger version, so a worker
# slow to record never undoes a later cancel or repair, whichever of two
# racing writes commits first. created_at is set by an insert and left alone
# by an update. RETURNING names the rows it wrote (inserted or replaced):
# who this write may tell of a seat.
_UPSERT = """\
INSERT INTO {table} (event_id, user_id, status, ledger_version, created_at, updated_at, guest_names)
VALUES {rows}
ON CONFLICT (event_id, user_id) DO {conflict}
RETURNING user_id"""
_REPLACE_OLDER = """UPDATE SET
    status = excluded.status,
    ledger_version = excluded.ledger_version,
    updated_at = excluded.updated_at
WHERE {table}.ledger_version < excluded.ledger_version"""
# A new row names no guests (JSON "[]"); an existing one keeps the names it has.
_ROW = "(%s, %s, %s, %s, %s, %s, '[]')"


def _upsert(event_id: int, rows: dict[int, Status], version: int, replace: bool = True) -> set[int]:
    """Insert the rows (user -> status); replace existing ones only if older than ``version``.

    ``replace`` False: insert only, leaving every existing row alone. The
    users whose rows it wrote.
    """
    connection = connections[router.db_for_write(Rsvp)]
    table = connection.ops.quote_name(Rsvp._meta.db_table)
    # The field turns the time into what this database stores (text for SQLite).
    now = Rsvp._meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)
    params = []
    for user_id, status in rows.items():
        params += [event_id, user_id, str(status), version, now, now]
    conflict = _REPLACE_OLDER.format(table=table) if replace else "NOTHING"
    sql = _UPSERT.format(table=table, rows=", ".join([_ROW] * len(rows)), conflict=conflict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {user_id for (user_id,) in cursor.fetchall()}


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
    truth = {user_id: Status.ENTERED for user_id in roster.entries}
    truth |= {user_id: Status.REQUESTED for user_id in roster.requests}
    truth |= {user_id: Status.WAITING for user_id in roster.waitlist}
    truth |= {a.user_id: Status.GOING for a in roster.attendees}
    existing = set(get_user_model().objects.filter(pk__in=list(truth)).values_list("pk", flat=True))
    new = {u: s for u, s in truth.items() if u not in rows and u in existing}
    stale = {
        user_id: (Status(row.status), status)
        for user_id, row in rows.items()
        if row.status != (status := _expected(row, truth))
    }
    return RecordDiff(event_id, roster.version, new, stale)


@transaction.atomic
def apply(found: RecordDiff) -> Repair:
    """Write a diff: each row only if it was not copied from a newer version than the diff's.

    A row copied from the very version the diff read, yet saying otherwise,
    was changed by hand: it is rewritten too. Whoever's row this moves to
    going was never told of their seat (the copy that would have told them
    did not commit): their confirmation is queued in the same transaction.
    """
    inserted = (
        _upsert(found.event_id, found.new, found.version, replace=False) if found.new else set()
    )
    seated = [u for u in inserted if found.new[u] == Status.GOING]
    by_status: dict[Status, list[int]] = {}
    for user_id, (_, status) in found.stale.items():
        by_status.setdefault(status, []).append(user_id)
    now = timezone.now()
    for status, user_ids in by_status.items():  # one statement per status, not per row
        rows = _older(found.event_id, user_ids, found.version + 1)
        if status == Status.GOING:  # locked and read first: who this moves to going
            moving = rows.exclude(status=Status.GOING).select_for_update()
            seated += moving.values_list("user_id", flat=True)
            rows = rows.filter(user_id__in=seated)
        rows.update(status=status, ledger_version=found.version, updated_at=now)
    for user_id in sorted(seated):
        notifications.queue_with_record(
            notifications.Kind.CONFIRMED,
            event_id=found.event_id,
            user_id=user_id,
            version=found.version,
        )
    told = tuple(sorted(seated))
    return Repair(found.event_id, added=len(found.new), changed=len(found.stale), told=told)


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
    if row.status in (Status.REQUESTED, Status.ENTERED):  # the ledger cannot say what ended it
        return Status.CANCELLED
    return Status(row.status)
