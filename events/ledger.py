"""The RSVP ledger in MongoDB: the only module that talks to MongoDB.

One document per event is the single source of truth for seats, who holds
them and who waits for one (the reference note's shape, plus the list)::

    {_id: <event pk>, capacity: int, attendees: [<user pk>, ...],
     waitlist: [<user pk>, ...], waitlist_limit: int | null,
     last_write: {outcome: str, promoted: [<user pk>, ...]}}

Every change is **one** ``find_one_and_update`` addressed by ``_id`` alone,
its update an aggregation pipeline (see ``events.ledger_pipelines``) that
checks and changes the document in one atomic step and, in the same step,
moves the head of the waiting list into any free seat. The pipeline also
stamps ``last_write``: what this write did. The document the write returns is
the one it produced, so the writer reads its own outcome from it; nothing is
decided from an earlier read.

Why ``_id`` alone: the embedded server only uses the key for a bare
``{_id: x}`` filter; any richer filter makes it decode every document of the
collection (154 ms per RSVP with 10,000 events against 3.6 ms).

When each attendee got their seat is kept beside the ledger, in
``rsvp_times`` (one small document per seat), written after the seat is
taken. It only informs the admin's list and decides nothing.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from pymongo import MongoClient, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure

from events import ledger_pipelines as pipelines

COLLECTION = "rsvp_ledger"
TIMES = "rsvp_times"


class LedgerUnavailable(Exception):
    """MongoDB cannot be reached; callers answer 503 and retry later."""


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
    # Decided by events.services from the event's date, before the ledger is asked.
    EVENT_PAST = "event_past"


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


@dataclass(frozen=True)
class Standing:
    """One user at one event: holding a seat, waiting (at a position), or neither."""

    going: bool = False
    position: int | None = None


@dataclass(frozen=True)
class Attendee:
    user_id: int
    at: datetime | None  # None if the time was never recorded (a crash between writes)


_client: MongoClient | None = None
_client_uri: str = ""
_client_lock = threading.Lock()


def _collection(name: str = COLLECTION) -> Collection:
    """A process-wide client, made on first use (after gunicorn forks)."""
    global _client, _client_uri
    uri = settings.MONGODB_URI
    if _client is None or _client_uri != uri:
        with _client_lock:
            if _client is None or _client_uri != uri:
                if not uri:
                    raise LedgerUnavailable("MONGODB_URI is not set")
                if _client is not None:
                    _client.close()
                timeout = settings.MONGODB_TIMEOUT_MS
                _client = MongoClient(
                    uri,
                    tz_aware=True,
                    serverSelectionTimeoutMS=timeout,
                    connectTimeoutMS=timeout,
                    socketTimeoutMS=max(timeout * 5, 10_000),
                )
                _client_uri = uri
    return _client[settings.MONGODB_DB][name]


def _translate_errors(fn):
    """Turn any pymongo connection problem into LedgerUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConnectionFailure as exc:
            raise LedgerUnavailable(str(exc)) from exc

    return wrapper


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


def _time_id(event_id: int, user_id: int) -> str:
    return f"{event_id}:{user_id}"


def _record_times(event_id: int, user_ids: list[int] | tuple[int, ...]) -> None:
    """When these users got their seats: for the admin's list only, decides nothing."""
    now = datetime.now(UTC)
    for user_id in user_ids:
        _collection(TIMES).replace_one(
            {"_id": _time_id(event_id, user_id)},
            {"event": event_id, "user": user_id, "at": now},
            upsert=True,
        )


def _forget_time(event_id: int, user_id: int) -> None:
    _collection(TIMES).delete_one({"_id": _time_id(event_id, user_id)})


def _write(event_id: int, pipeline: list[dict]) -> dict | None:
    """Run one transition; the document it produced, or None if there is no such event."""
    return _collection().find_one_and_update(
        {"_id": event_id}, pipeline, return_document=ReturnDocument.AFTER
    )


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
    )


def _transition(event_id: int, pipeline: list[dict], user_id: int | None = None) -> Result:
    """Write, then record seat times for whoever the write seated."""
    result = _result(_write(event_id, pipeline), user_id)
    seated = list(result.promoted)
    if result.outcome is Outcome.CONFIRMED and user_id is not None:
        seated.append(user_id)
    if seated:
        _record_times(event_id, seated)
    return result


@_translate_errors
def ping() -> None:
    _collection().database.command("ping")


@_translate_errors
def ensure_indexes() -> None:
    """Index RSVP times by event, for the admin's attendee list.

    The ledger's ``attendees`` gets no multikey index: on the embedded server it
    made every RSVP rewrite the index entries of the whole list and "my RSVPs"
    60x slower (214 ms against a 3 ms scan of 200 events). On a real MongoDB
    with many thousands of events, ``create_index("attendees")`` pays off.
    """
    _collection(TIMES).create_index("event")


@_translate_errors
def create_event(event_id: int, capacity: int, waitlist_limit: int | None = None) -> None:
    """Open an empty ledger; a stale document under a reused id is replaced."""
    _collection().replace_one(
        {"_id": event_id},
        {"capacity": capacity, "attendees": [], "waitlist": [], "waitlist_limit": waitlist_limit},
        upsert=True,
    )


@_translate_errors
def delete_events(event_ids: list[int]) -> None:
    _collection().delete_many({"_id": {"$in": event_ids}})
    _collection(TIMES).delete_many({"event": {"$in": event_ids}})


@_translate_errors
def add_attendee(event_id: int, user_id: int) -> Result:
    """RSVP: take a free seat if nobody waits and the user holds none and waits nowhere."""
    return _transition(event_id, pipelines.take_seat(user_id), user_id)


@_translate_errors
def join_waitlist(event_id: int, user_id: int) -> Result:
    """Join the end of the list, or take a seat at once if one is free and nobody waits."""
    return _transition(event_id, pipelines.join_waitlist(user_id), user_id)


@_translate_errors
def remove_attendee(event_id: int, user_id: int) -> Result:
    """Give the seat back; the head of the list takes it in the same write."""
    result = _transition(event_id, pipelines.give_up_seat(user_id), user_id)
    if result.outcome is Outcome.CANCELLED:
        _forget_time(event_id, user_id)
    return result


@_translate_errors
def leave_waitlist(event_id: int, user_id: int) -> Result:
    return _transition(event_id, pipelines.leave_waitlist(user_id), user_id)


@_translate_errors
def set_capacity(event_id: int, capacity: int) -> Result:
    """New capacity unless more people are going; a raise seats the first waiting."""
    return _transition(event_id, pipelines.set_capacity(capacity))


@_translate_errors
def set_waitlist_limit(event_id: int, limit: int | None) -> bool:
    """Cap the list (0 turns it off); whoever already waits keeps their place.

    A plain ``$set``: no seat changes, and every join reads the limit in its
    own atomic write. False if there is no such event.
    """
    found = _collection().update_one({"_id": event_id}, {"$set": {"waitlist_limit": limit}})
    return found.matched_count == 1


@_translate_errors
def seats(event_ids: list[int]) -> dict[int, Seats]:
    """Capacity, seats taken and people waiting per event, counted by the server."""
    pipeline = [
        {"$match": {"_id": {"$in": list(event_ids)}}},
        {
            "$project": {
                "capacity": 1,
                "taken": {"$size": "$attendees"},
                "waiting": {"$size": {"$ifNull": ["$waitlist", []]}},
                "waitlist_limit": 1,
            }
        },
    ]
    return {
        d["_id"]: Seats(d["capacity"], d["taken"], d["waiting"], d.get("waitlist_limit"))
        for d in _collection().aggregate(pipeline)
    }


@_translate_errors
def standing(event_id: int, user_id: int) -> Standing:
    """Whether the user holds a seat or waits (and where), asked of the server."""
    found = list(_collection().aggregate(pipelines.standing(event_id, user_id)))
    return _standing(found[0]) if found else Standing()


def _standing(doc: dict) -> Standing:
    index = doc["index"]
    return Standing(going=doc["going"], position=index + 1 if index >= 0 else None)


@_translate_errors
def standings_of(user_id: int) -> dict[int, Standing]:
    """Every event where the user holds a seat or waits, by event id."""
    found = _collection().aggregate(pipelines.standings_of(user_id))
    return {d["_id"]: _standing(d) for d in found}


@_translate_errors
def fill_for_benchmark(
    event_id: int, user_ids: list[int], *, waiting: bool = False
) -> Seats | None:
    """FOR BENCHMARKS ONLY: append many attendees (or waiters) in one ``$push``.

    It bypasses every guard of the transitions above, so it can overbook an
    event; nothing in the site may call it. It exists so that ``make bench``
    can measure one RSVP on an event that already has thousands of attendees
    (or waiting) without making thousands of RSVPs first. None if no such event.
    """
    doc = _collection().find_one_and_update(
        {"_id": event_id},
        {"$push": {"waitlist" if waiting else "attendees": {"$each": list(user_ids)}}},
        return_document=ReturnDocument.AFTER,
    )
    return _seats(doc) if doc is not None else None


@_translate_errors
def attendees(event_id: int) -> list[Attendee]:
    """Who holds a seat, in the order they got it, with the time each got it."""
    doc = _collection().find_one({"_id": event_id}, {"attendees": 1})
    if doc is None:
        return []
    times = {t["user"]: t["at"] for t in _collection(TIMES).find({"event": event_id})}
    return [Attendee(user_id, times.get(user_id)) for user_id in doc["attendees"]]


@_translate_errors
def waitlist(event_id: int) -> list[int]:
    """Who waits, first in line first."""
    doc = _collection().find_one({"_id": event_id}, {"waitlist": 1})
    return list(doc.get("waitlist") or []) if doc else []
