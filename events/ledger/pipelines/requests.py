"""Approval: requests for seats, and an organiser's approvals and refusals, as update pipelines.

Part of ``events.ledger.pipelines`` (data only; no I/O). At an event that
requires approval an RSVP is a request: the user (and their guests, in
``request_guests``, beside ``requests``) waits for an organiser, holding no
seat. An approval moves requests into seats, in the order they were made,
each only if its party fits in the free seats: the guard is in the same
write, so organisers approving at once never seat more than the capacity.
A party that does not fit stays requested, or joins the waiting list if the
organiser asked for that.
"""

from __future__ import annotations

from events.ledger.pipelines.steps import (
    ATTENDEES,
    CANCELLED,
    COUNT_ASKING,
    FREE_SEATS,
    NORMALISED_ASKING,
    NOT_REFUSED_AS_CANCELLED,
    OUTCOME,
    REQUEST_GUESTS,
    REQUESTS,
    WAITLIST,
    append,
    appended_beside,
    at,
    first_match,
    guarded,
    guests_at,
    has,
    if_outcome,
    kept_if_stored,
    picked,
    promote,
    seated_and_queued,
    size,
)


def request_seat(user_id: int, now_ms: float, guests: int = 0) -> list[dict]:
    """A request for seats for the party, unless the user holds one, waits or asked already."""
    outcome = first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (has(user_id, REQUESTS), "already_requested"),
        default="requested",
    )
    change = {
        "requests": if_outcome("requested", append(REQUESTS, user_id), REQUESTS),
        "request_guests": if_outcome(
            "requested", appended_beside(REQUEST_GUESTS, REQUESTS, [guests]), REQUEST_GUESTS
        ),
    }
    return guarded(outcome, [{"$set": change}], now_ms, asking=True)


def _decided(user_ids: list[int], or_wait: bool) -> dict:
    """Which requests of ``user_ids`` take seats and which join the list: indices, in order.

    Walks the requests in the order they were made; a party takes seats if
    it fits in what is still free (the waiting list never has a party that
    fits: every write ends by seating it), else waits if ``or_wait``.
    """
    chosen = {"$in": [at(REQUESTS, "$$this"), {"$literal": user_ids}]}
    party = {"$add": [guests_at(REQUEST_GUESTS, "$$this"), 1]}
    seat = {
        "free": {"$subtract": ["$$value.free", party]},
        "seat": append("$$value.seat", "$$this"),
        "wait": "$$value.wait",
    }
    wait = {
        "free": "$$value.free",
        "seat": "$$value.seat",
        "wait": append("$$value.wait", "$$this"),
    }
    step = first_match(
        ({"$eq": [chosen, False]}, "$$value"),
        ({"$lte": [party, "$$value.free"]}, seat),
        ({"$literal": or_wait}, wait),
        default="$$value",
    )
    return {
        "$reduce": {
            "input": {"$range": [0, size(REQUESTS)]},
            "initialValue": {"free": FREE_SEATS, "seat": [], "wait": []},
            "in": step,
        }
    }


def _notpicked(array: str, indices: list) -> dict:
    """``array`` (beside the requests) less the elements at any of ``indices``."""
    kept = {
        "$filter": {
            "input": {"$range": [0, size(array)]},
            "cond": {"$eq": [{"$in": ["$$this", {"$concatArrays": indices}]}, False]},
        }
    }
    return {"$map": {"input": kept, "in": at(array, "$$this")}}


def approve(user_ids: list[int], now_ms: float, *, or_wait: bool = False) -> list[dict]:
    """Seat the requests of ``user_ids`` that fit, in request order; the rest as ``or_wait``.

    ``last_write.approved``: who got seats; ``last_write.queued``: who joined
    the waiting list. Outcome ``approved`` if anyone moved, ``full`` if some
    of them were requested but none fit, ``not_requested`` if none were.
    """
    seat_at, wait_at = "$last_write.decided.seat", "$last_write.decided.wait"
    any_requested = {"$gt": [size({"$setIntersection": [REQUESTS, {"$literal": user_ids}]}), 0]}
    moved = {"$gt": [{"$add": [size(seat_at), size(wait_at)]}, 0]}
    decision = [
        {
            "$set": {
                "last_write": {
                    "promoted": [],
                    "decided": {
                        "$cond": [CANCELLED, {"seat": [], "wait": []}, _decided(user_ids, or_wait)]
                    },
                }
            }
        },
        {
            "$set": {
                "last_write.outcome": first_match(
                    (CANCELLED, "event_cancelled"),
                    (moved, "approved"),
                    (any_requested, "full"),
                    default="not_requested",
                ),
                "last_write.approved": picked(REQUESTS, seat_at),
                "last_write.queued": picked(REQUESTS, wait_at),
            }
        },
        {
            "$set": {
                **seated_and_queued(REQUESTS, REQUEST_GUESTS, seat_at, wait_at, now_ms),
                "requests": _notpicked(REQUESTS, [seat_at, wait_at]),
                "request_guests": kept_if_stored(
                    REQUEST_GUESTS, _notpicked(REQUEST_GUESTS, [seat_at, wait_at])
                ),
            }
        },
        {"$unset": "last_write.decided"},
    ]
    return [
        *NORMALISED_ASKING,
        *decision,
        *promote(now_ms, when=NOT_REFUSED_AS_CANCELLED),
        COUNT_ASKING,
    ]


def decline(user_ids: list[int], now_ms: float) -> list[dict]:
    """Refuse the requests of ``user_ids``; ``last_write.declined`` says whose there were."""
    chosen = {"$in": [at(REQUESTS, "$$this"), {"$literal": user_ids}]}
    declined_at = {"$filter": {"input": {"$range": [0, size(REQUESTS)]}, "cond": chosen}}
    outcome = {
        "$cond": [{"$gt": [size("$last_write.declined_at"), 0]}, "declined", "not_requested"]
    }
    apply = [
        {"$set": {"last_write.declined_at": declined_at}},
        {
            "$set": {
                "last_write.outcome": {
                    "$cond": [{"$eq": [OUTCOME, "event_cancelled"]}, OUTCOME, outcome]
                }
            }
        },
        {
            "$set": {
                "last_write.declined": {
                    "$cond": [
                        {"$eq": [OUTCOME, "declined"]},
                        picked(REQUESTS, "$last_write.declined_at"),
                        [],
                    ]
                }
            }
        },
        {
            "$set": {
                "requests": if_outcome(
                    "declined", _notpicked(REQUESTS, ["$last_write.declined_at"]), REQUESTS
                ),
                "request_guests": if_outcome(
                    "declined",
                    kept_if_stored(
                        REQUEST_GUESTS, _notpicked(REQUEST_GUESTS, ["$last_write.declined_at"])
                    ),
                    REQUEST_GUESTS,
                ),
            }
        },
        {"$unset": "last_write.declined_at"},
    ]
    return guarded("declined", apply, now_ms, asking=True)
