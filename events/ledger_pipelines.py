"""The ledger's transitions, as MongoDB update pipelines (data only; no I/O).

Each transition is run by ``events.ledger`` as one ``find_one_and_update``
on ``{_id: event}``, so the server applies every stage below to one document
atomically. Each has the same three steps:

1. ``_normalise``: documents written before the waiting list existed get an
   empty list and no limit, so old data needs no migration.
2. the transition's own check, which stamps ``last_write.outcome``, then its
   change, applied only if that outcome allows it;
3. ``_promote``: the head of the waiting list takes every free seat, and
   ``last_write.promoted`` says who. Because every transition ends with it,
   no write can leave a seat free while someone waits.

Only standard operators the embedded server also supports are used (it
refuses ``$not``, hence ``$eq: [..., false]``).
"""

from __future__ import annotations

ATTENDEES = "$attendees"
WAITLIST = "$waitlist"
OUTCOME = "$last_write.outcome"


def _size(array: str) -> dict:
    return {"$size": array}


def _has(user_id: int, array: str) -> dict:
    return {"$in": [user_id, array]}


def _without(user_id: int, array: str) -> dict:
    return {"$filter": {"input": array, "cond": {"$ne": ["$$this", user_id]}}}


def _append_if(outcome: str, user_id: int, array: str) -> dict:
    return {"$cond": [{"$eq": [OUTCOME, outcome]}, {"$concatArrays": [array, [user_id]]}, array]}


_normalise = {
    "$set": {
        "waitlist": {"$ifNull": [WAITLIST, []]},
        "waitlist_limit": {"$ifNull": ["$waitlist_limit", None]},
    }
}

# A seat is free for the asker only if nobody is waiting for it.
_seat_free_and_nobody_waits = {
    "$and": [{"$lt": [_size(ATTENDEES), "$capacity"]}, {"$eq": [_size(WAITLIST), 0]}]
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


_promote = [
    {
        "$set": {
            "last_write.promoted": {
                "$slice": [
                    WAITLIST,
                    {"$max": [0, {"$subtract": ["$capacity", _size(ATTENDEES)]}]},
                ]
            }
        }
    },
    {
        "$set": {
            "attendees": {"$concatArrays": [ATTENDEES, "$last_write.promoted"]},
            # $slice's count must be positive, even for an empty list.
            "waitlist": {
                "$slice": [
                    WAITLIST,
                    _size("$last_write.promoted"),
                    {"$max": [1, _size(WAITLIST)]},
                ]
            },
        }
    },
]


def _transition(decide: dict, apply: dict) -> list[dict]:
    return [_normalise, _decide(decide), {"$set": apply}, *_promote]


def take_seat(user_id: int) -> list[dict]:
    """RSVP: a free seat, unless the user holds one or already waits for one."""
    outcome = _first_match(
        (_has(user_id, ATTENDEES), "already_going"),
        (_has(user_id, WAITLIST), "already_waiting"),
        (_seat_free_and_nobody_waits, "confirmed"),
        default="full",
    )
    return _transition(outcome, {"attendees": _append_if("confirmed", user_id, ATTENDEES)})


def join_waitlist(user_id: int) -> list[dict]:
    """The end of the list; a seat at once if one is free and nobody waits."""
    list_is_capped = {
        "$and": [
            {"$ne": ["$waitlist_limit", None]},
            {"$gte": [_size(WAITLIST), "$waitlist_limit"]},
        ]
    }
    outcome = _first_match(
        (_has(user_id, ATTENDEES), "already_going"),
        (_has(user_id, WAITLIST), "already_waiting"),
        (_seat_free_and_nobody_waits, "confirmed"),
        (list_is_capped, "waitlist_closed"),
        default="waitlisted",
    )
    return _transition(
        outcome,
        {
            "attendees": _append_if("confirmed", user_id, ATTENDEES),
            "waitlist": _append_if("waitlisted", user_id, WAITLIST),
        },
    )


def give_up_seat(user_id: int) -> list[dict]:
    """Cancel (or an organiser's removal); ``_promote`` then fills the seat."""
    outcome = {"$cond": [_has(user_id, ATTENDEES), "cancelled", "not_going"]}
    return _transition(outcome, {"attendees": _without(user_id, ATTENDEES)})


def leave_waitlist(user_id: int) -> list[dict]:
    outcome = {"$cond": [_has(user_id, WAITLIST), "left_waitlist", "not_waiting"]}
    return _transition(outcome, {"waitlist": _without(user_id, WAITLIST)})


def set_capacity(capacity: int) -> list[dict]:
    """Any capacity not below the number going; a raise of N seats up to N waiting."""
    outcome = {
        "$cond": [{"$lte": [_size(ATTENDEES), capacity]}, "capacity_set", "capacity_below_going"]
    }
    change = {"$cond": [{"$eq": [OUTCOME, "capacity_set"]}, capacity, "$capacity"]}
    return _transition(outcome, {"capacity": change})


def _standing_projection(user_id: int) -> dict:
    return {
        "$project": {
            "going": _has(user_id, ATTENDEES),
            "index": {"$indexOfArray": [{"$ifNull": [WAITLIST, []]}, user_id]},
        }
    }


def standing(event_id: int, user_id: int) -> list[dict]:
    """An aggregation: is the user going, and where in the list (index, -1 if not)."""
    return [{"$match": {"_id": event_id}}, _standing_projection(user_id)]


def standings_of(user_id: int) -> list[dict]:
    """The same, for every event where the user holds a seat or waits."""
    match = {"$or": [{"attendees": user_id}, {"waitlist": user_id}]}
    return [{"$match": match}, _standing_projection(user_id)]
