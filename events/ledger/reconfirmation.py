"""Reconfirm-or-release: who was asked "still coming?", who said yes, and the release.

Part of ``events.ledger``. Three more fields of the event's document::

    {reconfirm_asked: bool,       # the question went out (asked once per event)
     unconfirmed: [<user pk>],    # asked, holding a seat, and not yet said yes
     released: [<user pk>]}       # whose seats the release gave away, for telling them

Each step is one guarded write by ``_id``, like every seat change:

- ``ask``: ``unconfirmed`` becomes the attendees as the write finds them, so
  exactly those who held a seat then are asked (the mailing's recipients are
  read from the document this write returns). Asking again changes nothing.
- ``keep_seat``: the person leaves ``unconfirmed``, only while they hold a seat.
- a cancel (``pipelines.give_up_seat``) takes its person out of ``unconfirmed``
  in the same write, so whoever gives a seat back and takes one again later
  is not released for a question they were asked about the old one.
- ``release``: one write removes every attendee still in ``unconfirmed``
  (with their seat times, index for index), empties it, adds them to
  ``released`` and promotes the waiting list into the freed seats
  (the promotion every transition ends with): nobody seated after the question, nor anyone
  promoted, is ever in ``unconfirmed``. A second run finds nobody to
  release; a release with no question asked releases nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.ledger.connection import collection, translate_errors
from events.ledger.documents import now_ms, result_of, transition, write
from events.ledger.pipelines import (
    ATTENDEES,
    GUESTS,
    OUTCOME,
    SEATED_AT,
    UNCONFIRMED,
    guarded,
    has,
    kept_if_stored,
)
from events.ledger.pipelines import if_outcome as _if
from events.ledger.schema import checked
from events.ledger.schema import user_id as valid_user_id
from events.ledger.types import Result

_unconfirmed = {"$ifNull": [UNCONFIRMED, []]}
_asked = {"$eq": ["$reconfirm_asked", True]}


@dataclass(frozen=True)
class Reconfirmation:
    """Where an event's reconfirmation stands, as its document says."""

    asked: bool = False
    unconfirmed: tuple[int, ...] = ()  # asked, going, not yet said yes: released if it stays so
    released: tuple[int, ...] = ()  # whose seats the release gave to others


@dataclass(frozen=True)
class Release:
    result: Result  # outcome RELEASED (promoted: who took the freed seats) or NOT_ASKED
    released: tuple[int, ...]  # everyone the event's release took a seat from, this run or before


# --- Pipelines (data only) -----------------------------------------------------


def ask_pipeline(now: float) -> list[dict]:
    outcome = {"$cond": [_asked, "already_asked", "asked"]}
    change = {
        "reconfirm_asked": {"$cond": [{"$eq": [OUTCOME, "asked"]}, True, "$reconfirm_asked"]},
        "unconfirmed": _if("asked", ATTENDEES, _unconfirmed),
    }
    return guarded(outcome, [{"$set": change}], now)


def keep_seat_pipeline(user_id: int, now: float) -> list[dict]:
    outcome = {"$cond": [has(user_id, ATTENDEES), "seat_kept", "not_going"]}
    without = {"$filter": {"input": _unconfirmed, "cond": {"$ne": ["$$this", user_id]}}}
    change = {"unconfirmed": _if("seat_kept", without, _unconfirmed)}
    return guarded(outcome, [{"$set": change}], now)


def _kept(array: str) -> dict:
    """The array's items at the indices the release keeps (``last_write.kept``)."""
    return {"$map": {"input": "$last_write.kept", "in": {"$arrayElemAt": [array, "$$this"]}}}


def release_pipeline(now: float) -> list[dict]:
    released = "$last_write.released"
    going = {"$arrayElemAt": [ATTENDEES, "$$this"]}
    kept = {
        "$filter": {
            "input": {"$range": [0, {"$size": ATTENDEES}]},
            "cond": {"$eq": [{"$in": [going, released]}, False]},
        }
    }
    apply = [
        {
            "$set": {
                "last_write.released": _if(
                    "released",
                    {"$filter": {"input": _unconfirmed, "cond": has("$$this", ATTENDEES)}},
                    {"$literal": []},
                )
            }
        },
        {"$set": {"last_write.kept": kept}},
        {
            "$set": {
                "attendees": _kept(ATTENDEES),
                "seated_at": _kept(SEATED_AT),
                "guests": kept_if_stored(GUESTS, _kept(GUESTS)),
                "unconfirmed": _if("released", {"$literal": []}, _unconfirmed),
                "released": {"$concatArrays": [{"$ifNull": ["$released", []]}, released]},
            }
        },
        {"$unset": "last_write.kept"},
    ]
    return guarded({"$cond": [_asked, "released", "not_asked"]}, apply, now)


# --- Writes and the read ----------------------------------------------------------


@translate_errors
def ask_to_reconfirm(event_id: int) -> Reconfirmation | None:
    """Ask everyone going now (once per event); where it stands after. None: no ledger."""
    doc = write(event_id, ask_pipeline(now_ms()))
    return _reconfirmation_of(doc) if doc is not None else None


@translate_errors
def keep_seat(event_id: int, user_id: int) -> Result:
    """The person said yes: their seat is not released (only while they hold one)."""
    return transition(event_id, keep_seat_pipeline(valid_user_id(user_id), now_ms()), user_id)


@translate_errors
def release_unconfirmed(event_id: int) -> Release:
    """Give every seat still unconfirmed to the waiting list, in one write."""
    doc = write(event_id, release_pipeline(now_ms()))
    found = _reconfirmation_of(doc) if doc is not None else Reconfirmation()
    return Release(result_of(doc), found.released)


@translate_errors
def reconfirmation(event_id: int) -> Reconfirmation | None:
    """The event's reconfirmation, by one key lookup of three fields. None: no ledger."""
    fields = {"reconfirm_asked": 1, "unconfirmed": 1, "released": 1}
    doc = collection().find_one({"_id": event_id}, fields)
    return _reconfirmation_of(doc) if doc is not None else None


def _reconfirmation_of(doc: dict) -> Reconfirmation:
    checked(doc)
    return Reconfirmation(
        asked=doc.get("reconfirm_asked") is True,
        unconfirmed=tuple(doc.get("unconfirmed") or ()),
        released=tuple(doc.get("released") or ()),
    )
