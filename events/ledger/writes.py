"""Every change to seats: each one atomic write of one document by ``_id``, guarded in itself."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from events.ledger import pipelines
from events.ledger.combining import Combiner
from events.ledger.connection import collection, translate_errors
from events.ledger.documents import (
    empty_document,
    guests_in,
    now_ms,
    position_in,
    roster_of,
    seats_of,
    transition,
    waiting_guests_of,
    write,
)
from events.ledger.schema import checked
from events.ledger.schema import guests as valid_guests
from events.ledger.schema import user_id as valid_user_id
from events.ledger.types import Outcome, Result, Roster


@translate_errors
def create_event(event_id: int, capacity: int, waitlist_limit: int | None = None) -> None:
    """Open an empty ledger; a stale document under a reused id is replaced."""
    collection().replace_one(
        {"_id": event_id}, empty_document(capacity, waitlist_limit), upsert=True
    )


@translate_errors
def open_missing(
    event_id: int, capacity: int, waitlist_limit: int | None = None, version: int = 1
) -> bool:
    """Open an empty ledger for an event that has none; False if one exists by now.

    Insert-only: a document that appeared meanwhile (another repair, the
    admin) keeps its seats, where ``create_event``'s replace would wipe them.
    ``version``: where its count of writes starts.
    """
    try:
        collection().insert_one(
            {"_id": event_id, **empty_document(capacity, waitlist_limit, version)}
        )
    except DuplicateKeyError:
        return False
    return True


@translate_errors
def delete_events(event_ids: list[int]) -> None:
    for event_id in event_ids:  # one by _id: an $in would scan the collection
        collection().delete_one({"_id": event_id})


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
    (
        "capacity",
        "attendees",
        "guests",
        "waitlist",
        "waiting_guests",
        "waitlist_limit",
        "cancelled",
        "version",
    ),
    1,
)

Party = tuple[int, int]  # (user id, guests): one RSVP of a combined batch


def take_seats(event_id: int, parties: list[Party]) -> list[Result]:
    """One write for a batch of RSVPs (``parties`` in arrival order, a user maybe repeated)."""
    user_ids = [user_id for user_id, _ in parties]
    if _seen_full.get(event_id):
        doc = collection().find_one({"_id": event_id}, _LISTS)
        if doc is None or not _room_for_newcomers(checked(doc, "capacity", "attendees")):
            return batch_results(doc, user_ids)
    first_of_each: dict[int, int] = {}  # a user asking twice: the first request's guests
    for user_id, guests in parties:
        first_of_each.setdefault(user_id, guests)
    doc = write(event_id, pipelines.take_seats(list(first_of_each.items()), now_ms()))
    if doc is not None:
        # A document past the validator (an old embedded collection has none)
        # may be damaged: its guards admitted nobody, and it is reported so.
        _seen_full[event_id] = not _room_for_newcomers(checked(doc, "capacity", "attendees"))
        last = doc["last_write"]
        return batch_results(doc, user_ids, set(last["admitted"]), tuple(last["promoted"]))
    return batch_results(doc, user_ids)


def _room_for_newcomers(doc: dict) -> bool:
    """Whether a newcomer could get a seat: free ones that no waiting party fits in."""
    free = doc["capacity"] - seats_of(doc).taken
    waiting = waiting_guests_of(doc)
    return free > 0 and not doc.get("cancelled") and (not waiting or min(waiting) + 1 > free)


def batch_results(
    doc: dict | None, user_ids: list[int], admitted: set[int] = frozenset(), promoted=()
) -> list[Result]:
    """Each request's outcome, as the document a write returned (or a read found) says.

    ``admitted``: whom the write seated; a repeat of the same user in the
    batch is then already going, as if it came second. Whoever the write
    ``promoted`` is told once, with the first result.
    """
    if doc is None:
        return [Result(Outcome.UNKNOWN_EVENT) for _ in user_ids]
    seats, version = seats_of(doc), doc.get("version", 0)
    going = set(doc["attendees"])
    results, answered = [], set()
    for user_id in user_ids:
        position = position_in(doc, user_id)
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
        guests = guests_in(doc, user_id)
        results.append(Result(outcome, seats, position, told, user_id in going, version, guests))
    return results


_combined_rsvps = Combiner(take_seats, max_batch=MAX_BATCH)


@translate_errors
def take_seat(event_id: int, user_id: int, *, guests: int = 0, combined: bool = True) -> Result:
    """RSVP: seats for the user and ``guests`` if they are free and no waiting party fits.

    Refused if the user holds a seat or waits already. Combined
    (``events.ledger.combining``): RSVPs for the same event arriving while one
    is being written are decided together by the next write; a lone one is
    written at once. ``combined=False``: always one write of its own (the
    ``atomic`` strategy that ``make compare`` sets beside it).
    """
    party = (valid_user_id(user_id), valid_guests(guests))
    if combined:
        return _combined_rsvps.submit(event_id, party)
    return transition(event_id, pipelines.take_seat(party[0], now_ms(), party[1]), user_id)


@translate_errors
def join_waitlist(event_id: int, user_id: int, *, guests: int = 0) -> Result:
    """Join the end of the list as a party, or take seats at once if the party fits."""
    pipeline = pipelines.join_waitlist(valid_user_id(user_id), now_ms(), valid_guests(guests))
    return transition(event_id, pipeline, user_id)


@translate_errors
def change_party(event_id: int, user_id: int, *, guests: int, may_grow: bool = True) -> Result:
    """A new number of guests for the user's party, seated or waiting; its place is kept.

    A seated party grows only into free seats (``FULL`` otherwise, unchanged);
    seats a party gives back go to the waiting at once. ``NOT_GOING`` if the
    user neither holds seats nor waits; ``RSVPS_CLOSED`` for a growth unless
    ``may_grow``.
    """
    party = (valid_user_id(user_id), valid_guests(guests))
    pipeline = pipelines.change_party(*party, now_ms(), may_grow=may_grow)
    return transition(event_id, pipeline, user_id)


@translate_errors
def give_up_seat(event_id: int, user_id: int) -> Result:
    """Give the seat back; the head of the list takes it in the same write."""
    return transition(event_id, pipelines.give_up_seat(user_id, now_ms()), user_id)


@translate_errors
def withdraw(event_id: int, user_id: int) -> Result:
    """Give the seat back, or withdraw a request or a draw's entry, whichever the user holds."""
    return transition(event_id, pipelines.withdraw(user_id, now_ms()), user_id)


@translate_errors
def leave_waitlist(event_id: int, user_id: int) -> Result:
    return transition(event_id, pipelines.leave_waitlist(user_id, now_ms()), user_id)


@translate_errors
def cancel(event_id: int) -> Roster | None:
    """Close the event's lists for good; who was going and waiting, as the write left them.

    Idempotent: a second call returns the same lists. None if there is no ledger.
    """
    doc = write(event_id, pipelines.cancel())
    if doc is None:
        return None
    return roster_of(doc)


KEEP = pipelines.KEEP  # set_seats: leave this number as it is


@translate_errors
def set_seats(
    event_id: int, capacity: int | str = KEEP, waitlist_limit: int | str | None = KEEP
) -> Result:
    """New capacity and list limit in one write, unless more people are going.

    Refused as a whole (``CAPACITY_BELOW_GOING``), so the limit never changes
    without the capacity asked for with it. A raise seats the first waiting.
    """
    return transition(event_id, pipelines.set_seats(capacity, waitlist_limit, now_ms()))
