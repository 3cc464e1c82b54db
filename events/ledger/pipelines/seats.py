"""The seat transitions as update pipelines: RSVPs, cancels, the list, parties, capacity.

Part of ``events.ledger.pipelines`` (data only; no I/O); each is run as one
``find_one_and_update`` by ``_id`` (see the package's docstring).
"""

from __future__ import annotations

from events.ledger.pipelines.steps import (
    ATTENDEES,
    CANCELLED,
    CAPACITY_IS_INT,
    COUNT,
    ENTRIES,
    ENTRY_GUESTS,
    FREE_SEATS,
    GUESTS,
    NO_WAITING_PARTY_FITS,
    NORMALISED,
    NOT_REFUSED_AS_CANCELLED,
    OUTCOME,
    REQUEST_GUESTS,
    REQUESTS,
    SEATED_AT,
    TAKEN,
    TICKETS,
    UNCONFIRMED,
    WAITING_GUESTS,
    WAITLIST,
    append,
    appended_beside,
    decide,
    first_match,
    guarded,
    guests_at,
    has,
    if_outcome,
    is_int,
    kept_if_stored,
    party_fits,
    promote,
    replaced_at,
    size,
    stored_beside,
    without_index,
    without_user,
)


def cancel() -> list[dict]:
    """Close the event for good; the lists stay as they are. Repeating it changes nothing."""
    return [
        *NORMALISED,
        {"$set": {"cancelled": True}},
        decide("event_cancelled"),
        COUNT,
    ]


def _seat(outcome: str, user_id: int, guests: int, now_ms: float) -> dict:
    """The change that seats ``user_id``'s party, if the write's outcome is ``outcome``."""
    return {
        "attendees": if_outcome(outcome, append(ATTENDEES, user_id), ATTENDEES),
        "seated_at": if_outcome(outcome, append(SEATED_AT, now_ms), SEATED_AT),
        "guests": if_outcome(outcome, appended_beside(GUESTS, ATTENDEES, [guests]), GUESTS),
    }


def take_seat(user_id: int, now_ms: float, guests: int = 0) -> list[dict]:
    """RSVP: seats for the party, unless the user holds one or already waits for one."""
    outcome = first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (party_fits(guests), "confirmed"),
        default="full",
    )
    return guarded(outcome, [{"$set": _seat("confirmed", user_id, guests, now_ms)}], now_ms)


# The room a combined write may fill: the free seats, and none while a waiting
# party fits in them (the waiting list is served first, as for a single RSVP).
ROOM = {"$cond": [NO_WAITING_PARTY_FITS, FREE_SEATS, 0]}


def _admitted_alone(newcomers: dict, room: dict) -> dict:
    """Parties of one: the first ``room`` newcomers, a slice, without walking them."""
    return {"$slice": [newcomers, room]}


def _admitted_parties(newcomers: dict, room: dict) -> dict:
    """Parties in arrival order while they fit; one that does not is refused, not the rest."""
    party = {"$add": ["$$this.g", 1]}
    walk = {
        "$reduce": {
            "input": newcomers,
            "initialValue": {"room": room, "in": []},
            "in": {
                "$cond": [
                    {"$lte": [party, "$$value.room"]},
                    {
                        "room": {"$subtract": ["$$value.room", party]},
                        "in": append("$$value.in", "$$this"),
                    },
                    "$$value",
                ]
            },
        }
    }
    return {"$getField": {"field": "in", "input": walk}}


def take_seats(parties: list[tuple[int, int]], now_ms: float, *, room: dict = ROOM) -> list[dict]:
    """Combined RSVPs: one write decides a batch of them, in the order they arrived.

    ``parties`` are (user id, guests), one per user: those who hold no seat
    and wait nowhere here are the newcomers; the first of them take the
    ``room`` there is, the rest are refused. ``last_write.admitted`` says who
    got seats, so every request of the batch reads its own outcome from the
    document this write returns.

    With every party of one, the newcomers are filtered once against the
    stored lists and appended in one ``$concatArrays`` of a ``$slice``:
    measured on the embedded server at 500 attendees, about 3.4 ms a seat for
    10 at once, against 14 ms for one RSVP alone; a ``$reduce`` appending one
    at a time costs a third more, and a ``$setDifference`` twenty times more,
    so the walk runs only for batches with guests. ``room`` is for the control
    of ``make compare`` only, which shows the checks catching a broken guard.
    """
    holds_nothing = {
        "$and": [
            {"$eq": [has("$$this.u", ATTENDEES), False]},
            {"$eq": [has("$$this.u", WAITLIST), False]},
        ]
    }
    batch = [{"u": user_id, "g": guests} for user_id, guests in parties]
    newcomers = {"$filter": {"input": {"$literal": batch}, "cond": holds_nothing}}
    alone = all(guests == 0 for _, guests in parties)
    chosen = (_admitted_alone if alone else _admitted_parties)(newcomers, room)
    admitted = "$last_write.admitted"
    decision = [
        {"$set": {"last_write": {"promoted": [], "admitted": {"$cond": [CANCELLED, [], chosen]}}}},
        {
            "$set": {
                "last_write.outcome": first_match(
                    (CANCELLED, "event_cancelled"),
                    ({"$gt": [size(admitted), 0]}, "confirmed"),
                    default="full",
                )
            }
        },
    ]
    seat = {
        "$set": {
            "attendees": {"$concatArrays": [ATTENDEES, f"{admitted}.u"]},
            "seated_at": {
                "$concatArrays": [SEATED_AT, {"$map": {"input": admitted, "in": now_ms}}]
            },
            "guests": appended_beside(GUESTS, ATTENDEES, f"{admitted}.g"),
            "last_write.admitted": f"{admitted}.u",
        }
    }
    promotion = promote(now_ms, when=NOT_REFUSED_AS_CANCELLED)
    return [*NORMALISED, *decision, seat, *promotion, COUNT]


def join_waitlist(user_id: int, now_ms: float, guests: int = 0) -> list[dict]:
    """The end of the list; seats at once if the party fits and no waiting party does."""
    limit = "$waitlist_limit"
    list_is_capped = {  # a limit that is not a number (damaged) caps it too: fail closed
        "$and": [
            {"$ne": [limit, None]},
            {"$or": [{"$eq": [is_int(limit), False]}, {"$gte": [size(WAITLIST), limit]}]},
        ]
    }
    outcome = first_match(
        (has(user_id, ATTENDEES), "already_going"),
        (has(user_id, WAITLIST), "already_waiting"),
        (party_fits(guests), "confirmed"),
        (list_is_capped, "waitlist_closed"),
        default="waitlisted",
    )
    change = {
        **_seat("confirmed", user_id, guests, now_ms),
        "waitlist": if_outcome("waitlisted", append(WAITLIST, user_id), WAITLIST),
        "waiting_guests": if_outcome(
            "waitlisted", appended_beside(WAITING_GUESTS, WAITLIST, [guests]), WAITING_GUESTS
        ),
    }
    return guarded(outcome, [{"$set": change}], now_ms)


def _remove_at(*removals: tuple[str, str, tuple[str, ...]], user_id: int) -> list[dict]:
    """Stages that take ``user_id`` out of lists: (outcome, list, the lists beside it).

    For each, if the write's outcome is that one, the user's entry is dropped
    from the list and, at the same index, from the lists beside it. Two
    stages whatever the number of lists: the embedded server copies the whole
    document for each stage.
    """
    indices = {
        f"last_write.at_{people[1:]}": if_outcome(
            outcome, {"$indexOfArray": [people, user_id]}, {"$literal": -1}
        )
        for outcome, people, _ in removals
    }
    dropped = {
        name[1:]: kept_if_stored(name, without_index(name, f"$last_write.at_{people[1:]}"))
        for _, people, beside in removals
        for name in (people, *beside)
    }
    unset = {f"last_write.at_{people[1:]}": "$$REMOVE" for _, people, _ in removals}
    return [{"$set": indices}, {"$set": {**dropped, **unset}}]


def give_up_seat(user_id: int, now_ms: float) -> list[dict]:
    """Cancel (or an organiser's removal) of the whole party; ``promote`` then fills the seats.

    Requests and entries are left as they are (their counts stay stored): a
    plain event has none, and this is the write of every cancel in a rush.
    """
    outcome = {"$cond": [has(user_id, ATTENDEES), "cancelled", "not_going"]}
    remove = _remove_at(("cancelled", ATTENDEES, (SEATED_AT, GUESTS)), user_id=user_id)
    remove[-1]["$set"]["unconfirmed"] = without_user(UNCONFIRMED, user_id)
    return guarded(outcome, remove, now_ms)


def withdraw(user_id: int, now_ms: float) -> list[dict]:
    """``give_up_seat``, or the withdrawal of a request not yet approved or of an entry
    in a draw not yet drawn (``request_withdrawn``, ``entry_withdrawn``): an approval
    event's or a draw's cancel, whoever of them the person is."""
    outcome = first_match(
        (has(user_id, ATTENDEES), "cancelled"),
        (has(user_id, REQUESTS), "request_withdrawn"),
        (has(user_id, ENTRIES), "entry_withdrawn"),
        default="not_going",
    )
    remove = _remove_at(
        ("cancelled", ATTENDEES, (SEATED_AT, GUESTS)),
        ("request_withdrawn", REQUESTS, (REQUEST_GUESTS,)),
        ("entry_withdrawn", ENTRIES, (ENTRY_GUESTS, TICKETS)),
        user_id=user_id,
    )
    remove[-1]["$set"]["unconfirmed"] = without_user(UNCONFIRMED, user_id)
    return guarded(outcome, remove, now_ms, asking=True)


def leave_waitlist(user_id: int, now_ms: float) -> list[dict]:
    outcome = {"$cond": [has(user_id, WAITLIST), "left_waitlist", "not_waiting"]}
    remove = _remove_at(("left_waitlist", WAITLIST, (WAITING_GUESTS,)), user_id=user_id)
    return guarded(outcome, remove, now_ms)


def change_party(user_id: int, guests: int, now_ms: float, *, may_grow: bool = True) -> list[dict]:
    """A new number of guests for a party holding seats or waiting; it keeps its place.

    Growing a party that holds seats needs the seats for the difference to be
    free (refused as ``full`` otherwise, the party unchanged); shrinking frees
    seats, which ``promote`` gives to the waiting at once. A waiting party
    may grow or shrink: it is seated when it fits. Unless ``may_grow`` (the
    RSVPs have closed), a party may only shrink (``rsvps_closed`` otherwise).
    """
    seat_index = "$last_write.seat_index"
    waiting_index = {"$indexOfArray": [WAITLIST, user_id]}
    going_now = {"$add": [{"$subtract": [TAKEN, guests_at(GUESTS, seat_index)]}, guests]}
    grows_into_room = {"$and": [CAPACITY_IS_INT, {"$lte": [going_now, "$capacity"]}]}
    if_grows = "party_changed" if may_grow else "rsvps_closed"
    seated_change = first_match(
        ({"$lte": [guests, guests_at(GUESTS, seat_index)]}, "party_changed"),
        ({"$eq": [may_grow, False]}, "rsvps_closed"),
        (grows_into_room, "party_changed"),
        default="full",
    )
    waiting_grows = {"$gt": [guests, guests_at(WAITING_GUESTS, waiting_index)]}
    outcome = first_match(
        (has(user_id, ATTENDEES), seated_change),
        (has(user_id, WAITLIST), {"$cond": [waiting_grows, if_grows, "party_changed"]}),
        default="not_going",
    )
    seated = {"$gte": [seat_index, 0]}
    changed = {"$eq": [OUTCOME, "party_changed"]}
    return [
        *NORMALISED,
        {"$set": {"last_write.seat_index": {"$indexOfArray": [ATTENDEES, user_id]}}},
        {
            "$set": {
                "last_write.outcome": {"$cond": [CANCELLED, "event_cancelled", outcome]},
                "last_write.promoted": [],
            }
        },
        {
            "$set": {
                "guests": {
                    "$cond": [
                        {"$and": [changed, seated]},
                        replaced_at(stored_beside(GUESTS, ATTENDEES), seat_index, guests),
                        GUESTS,
                    ]
                },
                "waiting_guests": {
                    "$cond": [
                        {"$and": [changed, {"$eq": [seated, False]}]},
                        replaced_at(stored_beside(WAITING_GUESTS, WAITLIST), waiting_index, guests),
                        WAITING_GUESTS,
                    ]
                },
            }
        },
        {"$unset": "last_write.seat_index"},
        *promote(now_ms, when=NOT_REFUSED_AS_CANCELLED),
        COUNT,
    ]


KEEP = "$$KEEP"  # set_seats: leave this number as it is


def set_seats(capacity: int | str, waitlist_limit: int | str | None, now_ms: float) -> list[dict]:
    """Capacity and the list's limit together: both or neither.

    Any capacity not below the seats taken (a raise of N seats seats waiting
    parties into up to N); a limit caps the list (0: no list) and whoever
    already waits keeps their place. ``KEEP`` leaves either as it is.
    """
    capacity_expr = "$capacity" if capacity == KEEP else capacity
    limit_expr = "$waitlist_limit" if waitlist_limit == KEEP else {"$literal": waitlist_limit}
    fits = {"$lte": [TAKEN, capacity_expr]} if capacity != KEEP else True
    outcome = {"$cond": [fits, "capacity_set", "capacity_below_going"]}
    change = {
        "capacity": if_outcome("capacity_set", capacity_expr, "$capacity"),
        "waitlist_limit": if_outcome("capacity_set", limit_expr, "$waitlist_limit"),
    }
    return guarded(outcome, [{"$set": change}], now_ms)
