"""The ledger's transitions, as MongoDB update pipelines (data only; no I/O).

Each transition is run by ``events.ledger`` as one ``find_one_and_update``
on ``{_id: event}``, so the server applies every stage below to one document
atomically. Each has the same steps:

1. ``_normalise``: documents written before the waiting list or the seat
   times existed get an empty list, no limit and unknown times, so old data
   needs no migration.
2. the transition's own check, which stamps ``last_write.outcome``, then its
   change, applied only if that outcome allows it;
3. ``_promote``: the head of the waiting list takes every free seat, and
   ``last_write.promoted`` says who. Because every transition ends with it,
   no write can leave a seat free while someone waits;
4. ``_count``: ``taken`` and ``waiting``, so that pages can read the counts
   by ``_id`` without loading the lists, and ``version``, one more than before.

``seated_at`` runs beside ``attendees``, index for index: when each got the
seat, in milliseconds since the epoch (``now_ms``, the writer's clock), as
doubles. The embedded server re-encodes the whole document on every write,
and per element a double costs it almost nothing where a date or an int64
(milliseconds need 64 bits) costs ten times an int32: measured at 1,000
attendees, 17 ms per write with a list of doubles beside them, 100 ms with
int64s.

Only standard operators the embedded server also supports are used (it
refuses ``$not``, hence ``$eq: [..., false]``).
"""

from __future__ import annotations

ATTENDEES = "$attendees"
SEATED_AT = "$seated_at"
WAITLIST = "$waitlist"
OUTCOME = "$last_write.outcome"
# Who was asked "still coming?" and has not said yes (events.ledger.reconfirmation).
UNCONFIRMED = "$unconfirmed"


def _size(array: str) -> dict:
    return {"$size": array}


def has(user_id: int, array: str) -> dict:
    return {"$in": [user_id, array]}


def if_outcome(outcome: str, then: dict, otherwise: str) -> dict:
    return {"$cond": [{"$eq": [OUTCOME, outcome]}, then, otherwise]}


def _append(array: str, item) -> dict:
    return {"$concatArrays": [array, [item]]}


def _without_index(array: str, index: str) -> dict:
    """The array less its element at ``index`` (unchanged when the index is -1)."""
    after = {"$slice": [array, {"$add": [index, 1]}, {"$max": [1, _size(array)]}]}
    return {
        "$cond": [
            {"$lt": [index, 0]},
            array,
            {"$concatArrays": [{"$slice": [array, {"$max": [0, index]}]}, after]},
        ]
    }


def _without_user(array: str, user_id: int) -> dict:
    """The array less ``user_id``; a field the document lacks stays absent."""
    without = {"$filter": {"input": array, "cond": {"$ne": ["$$this", user_id]}}}
    return {"$cond": [{"$isArray": array}, without, "$$REMOVE"]}


_normalise = {
    "$set": {
        "waitlist": {"$ifNull": [WAITLIST, []]},
        "waitlist_limit": {"$ifNull": ["$waitlist_limit", None]},
        "seated_at": {
            "$cond": [
                {"$isArray": SEATED_AT},
                SEATED_AT,
                {"$map": {"input": ATTENDEES, "in": None}},
            ]
        },
    }
}


# Guards fail closed on a damaged document: MongoDB orders every number below
# every string, so a capacity stored as "2" would otherwise never be reached.
# (The collection's validator refuses such documents where the server has one.)
def _is_int(field: str) -> dict:
    return {"$in": [{"$type": field}, ["int", "long"]]}


_capacity_is_int = _is_int("$capacity")

# A seat is free for the asker only if nobody is waiting for it.
_seat_free_and_nobody_waits = {
    "$and": [
        _capacity_is_int,
        {"$lt": [_size(ATTENDEES), "$capacity"]},
        {"$eq": [_size(WAITLIST), 0]},
    ]
}


def _decide(outcome: dict) -> dict:
    return {"$set": {"last_write": {"outcome": outcome, "promoted": []}}}


def _first_match(*branches: tuple[dict, str], default: str) -> dict:
    return {
        "$switch": {
            "branches": [{"case": case, "then": then} for case, then in branches],
            "default": default,
        }
    }


_free_seats = {
    "$cond": [
        _capacity_is_int,
        {"$max": [0, {"$subtract": ["$capacity", _size(ATTENDEES)]}]},
        0,
    ]
}


def _promote(now_ms: float, when: dict | None = None) -> list[dict]:
    """The head of the list takes every free seat (only if ``when`` holds, if given)."""
    promoted = "$last_write.promoted"
    heads = {"$slice": [WAITLIST, _free_seats]}
    return [
        {"$set": {"last_write.promoted": heads if when is None else {"$cond": [when, heads, []]}}},
        {
            "$set": {
                "attendees": {"$concatArrays": [ATTENDEES, promoted]},
                "seated_at": {
                    "$concatArrays": [SEATED_AT, {"$map": {"input": promoted, "in": now_ms}}]
                },
                # $slice's count must be positive, even for an empty list.
                "waitlist": {"$slice": [WAITLIST, _size(promoted), {"$max": [1, _size(WAITLIST)]}]},
            }
        },
    ]


# ``version`` counts the document's writes (a document from before it existed
# counts from 1): the SQL record keeps the version each row was copied from,
# so an older copy arriving late never overwrites a newer one.
_count = {
    "$set": {
        "taken": _size(ATTENDEES),
        "waiting": _size(WAITLIST),
        "version": {"$add": [{"$ifNull": ["$version", 1]}, 1]},
    }
}


# A cancelled event's lists are final, kept for the record: every transition
# is refused, and nobody is promoted into a seat after everyone was told.
_cancelled = {"$eq": ["$cancelled", True]}
_not_refused_as_cancelled = {"$ne": [OUTCOME, "event_cancelled"]}


def guarded(decide: dict, apply: list[dict], now_ms: float) -> list[dict]:
    """A transition's steps: ``decide`` stamps the outcome, ``apply`` changes what it allows.

    Refused on a cancelled event; ends with the promotion and the counts.
    """
    decide = {"$cond": [_cancelled, "event_cancelled", decide]}
    promote = _promote(now_ms, when=_not_refused_as_cancelled)
    return [_normalise, _decide(decide), *apply, *promote, _count]


def cancel() -> list[dict]:
    """Close the event for good; the lists stay as they are. Repeating it changes nothing."""
    return [_normalise, {"$set": {"cancelled": True}}, _decide("event_cancelled"), _count]


def _seat(outcome: str, user_id: int, now_ms: float) -> dict:
    """The change that gives ``user_id`` a seat, if the write's outcome is ``outcome``."""
    return {
        "attendees": if_outcome(outcome, _append(ATTENDEES, user_id), ATTENDEES),
        "seated_at": if_outcome(outcome, _append(SEATED_AT, now_ms), SEATED_AT),
    }


def take_seat(user_id: int, now_ms: float) -> list[dict]:
    """RSVP: a free seat, unless the user holds one or already waits for one."""
    outcome = _first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (_seat_free_and_nobody_waits, "confirmed"),
        default="full",
    )
    return guarded(outcome, [{"$set": _seat("confirmed", user_id, now_ms)}], now_ms)


# The room a combined write may fill: the free seats, and none while anyone
# waits (the waiting list is served first, as for a single RSVP).
ROOM = {"$cond": [{"$eq": [_size(WAITLIST), 0]}, _free_seats, 0]}


def take_seats(user_ids: list[int], now_ms: float, *, room: dict = ROOM) -> list[dict]:
    """Combined RSVPs: one write decides a batch of them, in the order they arrived.

    ``user_ids`` (no repeats) who hold no seat and wait nowhere here are the
    newcomers; the first of them take the ``room`` there is, the rest are
    refused. ``last_write.admitted`` says who got a seat, so every request of
    the batch reads its own outcome from the document this write returns.

    The newcomers are filtered once against the stored lists and appended in
    one ``$concatArrays`` of a ``$slice``: measured on the embedded server at
    500 attendees, about 3.4 ms a seat for 10 at once, against 14 ms for one
    RSVP alone; a ``$reduce`` appending one at a time costs a third more, and
    a ``$setDifference`` twenty times more. ``room`` is for the control of
    ``make compare`` only, which shows the checks catching a broken guard.
    """
    holds_nothing = {
        "$and": [
            {"$eq": [has("$$this", ATTENDEES), False]},
            {"$eq": [has("$$this", WAITLIST), False]},
        ]
    }
    newcomers = {"$filter": {"input": {"$literal": user_ids}, "cond": holds_nothing}}
    admitted = "$last_write.admitted"
    decide = [
        {
            "$set": {
                "last_write": {
                    "promoted": [],
                    "admitted": {"$cond": [_cancelled, [], {"$slice": [newcomers, room]}]},
                }
            }
        },
        {
            "$set": {
                "last_write.outcome": {
                    "$switch": {
                        "branches": [
                            {"case": _cancelled, "then": "event_cancelled"},
                            {"case": {"$gt": [_size(admitted), 0]}, "then": "confirmed"},
                        ],
                        "default": "full",
                    }
                }
            }
        },
    ]
    seat = {
        "$set": {
            "attendees": {"$concatArrays": [ATTENDEES, admitted]},
            "seated_at": {
                "$concatArrays": [SEATED_AT, {"$map": {"input": admitted, "in": now_ms}}]
            },
        }
    }
    promote = _promote(now_ms, when=_not_refused_as_cancelled)
    return [_normalise, *decide, seat, *promote, _count]


def join_waitlist(user_id: int, now_ms: float) -> list[dict]:
    """The end of the list; a seat at once if one is free and nobody waits."""
    limit = "$waitlist_limit"
    list_is_capped = {  # a limit that is not a number (damaged) caps it too: fail closed
        "$and": [
            {"$ne": [limit, None]},
            {"$or": [{"$eq": [_is_int(limit), False]}, {"$gte": [_size(WAITLIST), limit]}]},
        ]
    }
    outcome = _first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (_seat_free_and_nobody_waits, "confirmed"),
        (list_is_capped, "waitlist_closed"),
        default="waitlisted",
    )
    change = {
        **_seat("confirmed", user_id, now_ms),
        "waitlist": if_outcome("waitlisted", _append(WAITLIST, user_id), WAITLIST),
    }
    return guarded(outcome, [{"$set": change}], now_ms)


def give_up_seat(user_id: int, now_ms: float) -> list[dict]:
    """Cancel (or an organiser's removal); ``_promote`` then fills the seat."""
    outcome = {"$cond": [has(user_id, ATTENDEES), "cancelled", "not_going"]}
    index = "$last_write.index"
    remove = [
        {
            "$set": {
                "last_write.index": if_outcome(
                    "cancelled", {"$indexOfArray": [ATTENDEES, user_id]}, {"$literal": -1}
                )
            }
        },
        {
            "$set": {
                "attendees": _without_index(ATTENDEES, index),
                "seated_at": _without_index(SEATED_AT, index),
            }
        },
        {"$unset": "last_write.index"},
        {"$set": {"unconfirmed": _without_user(UNCONFIRMED, user_id)}},
    ]
    return guarded(outcome, remove, now_ms)


def leave_waitlist(user_id: int, now_ms: float) -> list[dict]:
    outcome = {"$cond": [has(user_id, WAITLIST), "left_waitlist", "not_waiting"]}
    without = {"$filter": {"input": WAITLIST, "cond": {"$ne": ["$$this", user_id]}}}
    return guarded(
        outcome, [{"$set": {"waitlist": if_outcome("left_waitlist", without, WAITLIST)}}], now_ms
    )


KEEP = "$$KEEP"  # set_seats: leave this number as it is


def set_seats(capacity: int | str, waitlist_limit: int | str | None, now_ms: float) -> list[dict]:
    """Capacity and the list's limit together: both or neither.

    Any capacity not below the number going (a raise of N seats seats up to N
    waiting); a limit caps the list (0: no list) and whoever already waits
    keeps their place. ``KEEP`` leaves either as it is.
    """
    capacity_expr = "$capacity" if capacity == KEEP else capacity
    limit_expr = "$waitlist_limit" if waitlist_limit == KEEP else {"$literal": waitlist_limit}
    fits = {"$lte": [_size(ATTENDEES), capacity_expr]} if capacity != KEEP else True
    outcome = {"$cond": [fits, "capacity_set", "capacity_below_going"]}
    change = {
        "capacity": if_outcome("capacity_set", capacity_expr, "$capacity"),
        "waitlist_limit": if_outcome("capacity_set", limit_expr, "$waitlist_limit"),
    }
    return guarded(outcome, [{"$set": change}], now_ms)


# A repair touches only a document of the right types whose seat times run
# beside its attendees, index for index: anything else needs a person, since
# any change to it would guess who holds which seat since when.
_sound = {
    "$and": [
        _capacity_is_int,
        {"$isArray": ATTENDEES},
        {"$isArray": SEATED_AT},
        {"$eq": [_size(SEATED_AT), _size(ATTENDEES)]},
    ]
}


def _first_seats() -> dict:
    """Attendees and their seat times without repeats, each person's first seat kept."""
    at = {"$arrayElemAt": [ATTENDEES, "$$this"]}
    keep = {
        "a": {"$concatArrays": ["$$value.a", [at]]},
        "t": {"$concatArrays": ["$$value.t", [{"$arrayElemAt": [SEATED_AT, "$$this"]}]]},
    }
    return {
        "$reduce": {
            "input": {"$range": [0, _size(ATTENDEES)]},
            "initialValue": {"a": [], "t": []},
            "in": {"$cond": [{"$in": [at, "$$value.a"]}, "$$value", keep]},
        }
    }


# Each person waits once, and not at all if they hold a seat (the seat is kept).
_first_waiting = {
    "$reduce": {
        "input": WAITLIST,
        "initialValue": [],
        "in": {
            "$cond": [
                {"$or": [{"$in": ["$$this", "$$value"]}, has("$$this", ATTENDEES)]},
                "$$value",
                _append("$$value", "$$this"),
            ]
        },
    }
}


def _only_seated(array: str, when: dict) -> dict:
    """The array less whoever holds no seat, if ``when``; an absent field stays absent."""
    seated = {"$filter": {"input": array, "cond": has("$$this", ATTENDEES)}}
    return {"$cond": [{"$isArray": array}, {"$cond": [when, seated, array]}, "$$REMOVE"]}


def repair_lists(now_ms: float) -> list[dict]:
    """Repeats out of both lists and free seats to the first waiting; nobody loses a seat.

    For ``manage.py check_ledger --repair``: a duplicate keeps its first
    occurrence (and its seat time), someone both seated and waiting keeps the
    seat, and ``_promote`` fills any seat left free while people wait. A
    document that is not sound is left as it is (outcome ``left_as_is``).
    ``last_write.removed`` says how many entries of each list were repeats.
    """
    repaired = {"$eq": [OUTCOME, "repaired"]}
    kept = "$last_write.kept"
    sizes = {"seats": _size(ATTENDEES), "waiting": _size(WAITLIST)}
    return [
        _normalise,
        {"$set": {"last_write": {"outcome": {"$cond": [_sound, "repaired", "left_as_is"]}}}},
        {"$set": {"last_write.before": sizes}},
        {"$set": {"last_write.kept": {"$cond": [repaired, _first_seats(), None]}}},
        {
            "$set": {
                "attendees": {"$cond": [repaired, f"{kept}.a", ATTENDEES]},
                "seated_at": {"$cond": [repaired, f"{kept}.t", SEATED_AT]},
            }
        },
        {"$set": {"waitlist": {"$cond": [repaired, _first_waiting, WAITLIST]}}},
        {"$set": {"unconfirmed": _only_seated(UNCONFIRMED, when=repaired)}},
        {
            "$set": {
                "last_write.removed": {
                    "seats": {"$subtract": ["$last_write.before.seats", _size(ATTENDEES)]},
                    "waiting": {"$subtract": ["$last_write.before.waiting", _size(WAITLIST)]},
                }
            }
        },
        {"$unset": ["last_write.kept", "last_write.before"]},
        *_promote(now_ms, when={"$and": [repaired, {"$eq": [_cancelled, False]}]}),
        _count,
    ]
