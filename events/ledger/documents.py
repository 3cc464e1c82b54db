"""How a ledger document reads as the ledger's values, and the one write that changes it."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from events.ledger.connection import collection, held_by_a_transaction
from events.ledger.schema import LedgerDamaged, checked, refused
from events.ledger.types import Attendee, Outcome, Result, Seats


def seats_of(doc: dict) -> Seats:
    return Seats(
        capacity=doc["capacity"],
        taken=len(doc.get("attendees", ())),
        waiting=len(doc.get("waitlist") or ()),
        waitlist_limit=doc.get("waitlist_limit"),
    )


def position_in(doc: dict, user_id: int) -> int | None:
    waitlist = doc.get("waitlist") or []
    return waitlist.index(user_id) + 1 if user_id in waitlist else None


def now_ms() -> float:
    """Whole milliseconds, as a double: the embedded server encodes an int64 ten
    times slower than a double, and a double holds these exactly."""
    return float(ms_of(datetime.now(UTC)))


def ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: float | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


def write(event_id: int, pipeline: list[dict]) -> dict | None:
    """Run one transition; the document it produced, or None if there is no such event."""
    try:
        return collection().find_one_and_update(
            {"_id": event_id}, pipeline, return_document=ReturnDocument.AFTER
        )
    except OperationFailure as exc:
        if held_by_a_transaction(exc):
            raise  # busy, not damaged: translate_errors makes it LedgerUnavailable
        raise refused(event_id, exc) from exc


def result_of(doc: dict | None, user_id: int | None = None) -> Result:
    """What the write that returned ``doc`` did, as it stamped it in ``last_write``."""
    if doc is None:
        return Result(Outcome.UNKNOWN_EVENT)
    last = doc["last_write"]
    return Result(
        Outcome(last["outcome"]),
        seats_of(doc),
        position=position_in(doc, user_id) if user_id is not None else None,
        promoted=tuple(last.get("promoted") or ()),
        going=user_id is not None and user_id in doc.get("attendees", ()),
        version=doc.get("version", 0),
    )


def transition(event_id: int, pipeline: list[dict], user_id: int | None = None) -> Result:
    return result_of(write(event_id, pipeline), user_id)


def empty_document(capacity: int, waitlist_limit: int | None, version: int = 1) -> dict:
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


def attendees_of(doc: dict) -> list[Attendee]:
    checked(doc, "attendees")
    times = doc.get("seated_at") or [None] * len(doc["attendees"])
    if len(times) != len(doc["attendees"]):
        raise LedgerDamaged(doc["_id"], "seated_at and attendees differ in length")
    return [
        Attendee(user_id, from_ms(ms)) for user_id, ms in zip(doc["attendees"], times, strict=True)
    ]
