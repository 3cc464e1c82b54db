"""The ledger document itself: seat times inside it, counts, reads by key, old shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events import ledger, services
from events.ledger import Outcome
from events.ledger.connection import collection as ledger_collection
from tests.helpers import make_event, make_users

pytestmark = pytest.mark.django_db


def document(event) -> dict:
    return ledger_collection().find_one({"_id": event.pk})


def test_every_seat_has_its_time_in_the_same_document(organiser):
    event = make_event(organiser, 3)
    alice, bob, carol, dan = make_users(4, prefix="times")
    before = datetime.now(UTC) - timedelta(seconds=1)
    for user in (alice, bob, carol):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    services.join_waitlist(event_id=event.pk, user_id=dan.pk)
    times = {a.user_id: a.at for a in ledger.attendees(event.pk)}

    services.cancel_rsvp(event_id=event.pk, user_id=bob.pk)

    after = {a.user_id: a.at for a in ledger.attendees(event.pk)}
    assert list(after) == [alice.pk, carol.pk, dan.pk]
    assert after[alice.pk] == times[alice.pk] and after[carol.pk] == times[carol.pk]
    assert after[dan.pk] >= times[carol.pk] >= before, "the promoted seat is timed"
    doc = document(event)
    assert len(doc["seated_at"]) == len(doc["attendees"]) == doc["taken"] == 3
    assert doc["waiting"] == 0


def test_an_rsvp_writes_to_the_ledger_collection_only(organiser):
    """No side collection that grows with every RSVP ever made."""
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="onlyone")
    database = ledger_collection().database
    before = set(database.list_collection_names())
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)
    assert set(database.list_collection_names()) == before == {ledger.COLLECTION}


def test_reads_by_key_match_the_lists(organiser):
    event = make_event(organiser, 1, waitlist_limit=5)
    alice, bob = make_users(2, prefix="bykey")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    assert ledger.seats([event.pk, 999_999]) == {event.pk: ledger.Seats(1, 1, 1, 5)}
    seats = ledger.Seats(1, 1, 1, 5)
    assert ledger.standing(event.pk, alice.pk) == (seats, ledger.Standing(going=True))
    assert ledger.standing(event.pk, bob.pk) == (seats, ledger.Standing(position=1))
    assert ledger.standing(999_999, bob.pk) is None


def test_upgrade_moves_old_seat_times_in_and_leaves_changed_documents_alone(organiser):
    old, busy = make_event(organiser, 3), make_event(organiser, 3)
    alice, bob = make_users(2, prefix="upgrade")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    times = ledger_collection(ledger.LEGACY_TIMES)
    for event in (old, busy):
        ledger_collection().replace_one(
            {"_id": event.pk}, {"capacity": 3, "attendees": [alice.pk, bob.pk]}
        )
        times.insert_one(
            {"_id": f"{event.pk}:{alice.pk}", "event": event.pk, "user": alice.pk, "at": at}
        )
    # The running site wrote to one of them first: it has the new shape now.
    services.rsvp(event_id=busy.pk, user_id=make_users(1, prefix="late")[0].pk)

    try:
        assert ledger.upgrade_documents() == 1
    finally:
        times.drop()

    assert [(a.user_id, a.at) for a in ledger.attendees(old.pk)] == [(alice.pk, at), (bob.pk, None)]
    assert (document(old)["taken"], document(old)["waiting"]) == (2, 0)
    assert ledger.attendees(busy.pk)[0].at is None  # not overwritten: times stay unknown
    assert services.rsvp(event_id=old.pk, user_id=alice.pk).outcome is Outcome.ALREADY_GOING


def test_a_cancelled_ledger_refuses_every_change_and_seats_nobody(organiser):
    """Cancelling is one write; afterwards no transition moves anyone, whatever it asks."""
    event = make_event(organiser, 2)
    alice, bob, carol, dan = make_users(4, prefix="closed")
    for user in (alice, bob):
        ledger.take_seat(event.pk, user.pk)
    ledger.join_waitlist(event.pk, carol.pk)

    roster = ledger.cancel(event.pk)
    assert [a.user_id for a in roster.attendees] == [alice.pk, bob.pk]
    assert roster.waitlist == [carol.pk]

    attempts = [
        ledger.take_seat(event.pk, dan.pk),
        ledger.join_waitlist(event.pk, dan.pk),
        ledger.give_up_seat(event.pk, alice.pk),  # would promote carol if open
        ledger.leave_waitlist(event.pk, carol.pk),
        ledger.set_seats(event.pk, capacity=5),  # would seat carol if open
    ]
    assert {r.outcome for r in attempts} == {Outcome.EVENT_CANCELLED}
    assert all(r.promoted == () for r in attempts)
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk, bob.pk]
    assert ledger.waitlist(event.pk) == [carol.pk]
    assert ledger.seats([event.pk])[event.pk].capacity == 2
    again = ledger.cancel(event.pk)  # idempotent: the same lists
    assert again.waitlist == [carol.pk] and len(again.attendees) == 2


def test_capacity_and_list_limit_change_together_or_not_at_all(organiser):
    event = make_event(organiser, 2)
    alice, bob = make_users(2, prefix="together")
    for user in (alice, bob):
        ledger.take_seat(event.pk, user.pk)

    refused = ledger.set_seats(event.pk, capacity=1, waitlist_limit=0)
    assert refused.outcome is Outcome.CAPACITY_BELOW_GOING
    assert refused.seats.capacity == 2 and refused.seats.waitlist_limit is None

    done = ledger.set_seats(event.pk, capacity=3, waitlist_limit=4)
    assert done.outcome is Outcome.CAPACITY_SET
    assert (done.seats.capacity, done.seats.waitlist_limit) == (3, 4)
    assert ledger.set_seats(event.pk, waitlist_limit=None).seats == ledger.Seats(3, 2, 0, None)
