"""The steps every transition shares: normalise, decide, apply, promote, count.

Part of ``events.ledger.pipelines`` (data only; no I/O). Each transition is
``guarded(decide, apply)``: the document is normalised, ``decide`` stamps
``last_write.outcome``, ``apply`` changes only what that outcome allows, the
waiting list fills whatever seats are free, and the counts follow.

Parties: an attendee may bring guests, so a seat entry is a party of
``1 + guests``. ``guests`` runs beside ``attendees`` and ``waiting_guests``
beside ``waitlist``, index for index, as ``seated_at`` does (absent: every
party is one person); the seats taken are the attendees plus all their guests.
"""

from __future__ import annotations

ATTENDEES = "$attendees"
SEATED_AT = "$seated_at"
GUESTS = "$guests"
WAITLIST = "$waitlist"
WAITING_GUESTS = "$waiting_guests"
# Requests awaiting an organiser's approval (events that require it): not seats.
REQUESTS = "$requests"
REQUEST_GUESTS = "$request_guests"
# Entries in a draw (events that open with one): not seats until it is drawn.
ENTRIES = "$entries"
ENTRY_GUESTS = "$entry_guests"
TICKETS = "$tickets"
OUTCOME = "$last_write.outcome"
# Who was asked "still coming?" and has not said yes (events.ledger.reconfirmation).
UNCONFIRMED = "$unconfirmed"


def size(array: str) -> dict:
    return {"$size": array}


def has(user_id: int, array: str) -> dict:
    return {"$in": [user_id, array]}


def if_outcome(outcome: str, then: dict, otherwise: str) -> dict:
    return {"$cond": [{"$eq": [OUTCOME, outcome]}, then, otherwise]}


def append(array: str, item) -> dict:
    return {"$concatArrays": [array, [item]]}


def at(array: str, index) -> dict:
    return {"$arrayElemAt": [array, index]}


def without_index(array: str, index: str) -> dict:
    """The array less its element at ``index`` (unchanged when the index is -1)."""
    after = {"$slice": [array, {"$add": [index, 1]}, {"$max": [1, size(array)]}]}
    return {
        "$cond": [
            {"$lt": [index, 0]},
            array,
            {"$concatArrays": [{"$slice": [array, {"$max": [0, index]}]}, after]},
        ]
    }


def replaced_at(array: str, index: str, value) -> dict:
    """The array with its element at ``index`` replaced by ``value`` (unchanged at -1)."""
    return {
        "$map": {
            "input": {"$range": [0, size(array)]},
            "in": {"$cond": [{"$eq": ["$$this", index]}, value, at(array, "$$this")]},
        }
    }


def without_user(array: str, user_id: int) -> dict:
    """The array less ``user_id``; a field the document lacks stays absent."""
    without = {"$filter": {"input": array, "cond": {"$ne": ["$$this", user_id]}}}
    return {"$cond": [{"$isArray": array}, without, "$$REMOVE"]}


def _beside(array: str, field: str, filler) -> dict:
    """``field`` as stored, or ``filler`` for each item of ``array`` if the document has none."""
    return {"$cond": [{"$isArray": field}, field, {"$map": {"input": array, "in": filler}}]}


# The party lists (``guests`` beside ``attendees``, ``waiting_guests`` beside
# ``waitlist``, and those of requests and entries) are absent while every
# party is one person, and read as zeros then: the embedded server evaluates
# a pipeline in Python, and a list of zeros made and summed on every write
# cost a plain RSVP half as much again at 300 attendees.
def listed(array: str) -> dict:
    return {"$ifNull": [array, []]}


def guests_at(array: str, index) -> dict:
    """The guests of the party at ``index`` of a party list (0 where none is stored)."""
    return {"$ifNull": [at(listed(array), index), 0]}


def guests_of(array: str, indices) -> dict:
    """The guests of the parties at ``indices`` of a party list, in that order."""
    return {"$map": {"input": indices, "in": guests_at(array, "$$this")}}


def appended_beside(field: str, people: str, guests) -> dict:
    """A party list with ``guests`` appended; still absent if it was and they are all 0.

    ``people``: the list it runs beside, as it was before this write's append.
    """
    made = {"$concatArrays": [{"$map": {"input": people, "in": 0}}, guests]}
    absent = {"$cond": [{"$eq": [{"$sum": guests}, 0]}, "$$REMOVE", made]}
    return {"$cond": [{"$isArray": field}, {"$concatArrays": [field, guests]}, absent]}


def picked(array: str, indices) -> dict:
    """The elements of ``array`` at ``indices``, in their order."""
    return {"$map": {"input": indices, "in": at(array, "$$this")}}


def seated_and_queued(people: dict | str, guests: str, seat_at, wait_at, now_ms: float) -> dict:
    """The fields that move the parties at ``seat_at`` of a list into seats, and at
    ``wait_at`` onto the end of the waiting list (an approval's or a draw's).

    ``people`` is the users at those indices' list, ``guests`` its party list.
    """
    return {
        "attendees": {"$concatArrays": [ATTENDEES, picked(people, seat_at)]},
        "seated_at": {"$concatArrays": [SEATED_AT, {"$map": {"input": seat_at, "in": now_ms}}]},
        "guests": appended_beside(GUESTS, ATTENDEES, guests_of(guests, seat_at)),
        "waitlist": {"$concatArrays": [WAITLIST, picked(people, wait_at)]},
        "waiting_guests": appended_beside(WAITING_GUESTS, WAITLIST, guests_of(guests, wait_at)),
    }


def stored_beside(field: str, people: str) -> dict:
    """A party list as stored, or its zeros (one per person of ``people``) where absent."""
    return _beside(people, field, 0)


def kept_if_stored(field: str, expression) -> dict:
    """``expression`` of a party list that is stored; absent stays absent."""
    return {"$cond": [{"$isArray": field}, expression, "$$REMOVE"]}


# Documents written before the waiting list or the seat times existed get an
# empty list, no limit and unknown times: no migration.
NORMALISE = {
    "$set": {
        "waitlist": {"$ifNull": [WAITLIST, []]},
        "waitlist_limit": {"$ifNull": ["$waitlist_limit", None]},
        "seated_at": _beside(ATTENDEES, SEATED_AT, None),
    }
}
# The transitions that read requests or entries (an approval event's, a
# draw's, a withdrawal) see them as empty lists where the event has none; the
# others leave them out of their pipeline: the embedded server checks every
# value of a pipeline it is sent, so each plain RSVP carries only what it uses.
NORMALISE_ASKING = {
    "$set": {
        **NORMALISE["$set"],
        "requests": {"$ifNull": [REQUESTS, []]},
        "entries": {"$ifNull": [ENTRIES, []]},
    }
}


# Guards fail closed on a damaged document: MongoDB orders every number below
# every string, so a capacity stored as "2" would otherwise never be reached.
# (The collection's validator refuses such documents where the server has one.)
def is_int(field: str) -> dict:
    return {"$in": [{"$type": field}, ["int", "long"]]}


CAPACITY_IS_INT = is_int("$capacity")

# Seats taken: every attendee and every guest they bring.
TAKEN = {"$add": [size(ATTENDEES), {"$sum": listed(GUESTS)}]}
FREE_SEATS = {"$cond": [CAPACITY_IS_INT, {"$max": [0, {"$subtract": ["$capacity", TAKEN]}]}, 0]}
# After every write no waiting party fits in the free seats (``promote``), so a
# newcomer may have what is free only if that still holds: with nobody waiting,
# or only parties bigger than the free seats (who are skipped until they fit).
_SMALLEST_WAITING = {"$add": [{"$ifNull": [{"$min": WAITING_GUESTS}, 0]}, 1]}
NO_WAITING_PARTY_FITS = {
    "$or": [{"$eq": [size(WAITLIST), 0]}, {"$gt": [_SMALLEST_WAITING, FREE_SEATS]}]
}


def party_fits(guests: int) -> dict:
    """A party of ``1 + guests`` fits in the free seats, and nobody waiting could have them.

    The free seats are counted once (``$let``): the embedded server walks the
    whole attendee list each time an expression reads it.
    """
    smallest_waiting = {"$add": [{"$ifNull": [{"$min": WAITING_GUESTS}, 0]}, 1]}
    nobody_waiting_fits = {
        "$or": [{"$eq": [size(WAITLIST), 0]}, {"$gt": [smallest_waiting, "$$free"]}]
    }
    fits = {"$and": [{"$lte": [1 + guests, "$$free"]}, nobody_waiting_fits]}
    return {"$and": [CAPACITY_IS_INT, {"$let": {"vars": {"free": FREE_SEATS}, "in": fits}}]}


def decide(outcome: dict) -> dict:
    return {"$set": {"last_write": {"outcome": outcome, "promoted": []}}}


def first_match(*branches: tuple[dict, str], default: str) -> dict:
    return {
        "$switch": {
            "branches": [{"case": case, "then": then} for case, then in branches],
            "default": default,
        }
    }


def _indices_that_fit() -> dict:
    """The waiting list's indices that take the free seats, first in line first.

    A party that does not fit in what is left is skipped and keeps its place,
    so one big party never holds up the smaller ones behind it. With no party
    waiting (every entry one person) this is the head of the list, read
    without walking it; ``$cond`` evaluates only the branch it takes.
    """
    everyone_alone = {"$eq": [{"$sum": listed(WAITING_GUESTS)}, 0]}
    head = {"$range": [0, {"$min": [FREE_SEATS, size(WAITLIST)]}]}
    party = {"$add": [guests_at(WAITING_GUESTS, "$$this"), 1]}
    walk = {
        "$reduce": {
            "input": {"$range": [0, size(WAITLIST)]},
            "initialValue": {"free": FREE_SEATS, "at": []},
            "in": {
                "$cond": [
                    {"$lte": [party, "$$value.free"]},
                    {
                        "free": {"$subtract": ["$$value.free", party]},
                        "at": append("$$value.at", "$$this"),
                    },
                    "$$value",
                ]
            },
        }
    }
    walked = {
        "$cond": [{"$gt": [FREE_SEATS, 0]}, {"$getField": {"field": "at", "input": walk}}, []]
    }
    return {"$cond": [everyone_alone, head, walked]}


def _kept_waiting(array: str, promoted_at: str) -> dict:
    """``array`` (beside the waiting list) less the promoted indices."""
    head_gone = {"$slice": [array, size(promoted_at), {"$max": [1, size(array)]}]}
    others = {
        "$map": {
            "input": {
                "$filter": {
                    "input": {"$range": [0, size(array)]},
                    "cond": {"$eq": [{"$in": ["$$this", promoted_at]}, False]},
                }
            },
            "in": at(array, "$$this"),
        }
    }
    # Promoted from the head (no parties waited): a slice, without walking the list.
    from_head = {"$eq": [{"$sum": listed(WAITING_GUESTS)}, 0]}
    return {"$cond": [from_head, head_gone, others]}


def promote(now_ms: float, when: dict | None = None) -> list[dict]:
    """Waiting parties take the free seats in order (only if ``when`` holds, if given).

    ``last_write.promoted`` says who. Because every transition ends with it,
    no write leaves a seat free that a waiting party fits in.
    """
    promoted_at = "$last_write.promoted_at"
    indices = _indices_that_fit()
    promoted = {"$map": {"input": promoted_at, "in": at(WAITLIST, "$$this")}}
    # Two stages: every field of the second reads the indices the first chose.
    return [
        {
            "$set": {
                "last_write.promoted_at": indices
                if when is None
                else {"$cond": [when, indices, []]}
            }
        },
        {
            "$set": {
                "last_write.promoted": promoted,
                "last_write.promoted_at": "$$REMOVE",
                "attendees": {"$concatArrays": [ATTENDEES, promoted]},
                "seated_at": {
                    "$concatArrays": [SEATED_AT, {"$map": {"input": promoted_at, "in": now_ms}}]
                },
                "guests": appended_beside(
                    GUESTS, ATTENDEES, guests_of(WAITING_GUESTS, promoted_at)
                ),
                "waitlist": _kept_waiting(WAITLIST, promoted_at),
                "waiting_guests": kept_if_stored(
                    WAITING_GUESTS, _kept_waiting(WAITING_GUESTS, promoted_at)
                ),
            }
        },
    ]


# ``version`` counts the document's writes (a document from before it existed
# counts from 1): the SQL record keeps the version each row was copied from,
# so an older copy arriving late never overwrites a newer one. ``waiting``
# counts the parties waiting (each one entry of the list, whatever its size).
#
# The party lists are stored only while some party brings guests: an event of
# parties of one keeps the plain shape (attendees and waitlist, nothing beside
# them but the seat times), so a person editing its lists by hand in any
# MongoDB tool cannot put them out of step.
# Requests likewise: an event that never required approval has none stored.
def _only_with_guests(array: str) -> dict:
    return {"$cond": [{"$gt": [{"$sum": listed(array)}, 0]}, array, "$$REMOVE"]}


def _only_if_any(array: str) -> dict:
    return {"$cond": [{"$gt": [size(listed(array)), 0]}, array, "$$REMOVE"]}


COUNT = {
    "$set": {
        "taken": TAKEN,
        "waiting": size(WAITLIST),
        "version": {"$add": [{"$ifNull": ["$version", 1]}, 1]},
        "guests": _only_with_guests(GUESTS),
        "waiting_guests": _only_with_guests(WAITING_GUESTS),
    }
}
COUNT_ASKING = {
    "$set": {
        **COUNT["$set"],
        "requested": {"$cond": [{"$eq": [size(REQUESTS), 0]}, "$$REMOVE", size(REQUESTS)]},
        "requests": _only_if_any(REQUESTS),
        "request_guests": _only_with_guests(REQUEST_GUESTS),
        "entered": {"$cond": [{"$eq": [size(ENTRIES), 0]}, "$$REMOVE", size(ENTRIES)]},
        "entries": _only_if_any(ENTRIES),
        "entry_guests": _only_with_guests(ENTRY_GUESTS),
        "tickets": _only_if_any(TICKETS),
    }
}


# A cancelled event's lists are final, kept for the record: every transition
# is refused, and nobody is promoted into a seat after everyone was told.
CANCELLED = {"$eq": ["$cancelled", True]}
NOT_REFUSED_AS_CANCELLED = {"$ne": [OUTCOME, "event_cancelled"]}


NORMALISED = [NORMALISE]
NORMALISED_ASKING = [NORMALISE_ASKING]


def guarded(
    decision: dict, apply: list[dict], now_ms: float, *, asking: bool = False
) -> list[dict]:
    """A transition's steps: ``decision`` stamps the outcome, ``apply`` changes what it allows.

    Refused on a cancelled event; ends with the promotion and the counts.
    ``asking``: the transition reads or changes requests or entries.
    """
    decision = {"$cond": [CANCELLED, "event_cancelled", decision]}
    return [
        NORMALISE_ASKING if asking else NORMALISE,
        decide(decision),
        *apply,
        *promote(now_ms, when=NOT_REFUSED_AS_CANCELLED),
        COUNT_ASKING if asking else COUNT,
    ]
