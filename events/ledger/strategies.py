"""Ways to take a seat, side by side: the textbook alternatives, on the same documents.

Part of ``events.ledger`` (the only code that talks to MongoDB). Each
strategy takes a seat and gives one back on the ledger document
``events.ledger`` describes, keeping ``attendees``, ``seated_at``, ``taken``,
``waiting``, ``version`` and ``last_write`` as every reader and
``check_ledger`` expect, and answers a ``ledger.Result`` with the same
outcomes. Seats are read with ``ledger.seats``, whatever took them.

- ``combined``: the site's. RSVPs for one event that meet in one process are
  decided together by one guarded write of ``events.ledger`` (see
  ``events.ledger.combining``); a lone RSVP is written at once.
- ``atomic``: one guarded ``find_one_and_update`` of ``events.ledger`` per
  request. It and ``combined`` are the only ones with a waiting list: their
  write promotes the first waiting into a freed seat, and they alone may serve
  the site.
- ``transaction``: read, check and write inside a MongoDB multi-document
  transaction (``with_transaction`` retries what the server labels
  transient). A real MongoDB needs a replica set for it; the embedded server
  accepts it on its standalone but, while one transaction is open, refuses
  every other session's reads and writes, without the label that would make
  the driver retry: those come back ``BUSY``.
- ``optimistic``: read, check, then write only if the document's ``version``
  is still the one read; a lost race reads again, up to ``tries`` times,
  then ``BUSY`` ("busy, try again").
- ``redis_lock``: read, check and write while holding a per-event lock in
  Redis (``REDIS_URL``). The lock expires after ``LOCK_TIMEOUT_S``: if its
  holder dies (or stalls) mid-write, the next one gets in after that, and a
  write the dead holder had already sent may still land afterwards, so the
  lock alone cannot rule out an overbooking; it only makes one unlikely.
- ``naive`` and ``unguarded_batch``: the controls, which overbook on purpose
  so that the checks can be seen to catch it. They live with the load tools
  (``loadtests.controls``), built from this module's read-check-write parts,
  and are imported only where a proving ground names one.

The read-check-write ones answer ``FULL`` when the event is full or anyone
waits, and give a seat back without promoting anyone. ``STRATEGY`` names one
that may not serve the site only on a proving ground (eventsite/env.py,
``seat_strategy``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import redis
from django.conf import settings
from django.utils.module_loading import import_string
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure

from events import ledger
from events.ledger import documents
from events.ledger.connection import collection as _collection
from events.ledger.connection import held_by_a_transaction
from events.ledger.connection import translate_errors as _translate_errors
from events.ledger.schema import refused
from events.ledger.types import Outcome, Result
from eventsite.env import SEAT_STRATEGIES as NAMES

DEFAULT = "combined"
OPTIMISTIC_TRIES = 5
LOCK_TIMEOUT_S = 5.0  # a dead holder's lock frees itself after this long
LOCK_WAIT_S = 10.0  # how long a request waits for the lock before BUSY
_READ = dict.fromkeys(
    (
        "capacity",
        "attendees",
        "seated_at",
        "guests",
        "waitlist",
        "waiting_guests",
        "waitlist_limit",
        "version",
        "cancelled",
    ),
    1,
)


class Strategy(Protocol):
    name: str

    def take_seat(self, event_id: int, user_id: int) -> Result: ...

    def give_up_seat(self, event_id: int, user_id: int) -> Result: ...


# The decision every read-check-write strategy makes in Python (the atomic one
# makes the same in its pipeline, events.ledger.pipelines.take_seat).
def decide_take(doc: dict | None, user_id: int) -> Outcome:
    if doc is None:
        return Outcome.UNKNOWN_EVENT
    if doc.get("cancelled"):
        return Outcome.EVENT_CANCELLED
    if user_id in doc["attendees"]:
        return Outcome.ALREADY_GOING
    if user_id in (doc.get("waitlist") or ()):
        return Outcome.ALREADY_WAITING
    if documents.seats_of(doc).is_full or doc.get("waitlist"):
        return Outcome.FULL
    return Outcome.CONFIRMED


def decide_give_back(doc: dict | None, user_id: int) -> Outcome:
    if doc is None:
        return Outcome.UNKNOWN_EVENT
    if doc.get("cancelled"):
        return Outcome.EVENT_CANCELLED
    return Outcome.CANCELLED if user_id in doc["attendees"] else Outcome.NOT_GOING


def refusal(outcome: Outcome, doc: dict | None, user_id: int) -> Result:
    if doc is None:
        return Result(outcome)
    going = user_id in doc["attendees"]
    return Result(outcome, documents.seats_of(doc), going=going, version=doc.get("version", 1))


def stamp(outcome: Outcome) -> dict:
    return {"last_write": {"outcome": str(outcome), "promoted": []}}


def push_seat(user_id: int) -> dict:
    """The update that seats ``user_id`` at the end of the list, counts and version with it.

    A party of one: a document with parties keeps ``guests`` beside
    ``attendees``, and these strategies take plain RSVPs only (the site's
    pipelines take parties).
    """
    return {
        "$push": {"attendees": user_id, "seated_at": documents.now_ms()},
        "$inc": {"taken": 1, "version": 1},
        "$set": stamp(Outcome.CONFIRMED),
    }


def without_seat(doc: dict, user_id: int) -> dict:
    """The update that leaves ``doc``'s lists without the user's seat (as read)."""
    index = doc["attendees"].index(user_id)
    attendees = doc["attendees"][:index] + doc["attendees"][index + 1 :]
    times = doc.get("seated_at") or [None] * len(doc["attendees"])
    guests = doc.get("guests")
    kept_guests = {"guests": guests[:index] + guests[index + 1 :]} if guests else {}
    return {
        "$set": {
            "attendees": attendees,
            "seated_at": times[:index] + times[index + 1 :],
            **kept_guests,
            "taken": len(attendees) + sum(kept_guests.get("guests", ())),
            **stamp(Outcome.CANCELLED),
        },
        "$inc": {"version": 1},
    }


def change(event_id: int, filter_: dict, update: dict, user_id: int, session=None):
    """One write; the Result it produced, or None if the filter matched nothing."""
    try:
        doc = _collection().find_one_and_update(
            {"_id": event_id, **filter_},
            update,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
    except OperationFailure as exc:
        if session is not None:
            raise  # the transaction's own retry or refusal decides
        raise refused(event_id, exc) from exc
    return documents.result_of(doc, user_id) if doc is not None else None


def read_document(event_id: int, session=None) -> dict | None:
    return _collection().find_one({"_id": event_id}, _READ, session=session)


def read_check_write(event_id: int, user_id: int, taking: bool, session=None) -> Result:
    """Read, decide in Python, write unguarded: safe only when nobody else writes meanwhile."""
    doc = read_document(event_id, session)
    if taking:
        outcome = decide_take(doc, user_id)
        if outcome is not Outcome.CONFIRMED:
            return refusal(outcome, doc, user_id)
        update = push_seat(user_id)
    else:
        outcome = decide_give_back(doc, user_id)
        if outcome is not Outcome.CANCELLED:
            return refusal(outcome, doc, user_id)
        update = without_seat(doc, user_id)
    return change(event_id, {}, update, user_id, session) or Result(Outcome.UNKNOWN_EVENT)


@dataclass(frozen=True)
class Combined:
    """Concurrent RSVPs for one event decided by one guarded write; a lone one alone."""

    name: str = "combined"

    def take_seat(self, event_id: int, user_id: int) -> Result:
        return ledger.take_seat(event_id, user_id)

    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return ledger.give_up_seat(event_id, user_id)


@dataclass(frozen=True)
class Atomic:
    """One guarded find_one_and_update: the check and the change are one step on the server."""

    name: str = "atomic"

    def take_seat(self, event_id: int, user_id: int) -> Result:
        return ledger.take_seat(event_id, user_id, combined=False)

    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return ledger.give_up_seat(event_id, user_id)


@dataclass(frozen=True)
class Optimistic:
    """Write only if the version read is still the document's; else read again, a few times."""

    name: str = "optimistic"
    tries: int = OPTIMISTIC_TRIES

    def _attempt(self, event_id: int, user_id: int, taking: bool) -> Result:
        for _ in range(self.tries):
            doc = read_document(event_id)
            decide = decide_take if taking else decide_give_back
            outcome = decide(doc, user_id)
            if outcome is not (Outcome.CONFIRMED if taking else Outcome.CANCELLED):
                return refusal(outcome, doc, user_id)
            update = push_seat(user_id) if taking else without_seat(doc, user_id)
            # A document from before `version` existed has none to compare.
            guard = {"version": doc.get("version", {"$exists": False})}
            if (result := change(event_id, guard, update, user_id)) is not None:
                return result
        return refusal(Outcome.BUSY, doc, user_id)  # every try lost its race

    @_translate_errors
    def take_seat(self, event_id: int, user_id: int) -> Result:
        return self._attempt(event_id, user_id, taking=True)

    @_translate_errors
    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return self._attempt(event_id, user_id, taking=False)


@dataclass(frozen=True)
class Transaction:
    """Read, check and write in one multi-document transaction (a replica set's feature)."""

    name: str = "transaction"

    def _run(self, event_id: int, user_id: int, taking: bool) -> Result:
        client = _collection().database.client

        def body(session: ClientSession) -> Result:
            return read_check_write(event_id, user_id, taking, session)

        try:
            with client.start_session() as session:
                return session.with_transaction(body)
        except OperationFailure as exc:
            # Not retried by the driver: no transient label (the embedded
            # server's answer to a second open transaction) or out of time.
            if held_by_a_transaction(exc):
                return Result(Outcome.BUSY)
            raise refused(event_id, exc) from exc

    @_translate_errors
    def take_seat(self, event_id: int, user_id: int) -> Result:
        return self._run(event_id, user_id, taking=True)

    @_translate_errors
    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return self._run(event_id, user_id, taking=False)


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=LOCK_WAIT_S + 5)


@dataclass(frozen=True)
class RedisLock:
    """Read, check and write while holding the event's lock in Redis."""

    name: str = "redis_lock"
    url: str = ""

    def _locked(self, event_id: int, user_id: int, taking: bool) -> Result:
        client = _redis(self.url or settings.REDIS_URL)
        lock = client.lock(
            f"event-seat:{event_id}", timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_WAIT_S
        )
        if not lock.acquire():
            return Result(Outcome.BUSY)
        try:
            return read_check_write(event_id, user_id, taking)
        finally:
            # Held past its timeout, someone else may hold it by now: not ours to release.
            with contextlib.suppress(redis.exceptions.LockNotOwnedError):
                lock.release()

    @_translate_errors
    def take_seat(self, event_id: int, user_id: int) -> Result:
        return self._locked(event_id, user_id, taking=True)

    @_translate_errors
    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return self._locked(event_id, user_id, taking=False)


STRATEGIES: dict[str, type] = {
    "combined": Combined,
    "atomic": Atomic,
    "transaction": Transaction,
    "optimistic": Optimistic,
    "redis_lock": RedisLock,
}
# The controls, which overbook on purpose to show that the checks catch it,
# live with the load tools; the site imports them only when a proving ground
# names one (eventsite/env.py refuses it anywhere else).
CONTROLS: dict[str, str] = {
    "naive": "loadtests.controls.Naive",
    "unguarded_batch": "loadtests.controls.UnguardedBatch",
}


def get(name: str, **options) -> Strategy:
    """The strategy of that name (``options``: e.g. ``tries``, ``delay_s``, ``url``)."""
    if name in CONTROLS:
        return import_string(CONTROLS[name])(**options)
    try:
        return STRATEGIES[name](**options)
    except KeyError:
        raise ValueError(f"no seat strategy {name!r}; one of {', '.join(NAMES)}") from None


def configured() -> Strategy:
    """The strategy the settings name (``SEAT_STRATEGY``): ``combined`` unless a proving ground."""
    return get(settings.SEAT_STRATEGY)
