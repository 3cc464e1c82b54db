"""A draw for the rush: entries until the draw, then one write that seats the drawn.

Part of ``events.ledger.pipelines`` (data only; no I/O). Until its draw an
event takes entries, not seats: ``entries`` (one per person, their guests in
``entry_guests`` and their ticket in ``tickets``, beside it). A ticket is a
number in [0, 1) the services derive from the event's secret seed and the
person's id (``events.services.draws``), so once the seed is shown anyone can
redo the draw. The draw is one write, guarded by ``drawn``: parties are
seated in ticket order while they fit (a party too big for what is left is
skipped), the rest join the waiting list in ticket order (or are let go),
and ``drawn`` is set in the same step, so no second draw, retry or crash
seats anyone twice or draws again.
"""

from __future__ import annotations

from events.ledger.pipelines.steps import (
    ATTENDEES,
    ENTRIES,
    ENTRY_GUESTS,
    FREE_SEATS,
    TICKETS,
    WAITLIST,
    append,
    appended_beside,
    at,
    first_match,
    guarded,
    guests_at,
    has,
    if_outcome,
    listed,
    picked,
    seated_and_queued,
    size,
)

_DRAWN = {"$eq": ["$drawn", True]}


def enter_draw(user_id: int, now_ms: float, guests: int, ticket: float) -> list[dict]:
    """An entry for the party, unless the user holds seats, waits, entered, or it is drawn."""
    outcome = first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (has(user_id, ENTRIES), "already_entered"),
        (_DRAWN, "already_drawn"),
        default="entered",
    )
    change = {
        "entries": if_outcome("entered", append(ENTRIES, user_id), ENTRIES),
        "entry_guests": if_outcome(
            "entered", appended_beside(ENTRY_GUESTS, ENTRIES, [guests]), ENTRY_GUESTS
        ),
        "tickets": if_outcome("entered", append(listed(TICKETS), ticket), TICKETS),
    }
    return guarded(outcome, [{"$set": change}], now_ms, asking=True)


def _ticket_order() -> dict:
    """The entries' indices, lowest ticket first."""
    keyed = {
        "$map": {
            "input": {"$range": [0, size(ENTRIES)]},
            "in": {"t": at(TICKETS, "$$this"), "i": "$$this"},
        }
    }
    return {
        "$map": {"input": {"$sortArray": {"input": keyed, "sortBy": {"t": 1}}}, "in": "$$this.i"}
    }


def _drawn_in_order() -> dict:
    """Walking the tickets in order: who takes seats (while their party fits), who does not."""
    party = {"$add": [guests_at(ENTRY_GUESTS, "$$this"), 1]}
    seat = {
        "free": {"$subtract": ["$$value.free", party]},
        "seat": append("$$value.seat", "$$this"),
        "rest": "$$value.rest",
    }
    rest = {
        "free": "$$value.free",
        "seat": "$$value.seat",
        "rest": append("$$value.rest", "$$this"),
    }
    return {
        "$reduce": {
            "input": "$last_write.order",
            "initialValue": {"free": FREE_SEATS, "seat": [], "rest": []},
            "in": {"$cond": [{"$lte": [party, "$$value.free"]}, seat, rest]},
        }
    }


def draw(now_ms: float, *, losers_wait: bool = True) -> list[dict]:
    """The draw, once: the drawn take seats, the rest wait in ticket order (or go).

    ``last_write``: ``drawn_in`` (seated), ``drawn_waiting`` (on the list),
    ``drawn_out`` (let go, if not ``losers_wait``). Outcome ``drawn``, or
    ``already_drawn`` for any later call (which changes nothing).
    """
    seat_at, rest_at = "$last_write.walk.seat", "$last_write.walk.rest"
    runs = {"$eq": ["$last_write.outcome", "drawn"]}
    waiting_at = rest_at if losers_wait else {"$literal": []}
    out_at = {"$literal": []} if losers_wait else rest_at

    def when_drawn(then: dict, otherwise) -> dict:
        return {"$cond": [runs, then, otherwise]}

    stages = [
        {"$set": {"last_write.order": when_drawn(_ticket_order(), [])}},
        {"$set": {"last_write.walk": when_drawn(_drawn_in_order(), {"seat": [], "rest": []})}},
        {
            "$set": {
                "last_write.drawn_in": picked(ENTRIES, seat_at),
                "last_write.drawn_waiting": picked(ENTRIES, waiting_at),
                "last_write.drawn_out": picked(ENTRIES, out_at),
            }
        },
        {
            "$set": {
                **seated_and_queued(ENTRIES, ENTRY_GUESTS, seat_at, waiting_at, now_ms),
                "entries": when_drawn([], ENTRIES),
                "entry_guests": when_drawn("$$REMOVE", ENTRY_GUESTS),
                "tickets": when_drawn("$$REMOVE", TICKETS),
                "drawn": {"$or": [_DRAWN, runs]},
            }
        },
        {"$unset": ["last_write.order", "last_write.walk"]},
    ]
    decision = {"$cond": [_DRAWN, "already_drawn", "drawn"]}
    return guarded(decision, stages, now_ms, asking=True)
