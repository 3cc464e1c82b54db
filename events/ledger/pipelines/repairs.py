"""``check_ledger --repair``'s mending of the lists, as one update pipeline.

Part of ``events.ledger.pipelines`` (data only; no I/O), run by
``events.ledger.audit`` as one ``find_one_and_update`` by ``_id``.
"""

from __future__ import annotations

from events.ledger.pipelines.steps import (
    ATTENDEES,
    CANCELLED,
    CAPACITY_IS_INT,
    COUNT,
    GUESTS,
    NORMALISED,
    OUTCOME,
    SEATED_AT,
    UNCONFIRMED,
    WAITING_GUESTS,
    WAITLIST,
    at,
    guests_at,
    has,
    promote,
    size,
)

# A repair touches only a document of the right types whose seat times and
# parties run beside their lists, index for index: anything else needs a
# person, since any change to it would guess who holds which seat since when.
_SOUND = {
    "$and": [
        CAPACITY_IS_INT,
        {"$isArray": ATTENDEES},
        {"$isArray": SEATED_AT},
        {"$eq": [size(SEATED_AT), size(ATTENDEES)]},
        {"$cond": [{"$isArray": GUESTS}, {"$eq": [size(GUESTS), size(ATTENDEES)]}, True]},
        {
            "$cond": [
                {"$isArray": WAITING_GUESTS},
                {"$eq": [size(WAITING_GUESTS), size(WAITLIST)]},
                True,
            ]
        },
    ]
}


def _first_seats() -> dict:
    """Attendees, seat times and guests without repeats, each person's first seat kept."""
    person = at(ATTENDEES, "$$this")
    keep = {
        "a": {"$concatArrays": ["$$value.a", [person]]},
        "t": {"$concatArrays": ["$$value.t", [at(SEATED_AT, "$$this")]]},
        "g": {"$concatArrays": ["$$value.g", [guests_at(GUESTS, "$$this")]]},
    }
    return {
        "$reduce": {
            "input": {"$range": [0, size(ATTENDEES)]},
            "initialValue": {"a": [], "t": [], "g": []},
            "in": {"$cond": [{"$in": [person, "$$value.a"]}, "$$value", keep]},
        }
    }


def _first_waiting() -> dict:
    """Each person waits once (with their party), and not at all if they hold a seat."""
    person = at(WAITLIST, "$$this")
    keep = {
        "w": {"$concatArrays": ["$$value.w", [person]]},
        "g": {"$concatArrays": ["$$value.g", [guests_at(WAITING_GUESTS, "$$this")]]},
    }
    return {
        "$reduce": {
            "input": {"$range": [0, size(WAITLIST)]},
            "initialValue": {"w": [], "g": []},
            "in": {
                "$cond": [
                    {"$or": [{"$in": [person, "$$value.w"]}, has(person, ATTENDEES)]},
                    "$$value",
                    keep,
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

    A duplicate keeps its first occurrence (and its seat time and guests),
    someone both seated and waiting keeps the seat, and ``promote`` fills any
    seat left free that a waiting party fits in. A document that is not sound
    is left as it is (outcome ``left_as_is``). ``last_write.removed`` says how
    many entries of each list were repeats.
    """
    repaired = {"$eq": [OUTCOME, "repaired"]}
    kept, waiting = "$last_write.kept", "$last_write.waiting"
    sizes = {"seats": size(ATTENDEES), "waiting": size(WAITLIST)}
    return [
        *NORMALISED,
        {"$set": {"last_write": {"outcome": {"$cond": [_SOUND, "repaired", "left_as_is"]}}}},
        {"$set": {"last_write.before": sizes}},
        {
            "$set": {
                "last_write.kept": {"$cond": [repaired, _first_seats(), None]},
                "last_write.waiting": {"$cond": [repaired, _first_waiting(), None]},
            }
        },
        {
            "$set": {
                "attendees": {"$cond": [repaired, f"{kept}.a", ATTENDEES]},
                "seated_at": {"$cond": [repaired, f"{kept}.t", SEATED_AT]},
                "guests": {"$cond": [repaired, f"{kept}.g", GUESTS]},
                "waitlist": {"$cond": [repaired, f"{waiting}.w", WAITLIST]},
                "waiting_guests": {"$cond": [repaired, f"{waiting}.g", WAITING_GUESTS]},
            }
        },
        {"$set": {"unconfirmed": _only_seated(UNCONFIRMED, when=repaired)}},
        {
            "$set": {
                "last_write.removed": {
                    "seats": {"$subtract": ["$last_write.before.seats", size(ATTENDEES)]},
                    "waiting": {"$subtract": ["$last_write.before.waiting", size(WAITLIST)]},
                }
            }
        },
        {"$unset": ["last_write.kept", "last_write.waiting", "last_write.before"]},
        *promote(now_ms, when={"$and": [repaired, {"$eq": [CANCELLED, False]}]}),
        COUNT,
    ]
