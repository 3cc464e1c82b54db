"""What ``manage.py check_ledger`` looks for in ledger documents, and its repairs of them.

Part of ``events.ledger`` (the only code that talks to MongoDB), kept apart
so that module reads as the site's own operations. The sweep loads whole
documents, and ``document_ids`` scans the collection: fine for a command,
never for a page.

Every repair is one atomic operation on one document by ``_id``: mending the
lists is one ``find_one_and_update`` whose guard is in its pipeline
(``pipelines.repair_lists``), and an orphan goes by
``find_one_and_delete``, which returns exactly what it deleted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from events.ledger import pipelines
from events.ledger.connection import collection, translate_errors
from events.ledger.documents import now_ms, result_of, write
from events.ledger.schema import type_problems
from events.ledger.types import Outcome, Result


class Damage(StrEnum):
    WRONG_TYPES = "wrong types"
    ABOVE_CAPACITY = "attendees above capacity"
    DUPLICATES = "duplicates"
    IN_BOTH_LISTS = "people in both lists"
    SEAT_TIMES = "seat times out of step"
    PARTIES = "party sizes out of step"
    REQUESTS = "requests or draw entries of people seated, waiting or asking twice"
    COUNTS = "counts out of step"
    FREE_SEAT = "a free seat while someone waits"
    UNCONFIRMED = "asked to reconfirm without a seat"


# What one ``repair_lists`` write mends without taking anyone's seat or place.
# The rest needs a person: who leaves an overbooked event, what a capacity of
# "2" meant, or which seat time is whose, would be a guess.
MENDABLE = frozenset(
    {Damage.DUPLICATES, Damage.IN_BOTH_LISTS, Damage.COUNTS, Damage.FREE_SEAT, Damage.UNCONFIRMED}
)


@dataclass(frozen=True)
class Finding:
    damage: Damage
    detail: str
    mendable: bool = False  # whether ``repair_lists`` mends it


@dataclass(frozen=True)
class Orphan:
    """A removed document's people, as it held them."""

    event_id: object
    attendees: list
    waitlist: list


@dataclass(frozen=True)
class ListRepair:
    result: Result  # outcome REPAIRED, or LEFT_AS_IS for a document that was not sound
    repeated_seats: int  # entries of attendees removed as repeats
    dropped_waiting: int  # entries of the waiting list removed: repeats, or people seated

    @property
    def repaired(self) -> bool:
        return self.result.outcome is Outcome.REPAIRED


def users(ids) -> str:
    return ", ".join(map(str, ids)) or "nobody"


def _as_list(value) -> list:
    """A field as a list, whatever a damaged document holds there."""
    return value if isinstance(value, list) else [] if value is None else [value]


@dataclass(frozen=True)
class _Lists:
    """One document of the right types, as its checks read it."""

    capacity: int
    going: list[int]
    waiting: list[int]
    times: list | None
    stored: tuple[int, int]  # the counts ``taken`` and ``waiting`` (the lists' sizes if absent)
    unconfirmed: list[int]  # asked "still coming?", not yet said yes: each must hold a seat
    guests: list | None = None  # beside ``going`` (None: stored before parties, all alone)
    waiting_guests: list | None = None  # beside ``waiting``
    requests: list = field(default_factory=list)  # awaiting approval
    request_guests: list | None = None  # beside ``requests``
    entries: list = field(default_factory=list)  # in a draw not yet drawn
    entry_guests: list | None = None  # beside ``entries``
    tickets: list | None = None  # beside ``entries``

    @property
    def seated(self) -> list[int]:
        return list(dict.fromkeys(self.going))

    def _party_sizes(self, people: list[int], guests: list | None) -> dict[int, int]:
        """Each person's party (their first entry's), 1 where sizes are missing or out of step."""
        aligned = guests is not None and len(guests) == len(people)
        sizes: dict[int, int] = {}
        for index, person in enumerate(people):
            sizes.setdefault(person, 1 + (guests[index] if aligned else 0))
        return sizes

    @property
    def taken(self) -> int:
        """Seats the seated hold: each person once, with their guests."""
        return sum(self._party_sizes(self.going, self.guests).values())

    @property
    def stored_taken(self) -> int:
        """What ``taken`` should say of the lists as stored (repeats counted)."""
        return len(self.going) + sum(self.guests or ())

    def waiting_party(self, person: int) -> int:
        return self._party_sizes(self.waiting, self.waiting_guests).get(person, 1)

    @property
    def in_line(self) -> list[int]:
        """Who waits and holds no seat, each once, first in line first."""
        return [u for u in dict.fromkeys(self.waiting) if u not in set(self.going)]


def _repeats(items: list[int]) -> str:
    counts = Counter(items)
    return ", ".join(f"{u} x{counts[u]}" for u in dict.fromkeys(items) if counts[u] > 1)


def _above_capacity(d: _Lists) -> str | None:
    if d.taken > d.capacity:
        held = "seats" if d.taken == len(d.seated) else f"{d.taken} seats with their guests"
        return f"{len(d.seated)} hold {held}, capacity {d.capacity}"
    return None


def _duplicates(d: _Lists) -> str | None:
    found = [("attendees", _repeats(d.going)), ("waiting list", _repeats(d.waiting))]
    return "; ".join(f"{name} {repeats}" for name, repeats in found if repeats) or None


def _in_both_lists(d: _Lists) -> str | None:
    both = [u for u in dict.fromkeys(d.waiting) if u in set(d.going)]
    if len(both) == 1:
        return f"user {both[0]} holds a seat and waits"
    return f"users {users(both)} hold a seat and wait" if both else None


def _seat_times(d: _Lists) -> str | None:
    if d.times is not None and len(d.times) != len(d.going):
        return f"{len(d.times)} seat times for {len(d.going)} attendees"
    return None


def _parties(d: _Lists) -> str | None:
    found = [
        ("guests", d.guests, "attendees", d.going),
        ("waiting_guests", d.waiting_guests, "waiting", d.waiting),
        ("request_guests", d.request_guests, "requests", d.requests),
        ("entry_guests", d.entry_guests, "entries", d.entries),
        ("tickets", d.tickets if d.entries or d.tickets else None, "entries", d.entries),
    ]
    wrong = [
        f"{len(sizes)} {name} for {len(people)} {of}"
        for name, sizes, of, people in found
        if sizes is not None and len(sizes) != len(people)
    ]
    return "; ".join(wrong) or None


def _requests(d: _Lists) -> str | None:
    held = set(d.going) | set(d.waiting)
    stray = [
        u
        for asked in (d.requests, d.entries)
        for u in dict.fromkeys(asked)
        if u in held or asked.count(u) > 1
    ]
    return f"users {users(stray)}" if stray else None


def _counts(d: _Lists) -> str | None:
    if d.stored != (d.stored_taken, len(d.waiting)):
        taken, waiting = d.stored
        return (
            f"taken {taken}, waiting {waiting}; the lists hold {d.stored_taken} seats "
            f"and {len(d.waiting)} waiting"
        )
    return None


def _free_seat(d: _Lists) -> str | None:
    free = d.capacity - d.taken
    fitting = [u for u in d.in_line if d.waiting_party(u) <= free]
    if free > 0 and fitting:
        waiting = f"{len(d.in_line)} waiting" + (
            f", {len(fitting)} of them parties that fit" if len(fitting) < len(d.in_line) else ""
        )
        return f"{free} free, {waiting} (first in line: user {fitting[0]})"
    return None


def _unconfirmed(d: _Lists) -> str | None:
    # Whoever gives a seat back leaves the list in the same write; one found
    # here without a seat would be released from a seat taken again later.
    stray = [u for u in d.unconfirmed if u not in set(d.going)]
    return f"users {users(stray)} are asked to reconfirm but hold no seat" if stray else None


_CHECKS = {
    Damage.ABOVE_CAPACITY: _above_capacity,
    Damage.DUPLICATES: _duplicates,
    Damage.IN_BOTH_LISTS: _in_both_lists,
    Damage.SEAT_TIMES: _seat_times,
    Damage.PARTIES: _parties,
    Damage.REQUESTS: _requests,
    Damage.COUNTS: _counts,
    Damage.FREE_SEAT: _free_seat,
    Damage.UNCONFIRMED: _unconfirmed,
}


def findings(doc: dict) -> list[Finding]:
    """Everything wrong with one ledger document (no I/O)."""
    if wrong := type_problems(doc, "capacity", "attendees"):
        return [Finding(Damage.WRONG_TYPES, ", ".join(wrong))]
    going, waiting = doc["attendees"], doc.get("waitlist") or []
    stored = (doc.get("taken", len(going)), doc.get("waiting", len(waiting)))
    unconfirmed = doc.get("unconfirmed") or []
    lists = _Lists(
        doc["capacity"],
        going,
        waiting,
        doc.get("seated_at"),
        stored,
        unconfirmed,
        doc.get("guests"),
        doc.get("waiting_guests"),
        doc.get("requests") or [],
        doc.get("request_guests"),
        doc.get("entries") or [],
        doc.get("entry_guests"),
        doc.get("tickets"),
    )
    found = {damage: detail for damage, check in _CHECKS.items() if (detail := check(lists))}
    # With seat times or parties out of step the mending write leaves the
    # document alone (its guard): dropping a repeat would guess whose time or
    # guests go with it.
    blocked = Damage.SEAT_TIMES in found or Damage.PARTIES in found
    return [Finding(d, detail, d in MENDABLE and not blocked) for d, detail in found.items()]


def people(doc: dict) -> str:
    """Who a document seats and who waits there, for a person to read."""
    going, waiting = _as_list(doc.get("attendees")), _as_list(doc.get("waitlist"))
    return f"attendees: {users(going)}; waiting: {users(waiting)}"


@translate_errors
def document_ids() -> set:
    """The _id of every ledger document (a scan of the collection)."""
    return {doc["_id"] for doc in collection().find({}, {"_id": 1})}


@translate_errors
def document(event_id) -> dict | None:
    """One whole ledger document, as stored, unchecked."""
    return collection().find_one({"_id": event_id})


@translate_errors
def repair_lists(event_id: int) -> ListRepair | None:
    """Repeats out of both lists and free seats to the first waiting, in one write.

    None if the document is gone. Nobody loses a seat or a place.
    """
    doc = write(event_id, pipelines.repair_lists(now_ms()))
    if doc is None:
        return None
    removed = doc["last_write"].get("removed") or {}
    return ListRepair(result_of(doc), removed.get("seats", 0), removed.get("waiting", 0))


@translate_errors
def remove_orphan(event_id) -> Orphan | None:
    """Delete one document; who it held, as the delete found it (None if already gone)."""
    doc = collection().find_one_and_delete({"_id": event_id})
    if doc is None:
        return None
    return Orphan(event_id, _as_list(doc.get("attendees")), _as_list(doc.get("waitlist")))
