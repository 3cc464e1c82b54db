"""How a ledger document reads as the ledger's values, and the one write that changes it."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from events.ledger.connection import collection, held_by_a_transaction
from events.ledger.schema import LedgerDamaged, checked, refused
from events.ledger.types import Attendee, Outcome, Result, Roster, Seats


def seats_of(doc: dict) -> Seats:
    return Seats(
        capacity=doc["capacity"],
        taken=len(doc.get("attendees", ())) + sum(doc.get("guests") or ()),
        waiting=len(doc.get("waitlist") or ()),
        waitlist_limit=doc.get("waitlist_limit"),
        requested=len(doc.get("requests") or ()),
        entered=len(doc.get("entries") or ()),
    )


def position_in(doc: dict, user_id: int) -> int | None:
    waitlist = doc.get("waitlist") or []
    return waitlist.index(user_id) + 1 if user_id in waitlist else None


def guests_in(doc: dict, user_id: int) -> int:
    """The guests of ``user_id``'s party, seated, waiting, requesting or entered; else 0."""
    lists = (
        ("attendees", "guests"),
        ("waitlist", "waiting_guests"),
        ("requests", "request_guests"),
        ("entries", "entry_guests"),
    )
    for people, guests in lists:
        listed, sizes = doc.get(people) or [], doc.get(guests) or []
        if user_id in listed and len(sizes) == len(listed):
            return sizes[listed.index(user_id)]
    return 0


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
        guests=guests_in(doc, user_id) if user_id is not None else 0,
        requested=user_id is not None and user_id in (doc.get("requests") or ()),
        entered=user_id is not None and user_id in (doc.get("entries") or ()),
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
    going = doc["attendees"]
    times = doc.get("seated_at") or [None] * len(going)
    guests = doc.get("guests") or [0] * len(going)
    if len(times) != len(going) or len(guests) != len(going):
        raise LedgerDamaged(doc["_id"], "seated_at or guests and attendees differ in length")
    return [
        Attendee(user_id, from_ms(ms), party_guests)
        for user_id, ms, party_guests in zip(going, times, guests, strict=True)
    ]


def beside(doc: dict, people: str, field: str) -> tuple[int, ...]:
    """Beside a list of people, each party's guests (none stored: parties of one)."""
    listed = doc.get(people) or []
    guests = doc.get(field) or [0] * len(listed)
    if len(guests) != len(listed):
        raise LedgerDamaged(doc["_id"], f"{field} and {people} differ in length")
    return tuple(guests)


def waiting_guests_of(doc: dict) -> tuple[int, ...]:
    return beside(doc, "waitlist", "waiting_guests")


def roster_of(doc: dict) -> Roster:
    """Everyone a document lists: seated, waiting, requesting, with their parties."""
    return Roster(
        attendees_of(doc),
        list(doc.get("waitlist") or []),
        doc.get("version", 1),
        waiting_guests_of(doc),
        tuple(doc.get("requests") or ()),
        beside(doc, "requests", "request_guests"),
        tuple(doc.get("entries") or ()),
    )
