"""The RSVP ledger in MongoDB: with its parts (``ledger_*``), the only code that talks to MongoDB.

One document per event is the single source of truth for seats, who holds
them and who waits for one (the API contract's shape, plus the list)::

    {_id: <event pk>, capacity: int, attendees: [<user pk>, ...],
     seated_at: [<ms since the epoch, a double>, ...],  # beside attendees, index for index
     waitlist: [<user pk>, ...], waitlist_limit: int | null,
     taken: int, waiting: int,  # the lists' sizes, for reads by _id alone
     version: int,  # one more on every write, for the SQL record's copies
     last_write: {outcome: str, promoted: [<user pk>, ...]}}

Every change is **one** ``find_one_and_update`` addressed by ``_id`` alone,
its update an aggregation pipeline (see ``events.ledger_pipelines``) that
checks and changes the document in one atomic step and, in the same step,
moves the head of the waiting list into any free seat. The pipeline also
stamps ``last_write``: what this write did. The document the write returns is
the one it produced, so the writer reads its own outcome from it; nothing is
decided from an earlier read.

Why ``_id`` alone: the embedded server only uses the key for a bare
``{_id: x}`` filter; any richer filter, an ``$in`` on ``_id`` or an
aggregation's ``$match`` makes it decode every document of the collection
(154 ms per RSVP with 10,000 events against 3.6 ms). So every write and
every read addresses one ``_id`` at a time, and the time of each seat is
written by the same update that gives it (no insert into an ever-growing
collection). Questions across events ("what is this user going to?") go to
the SQL record (``events.records``), never here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from events import ledger_pipelines as pipelines
from events.ledger_combining import Combiner

# The connection is the ledger's too: callers catch ``ledger.LedgerUnavailable``.
from events.ledger_connection import COLLECTION as COLLECTION
from events.ledger_connection import LedgerUnavailable as LedgerUnavailable
from events.ledger_connection import collection as _collection
from events.ledger_connection import held_by_a_transaction
from events.ledger_connection import ping as ping
from events.ledger_connection import translate_errors as _translate_errors
from events.ledger_schema import LedgerDamaged as LedgerDamaged
from events.ledger_schema import checked, refused
from events.ledger_schema import user_id as _user_id

# Migrate-time work on the documents (events.apps): a part of the ledger too.
from events.ledger_upgrade import LEGACY_TIMES as LEGACY_TIMES
from events.ledger_upgrade import ensure_schema as ensure_schema
from events.ledger_upgrade import upgrade_documents as upgrade_documents

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_GOING = "already_going"
    FULL = "full"
    UNKNOWN_EVENT = "unknown_event"
    CANCELLED = "cancelled"
    NOT_GOING = "not_going"
    WAITLISTED = "waitlisted"
    ALREADY_WAITING = "already_waiting"
    WAITLIST_CLOSED = "waitlist_closed"
    LEFT_WAITLIST = "left_waitlist"
    NOT_WAITING = "not_waiting"
    CAPACITY_SET = "capacity_set"
    CAPACITY_BELOW_GOING = "capacity_below_going"
    # manage.py check_ledger --repair (events.ledger_audit)
    REPAIRED = "repaired"
    LEFT_AS_IS = "left_as_is"
    # Decided by events.services from the event's dates, before the ledger is asked.
    EVENT_PAST = "event_past"
    RSVPS_CLOSED = "rsvps_closed"
    # The event is cancelled: its ledger refuses every change (pipelines.cancel).
    EVENT_CANCELLED = "event_cancelled"
    # A strategy other than the site's (events.ledger_strategies) gave up: a
    # version race lost every try, or a lock or transaction held too long.
    BUSY = "busy"


@dataclass(frozen=True)
class Seats:
    capacity: int
    taken: int
    waiting: int = 0
    waitlist_limit: int | None = None  # None: no limit; 0: no waiting list

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.taken >= self.capacity

    @property
    def waitlist_open(self) -> bool:
        """Whether someone may join the list now (it may still be refused by the write)."""
        return self.waitlist_limit is None or self.waiting < self.waitlist_limit


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    seats: Seats | None = None
    position: int | None = None  # 1-based place on the waiting list, when the user waits
    promoted: tuple[int, ...] = field(default=())  # who this write moved into a seat
    going: bool = False  # whether the user holds a seat after the write
    version: int = 0  # the document's version this write produced


@dataclass(frozen=True)
class Standing:
    """One user at one event: holding a seat, waiting (at a position), or neither."""

    going: bool = False
    position: int | None = None


@dataclass(frozen=True)
class Attendee:
    user_id: int
    at: datetime | None  # None if the time was never recorded (a crash between writes)


@dataclass(frozen=True)
class Roster:
    """Everyone at one event as one read saw them, and the version it read."""

    attendees: list[Attendee]
    waitlist: list[int]
    version: int


def _seats(doc: dict) -> Seats:
    return Seats(
        capacity=doc["capacity"],
        taken=len(doc.get("attendees", ())),
        waiting=len(doc.get("waitlist") or ()),
        waitlist_limit=doc.get("waitlist_limit"),
    )


def _position(doc: dict, user_id: int) -> int | None:
    waitlist = doc.get("waitlist") or []
    return waitlist.index(user_id) + 1 if user_id in waitlist else None


def _now_ms() -> float:
    """Whole milliseconds, as a double: the embedded server encodes an int64 ten
    times slower than a double, and a double holds these exactly."""
    return float(_ms(datetime.now(UTC)))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(ms: float | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


def _write(event_id: int, pipeline: list[dict]) -> dict | None:
    """Run one transition; the document it produced, or None if there is no such event."""
    try:
        return _collection().find_one_and_update(
            {"_id": event_id}, pipeline, return_document=ReturnDocument.AFTER
        )
    except OperationFailure as exc:
        if held_by_a_transaction(exc):
            raise  # busy, not damaged: translate_errors makes it LedgerUnavailable
        raise refused(event_id, exc) from exc


def _result(doc: dict | None, user_id: int | None = None) -> Result:
    """What the write that returned ``doc`` did, as it stamped it in ``last_write``."""
    if doc is None:
        return Result(Outcome.UNKNOWN_EVENT)
    last = doc["last_write"]
    return Result(
        Outcome(last["outcome"]),
        _seats(doc),
        position=_position(doc, user_id) if user_id is not None else None,
        promoted=tuple(last.get("promoted") or ()),
        going=user_id is not None and user_id in doc.get("attendees", ()),
        version=doc.get("version", 0),
    )


def _transition(event_id: int, pipeline: list[dict], user_id: int | None = None) -> Result:
    return _result(_write(event_id, pipeline), user_id)


def _empty(capacity: int, waitlist_limit: int | None, version: int = 1) -> dict:
    return {
        "capacity": capacity,
        "attendees": [],
        "seated_at": [],
        "waitlist": [],
        "waitlist_limit": waitlist_limit,
        "taken": 0,
        "waiting": 0,
        "version": version,
    }


@_translate_errors
def create_event(event_id: int, capacity: int, waitlist_limit: int | None = None) -> None:
    """Open an empty ledger; a stale document under a reused id is replaced."""
    _collection().replace_one({"_id": event_id}, _empty(capacity, waitlist_limit), upsert=True)


@_translate_errors
def open_missing(
    event_id: int, capacity: int, waitlist_limit: int | None = None, version: int = 1
) -> bool:
    """Open an empty ledger for an event that has none; False if one exists by now.

    Insert-only: a document that appeared meanwhile (another repair, the
    admin) keeps its seats, where ``create_event``'s replace would wipe them.
    ``version``: where its count of writes starts.
    """
    try:
        _collection().insert_one({"_id": event_id, **_empty(capacity, waitlist_limit, version)})
    except DuplicateKeyError:
        return False
    return True


@_translate_errors
def exists(event_id: int) -> bool:
    """Whether the event has a ledger document at all, readable or not."""
    return _collection().find_one({"_id": event_id}, {"_id": 1}) is not None


@_translate_errors
def delete_events(event_ids: list[int]) -> None:
    for event_id in event_ids:  # one by _id: an $in would scan the collection
        _collection().delete_one({"_id": event_id})


# At most this many RSVPs decided by one write. With gunicorn's threads a
# process rarely has more in flight; the cap bounds one write's cost, which
# grows with the batch times the attendees (each newcomer is looked for in the
# list), so no batch makes its requests wait long.
MAX_BATCH = 32


# Events whose last write in this process left no seat for a newcomer (full,
# or people waiting): their next batch reads the lists first, and a read that
# still shows no room refuses it without writing. On the embedded server the
# read costs a tenth of a write (2.5 ms against 32 ms at 500 attendees; 12 ms
# against 240 ms at 5,000), and after the last seat goes most clicks of a
# rush are refusals. A read never grants a seat: room found means a write.
_seen_full: dict[int, bool] = {}
_LISTS = dict.fromkeys(
    ("capacity", "attendees", "waitlist", "waitlist_limit", "cancelled", "version"), 1
)


def _take_seats(event_id: int, user_ids: list[int]) -> list[Result]:
    """One write for a batch of RSVPs (``user_ids`` in arrival order, maybe repeated)."""
    if _seen_full.get(event_id):
        doc = _collection().find_one({"_id": event_id}, _LISTS)
        if doc is None or not _room_for_newcomers(checked(doc, "capacity", "attendees")):
            return _batch_results(doc, user_ids)
    pipeline = pipelines.take_seats(list(dict.fromkeys(user_ids)), _now_ms())
    doc = _write(event_id, pipeline)
    if doc is not None:
        # A document past the validator (an old embedded collection has none)
        # may be damaged: its guards admitted nobody, and it is reported so.
        _seen_full[event_id] = not _room_for_newcomers(checked(doc, "capacity", "attendees"))
        last = doc["last_write"]
        return _batch_results(doc, user_ids, set(last["admitted"]), tuple(last["promoted"]))
    return _batch_results(doc, user_ids)


def _room_for_newcomers(doc: dict) -> bool:
    free = doc["capacity"] - len(doc["attendees"])
    return free > 0 and not doc.get("waitlist") and not doc.get("cancelled")


def _batch_results(
    doc: dict | None, user_ids: list[int], admitted: set[int] = frozenset(), promoted=()
) -> list[Result]:
    """Each request's outcome, as the document a write returned (or a read found) says.

    ``admitted``: whom the write seated; a repeat of the same user in the
    batch is then already going, as if it came second. Whoever the write
    ``promoted`` is told once, with the first result.
    """
    if doc is None:
        return [Result(Outcome.UNKNOWN_EVENT) for _ in user_ids]
    seats, version = _seats(doc), doc.get("version", 0)
    going = set(doc["attendees"])
    results, answered = [], set()
    for user_id in user_ids:
        position = _position(doc, user_id)
        if doc.get("cancelled"):
            outcome = Outcome.EVENT_CANCELLED
        elif user_id in admitted and user_id not in answered:
            outcome = Outcome.CONFIRMED
        elif user_id in going:
            outcome = Outcome.ALREADY_GOING
        elif position is not None:
            outcome = Outcome.ALREADY_WAITING
        else:
            outcome = Outcome.FULL
        answered.add(user_id)
        told = () if results else tuple(promoted)
        results.append(Result(outcome, seats, position, told, user_id in going, version))
    return results


_combined_rsvps = Combiner(_take_seats, max_batch=MAX_BATCH)


@_translate_errors
def add_attendee(event_id: int, user_id: int, *, combined: bool = True) -> Result:
    """RSVP: take a free seat if nobody waits and the user holds none and waits nowhere.

    Combined (``events.ledger_combining``): RSVPs for the same event arriving
    while one is being written are decided together by the next write; a
    lone one is written at once. ``combined=False``: always one write of its
    own (the ``atomic`` strategy that ``make compare`` sets beside it).
    """
    if combined:
        return _combined_rsvps.submit(event_id, _user_id(user_id))
    return _transition(event_id, pipelines.take_seat(_user_id(user_id), _now_ms()), user_id)


@_translate_errors
def join_waitlist(event_id: int, user_id: int) -> Result:
    """Join the end of the list, or take a seat at once if one is free and nobody waits."""
    return _transition(event_id, pipelines.join_waitlist(_user_id(user_id), _now_ms()), user_id)


@_translate_errors
def remove_attendee(event_id: int, user_id: int) -> Result:
    """Give the seat back; the head of the list takes it in the same write."""
    return _transition(event_id, pipelines.give_up_seat(user_id, _now_ms()), user_id)


@_translate_errors
def leave_waitlist(event_id: int, user_id: int) -> Result:
    return _transition(event_id, pipelines.leave_waitlist(user_id, _now_ms()), user_id)


@_translate_errors
def cancel(event_id: int) -> Roster | None:
    """Close the event's lists for good; who was going and waiting, as the write left them.

    Idempotent: a second call returns the same lists. None if there is no ledger.
    """
    doc = _write(event_id, pipelines.cancel())
    if doc is None:
        return None
    return Roster(_attendees(doc), list(doc.get("waitlist") or []), doc.get("version", 0))


KEEP = pipelines.KEEP  # set_seats: leave this number as it is


@_translate_errors
def set_seats(
    event_id: int, capacity: int | str = KEEP, waitlist_limit: int | str | None = KEEP
) -> Result:
    """New capacity and list limit in one write, unless more people are going.

    Refused as a whole (``CAPACITY_BELOW_GOING``), so the limit never changes
    without the capacity asked for with it. A raise seats the first waiting.
    """
    return _transition(event_id, pipelines.set_seats(capacity, waitlist_limit, _now_ms()))


_COUNTS = {"capacity": 1, "taken": 1, "waiting": 1, "waitlist_limit": 1}


def _counted(doc: dict) -> Seats:
    """Seats from the stored counts; a document never rewritten since has only lists."""
    if "taken" not in doc:
        doc = checked(_collection().find_one({"_id": doc["_id"]}) or doc, "capacity", "attendees")
        return _seats(doc)
    checked(doc, "capacity", "waiting")
    return Seats(doc["capacity"], doc["taken"], doc["waiting"], doc.get("waitlist_limit"))


@_translate_errors
def seats(event_ids: list[int], *, skip_damaged: bool = True) -> dict[int, Seats]:
    """Capacity, seats taken and people waiting per event: one key lookup each.

    A damaged document is logged and left out, as a missing one is, so a
    list of events still shows every other one; or, unless ``skip_damaged``,
    raises ``LedgerDamaged``.
    """
    found = {}
    for event_id in event_ids:
        doc = _collection().find_one({"_id": event_id}, _COUNTS)
        try:
            found[event_id] = _counted(doc) if doc is not None else None
        except LedgerDamaged as exc:
            if not skip_damaged:
                raise
            logger.error("%s", exc)
    return {event_id: seats for event_id, seats in found.items() if seats is not None}


@_translate_errors
def standing(event_id: int, user_id: int) -> tuple[Seats, Standing] | None:
    """The event's seats and the user's seat or place there, by one key lookup.

    Both lists come whole and are searched here: on the embedded server an
    ``$elemMatch`` projection of the user's own entry costs the server more
    than sending the list (8.5 ms against 2.5 ms at 500 attendees, 64 ms
    against 12.5 ms at 5,000), and the server is what a rush waits for.
    None if there is no such event.
    """
    doc = _collection().find_one({"_id": event_id}, {**_COUNTS, "attendees": 1, "waitlist": 1})
    if doc is None:
        return None
    seats = _counted(doc)
    checked(doc)
    mine = Standing(going=user_id in doc["attendees"], position=_position(doc, user_id))
    return seats, mine


def _attendees(doc: dict) -> list[Attendee]:
    checked(doc, "attendees")
    times = doc.get("seated_at") or [None] * len(doc["attendees"])
    if len(times) != len(doc["attendees"]):
        raise LedgerDamaged(doc["_id"], "seated_at and attendees differ in length")
    return [
        Attendee(user_id, _from_ms(ms)) for user_id, ms in zip(doc["attendees"], times, strict=True)
    ]


@_translate_errors
def attendees(event_id: int) -> list[Attendee]:
    """Who holds a seat, in the order they got it, with the time each got it."""
    doc = _collection().find_one({"_id": event_id}, {"attendees": 1, "seated_at": 1})
    return _attendees(doc) if doc is not None else []


@_translate_errors
def roster(event_id: int) -> Roster | None:
    """Who holds a seat and who waits, from one read, with the document's version."""
    projection = {"attendees": 1, "seated_at": 1, "waitlist": 1, "version": 1}
    doc = _collection().find_one({"_id": event_id}, projection)
    if doc is None:
        return None
    return Roster(_attendees(doc), list(checked(doc).get("waitlist") or []), doc.get("version", 1))


@_translate_errors
def waitlist(event_id: int) -> list[int]:
    """Who waits, first in line first."""
    doc = _collection().find_one({"_id": event_id}, {"waitlist": 1})
    return list(checked(doc).get("waitlist") or []) if doc else []
