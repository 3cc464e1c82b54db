"""Parties (an attendee and their guests) on the real embedded server.

A party takes ``1 + guests`` seats in one write; the seats taken are the sum
of the parties and never above capacity, however the parties race; a waiting
party too big for the freed seats is skipped, keeping its place, until it
fits; a party grows only into free seats. Each guard is also shown broken
once, and the same checks catching it.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from events import ledger
from events.ledger import Outcome, audit, pipelines
from events.ledger import writes as ledger_writes
from events.ledger.connection import collection
from events.ledger.documents import now_ms, transition
from tests.helpers import fire_together

EVENT = 800_000_101


@pytest.fixture
def event():
    def open_event(capacity: int) -> int:
        ledger.create_event(EVENT, capacity)
        return EVENT

    yield open_event
    ledger.delete_events([EVENT])


def parties_seated(event_id: int) -> dict[int, int]:
    return {a.user_id: 1 + a.guests for a in ledger.attendees(event_id)}


def test_a_party_takes_its_seats_in_one_write_and_one_that_does_not_fit_is_full(event):
    event_id = event(5)
    three = ledger.take_seat(event_id, 1, guests=2)
    assert (three.outcome, three.party, three.seats.taken, three.seats.left) == (
        Outcome.CONFIRMED,
        3,
        3,
        2,
    )
    too_big = ledger.take_seat(event_id, 2, guests=2)
    assert (too_big.outcome, too_big.going, too_big.seats.left) == (Outcome.FULL, False, 2)
    two = ledger.take_seat(event_id, 3, guests=1)
    assert (two.outcome, two.seats.taken, two.seats.is_full) == (Outcome.CONFIRMED, 5, True)
    assert parties_seated(event_id) == {1: 3, 3: 2}
    doc = collection().find_one({"_id": event_id})
    assert (doc["attendees"], doc["guests"], doc["taken"]) == ([1, 3], [2, 1], 5)
    assert audit.findings(doc) == []


def test_an_event_of_parties_of_one_keeps_the_plain_document_shape(event):
    event_id = event(3)
    ledger.take_seat(event_id, 1)
    ledger.take_seat(event_id, 2, guests=1)
    ledger.give_up_seat(event_id, 2)  # the last party with guests leaves
    doc = collection().find_one({"_id": event_id})
    assert "guests" not in doc and "waiting_guests" not in doc
    assert (doc["attendees"], doc["taken"]) == ([1], 1)


def _race(event_id: int, sizes: dict[int, int], *, combined: bool) -> dict[int, ledger.Result]:
    calls = [
        (lambda u=user, g=size - 1: ledger.take_seat(event_id, u, guests=g, combined=combined))
        for user, size in sizes.items()
    ]
    return dict(zip(sizes, fire_together(calls), strict=True))


def assert_filled_exactly(event_id: int, sizes: dict[int, int], results: dict) -> None:
    """Seats taken = the confirmed parties, within capacity, and no refused party would fit."""
    seats = ledger.seats([event_id])[event_id]
    confirmed = {u for u, r in results.items() if r.outcome is Outcome.CONFIRMED}
    refused = {u for u, r in results.items() if r.outcome is Outcome.FULL}
    assert confirmed | refused == set(sizes), Counter(r.outcome for r in results.values())
    assert parties_seated(event_id) == {u: sizes[u] for u in confirmed}
    assert seats.taken == sum(sizes[u] for u in confirmed) <= seats.capacity
    # Seats only ever went down during the race: a party refused found fewer
    # seats than it needed, so none of them fits in what is left at the end.
    assert all(sizes[u] > seats.left for u in refused), (seats, [sizes[u] for u in refused])
    assert audit.findings(collection().find_one({"_id": event_id})) == []


@pytest.mark.parametrize("combined", [True, False], ids=["combined", "one write each"])
def test_parties_of_mixed_sizes_racing_fill_the_event_and_never_pass_it(event, combined):
    event_id = event(20)
    rng = random.Random(7)  # the same mix on every run
    sizes = {user: rng.choice([1, 1, 2, 3, 4]) for user in range(1, 41)}  # ~80 seats asked
    results = _race(event_id, sizes, combined=combined)
    assert_filled_exactly(event_id, sizes, results)


def _broken_take_seat(user_id: int, now: float, guests: int) -> list[dict]:
    """A guard that counts attendees, not their guests: the mistake parties invite."""
    fits = {"$lt": [{"$size": "$attendees"}, "$capacity"]}
    outcome = {"$cond": [fits, "confirmed", "full"]}
    change = {
        "attendees": pipelines.if_outcome(
            "confirmed", {"$concatArrays": ["$attendees", [user_id]]}, "$attendees"
        ),
        "guests": pipelines.if_outcome(
            "confirmed", {"$concatArrays": [{"$ifNull": ["$guests", []]}, [guests]]}, "$guests"
        ),
    }
    return pipelines.guarded(outcome, [{"$set": change}], now)


def test_the_checks_catch_a_guard_that_forgets_the_guests(event):
    event_id = event(4)
    for user_id in (1, 2, 3):
        transition(event_id, _broken_take_seat(user_id, now_ms(), 2), user_id)
    seats = ledger.seats([event_id])[event_id]
    assert seats.taken == 9 > seats.capacity, "the broken guard overbooks"
    doc = collection().find_one({"_id": event_id})
    assert audit.Damage.ABOVE_CAPACITY in {f.damage for f in audit.findings(doc)}


def test_a_waiting_party_too_big_for_the_freed_seats_keeps_its_place_until_it_fits(event):
    event_id = event(3)
    ledger.take_seat(event_id, 1)
    ledger.take_seat(event_id, 2, guests=1)  # full: 1 + 2
    big = ledger.join_waitlist(event_id, 3, guests=1)  # needs 2
    small = ledger.join_waitlist(event_id, 4)  # needs 1
    assert (big.outcome, big.position, small.position) == (Outcome.WAITLISTED, 1, 2)

    freed_one = ledger.give_up_seat(event_id, 1)
    assert freed_one.promoted == (4,), "the party of two is skipped, the one behind it fits"
    assert ledger.waitlist(event_id) == [3]
    assert ledger.standing(event_id, 3)[1].position == 1

    freed_two = ledger.give_up_seat(event_id, 2)
    assert freed_two.promoted == (3,)
    assert parties_seated(event_id) == {4: 1, 3: 2}
    assert ledger.seats([event_id])[event_id].taken == 3
    assert audit.findings(collection().find_one({"_id": event_id})) == []


def test_a_newcomer_takes_seats_no_waiting_party_fits_in_and_none_that_one_does(event):
    event_id = event(3)
    ledger.take_seat(event_id, 1, guests=1)
    ledger.join_waitlist(event_id, 2, guests=2)  # needs 3: waits while one seat is free
    assert ledger.take_seat(event_id, 3).outcome is Outcome.CONFIRMED, "nobody waiting fits in 1"
    ledger.give_up_seat(event_id, 3)
    ledger.set_seats(event_id, capacity=5)  # 3 free: the waiting party of three fits, and sits
    assert ledger.waitlist(event_id) == [] and parties_seated(event_id) == {1: 2, 2: 3}


def test_a_party_grows_only_into_free_seats_and_a_shrink_seats_the_waiting(event):
    event_id = event(4)
    ledger.take_seat(event_id, 1, guests=1)
    ledger.take_seat(event_id, 2)
    grown = ledger.change_party(event_id, 1, guests=2)
    assert (grown.outcome, grown.party, grown.seats.taken) == (Outcome.PARTY_CHANGED, 3, 4)
    refused = ledger.change_party(event_id, 1, guests=3)
    assert (refused.outcome, refused.guests, refused.seats.left) == (Outcome.FULL, 2, 0)

    ledger.join_waitlist(event_id, 3)
    shrunk = ledger.change_party(event_id, 1, guests=0)
    assert (shrunk.outcome, shrunk.promoted) == (Outcome.PARTY_CHANGED, (3,))
    assert parties_seated(event_id) == {1: 1, 2: 1, 3: 1}
    assert ledger.change_party(event_id, 9, guests=1).outcome is Outcome.NOT_GOING


def test_a_waiting_party_may_change_and_is_seated_once_it_fits(event):
    event_id = event(2)
    ledger.take_seat(event_id, 1)
    ledger.join_waitlist(event_id, 2, guests=2)  # needs 3 of the 1 free
    assert ledger.waitlist(event_id) == [2]
    changed = ledger.change_party(event_id, 2, guests=0)
    assert (changed.outcome, changed.promoted, changed.going) == (Outcome.PARTY_CHANGED, (2,), True)


def test_growing_parties_racing_for_the_last_seats_never_pass_the_capacity(event):
    event_id = event(12)
    for user_id in range(1, 7):  # six parties of one: 6 free
        ledger.take_seat(event_id, user_id)
    calls = [lambda u=u: ledger.change_party(event_id, u, guests=2) for u in range(1, 7)]
    results = fire_together(calls)
    grown = [r for r in results if r.outcome is Outcome.PARTY_CHANGED]
    assert len(grown) == 3, "each grows by 2: three of them fit in 6"
    assert all(r.outcome is Outcome.FULL for r in results if r not in grown)
    assert ledger.seats([event_id])[event_id].taken == 12


def test_a_combined_batch_seats_parties_in_order_while_they_fit(event):
    event_id = event(5)
    results = ledger_writes.take_seats(event_id, [(1, 2), (2, 2), (3, 1), (1, 0)])
    assert [(r.outcome, r.guests) for r in results] == [
        (Outcome.CONFIRMED, 2),
        (Outcome.FULL, 0),  # needs 3 of the 2 left: the party behind it still fits
        (Outcome.CONFIRMED, 1),
        (Outcome.ALREADY_GOING, 2),  # the same user again: the first request's party
    ]
    assert parties_seated(event_id) == {1: 3, 3: 2}


def test_party_lists_out_of_step_are_reported_and_never_mended_by_a_guess(event):
    event_id = event(5)
    ledger.take_seat(event_id, 1, guests=1)
    ledger.take_seat(event_id, 2)
    collection().update_one({"_id": event_id}, {"$push": {"attendees": 2}})  # by hand
    doc = collection().find_one({"_id": event_id})
    found = {f.damage: f for f in audit.findings(doc)}
    assert audit.Damage.PARTIES in found and audit.Damage.DUPLICATES in found
    assert not found[audit.Damage.DUPLICATES].mendable, "whose guests go with the repeat?"
    assert audit.repair_lists(event_id).result.outcome is Outcome.LEFT_AS_IS
