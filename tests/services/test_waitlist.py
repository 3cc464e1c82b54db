"""The waiting list's transitions and emails, in-process against the real MongoDB.

Every transition is one atomic write; these check what each does and says,
old ledger documents, and that promoted people (and only they) are emailed.
"""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from events import ledger, outcomes, services
from events.ledger import Outcome
from events.ledger.connection import collection as ledger_collection
from loadtests.stack import free_port
from tests.helpers import fire_together, make_event, make_users

pytestmark = pytest.mark.django_db


def going(event) -> list[int]:
    return [a.user_id for a in ledger.attendees(event.pk)]


def test_join_takes_a_free_seat_when_nobody_waits(organiser):
    event = make_event(organiser, 1)
    (alice,) = make_users(1, prefix="free")
    result = services.join_waitlist(event_id=event.pk, user_id=alice.pk)
    assert result.outcome is Outcome.CONFIRMED and result.position is None
    assert going(event) == [alice.pk] and ledger.waitlist(event.pk) == []
    assert ledger.attendees(event.pk)[0].at is not None


def test_join_a_full_event_queues_in_order_and_asking_again_changes_nothing(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol = make_users(3, prefix="queue")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    first = services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    second = services.join_waitlist(event_id=event.pk, user_id=carol.pk)
    assert (first.outcome, first.position) == (Outcome.WAITLISTED, 1)
    assert (second.outcome, second.position) == (Outcome.WAITLISTED, 2)
    assert outcomes.sentence(second) == (
        "You're #2 on the waiting list. We'll email you if a seat frees up."
    )

    again = services.join_waitlist(event_id=event.pk, user_id=carol.pk)
    assert (again.outcome, again.position) == (Outcome.ALREADY_WAITING, 2)
    rsvp = services.rsvp(event_id=event.pk, user_id=carol.pk)
    assert (rsvp.outcome, rsvp.position) == (Outcome.ALREADY_WAITING, 2)
    going_again = services.join_waitlist(event_id=event.pk, user_id=alice.pk)
    assert going_again.outcome is Outcome.ALREADY_GOING
    assert ledger.waitlist(event.pk) == [bob.pk, carol.pk]
    assert ledger.seats([event.pk])[event.pk].waiting == 2


def test_rsvp_on_a_full_event_is_full_and_never_joins_the_list(organiser):
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="plain")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    assert services.rsvp(event_id=event.pk, user_id=bob.pk).outcome is Outcome.FULL
    assert ledger.waitlist(event.pk) == []


def test_cancel_seats_the_first_waiting_in_the_same_write(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol = make_users(3, prefix="promo")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    for user in (bob, carol):
        services.join_waitlist(event_id=event.pk, user_id=user.pk)

    result = services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)

    assert result.outcome is Outcome.CANCELLED and result.promoted == (bob.pk,)
    assert going(event) == [bob.pk] and ledger.waitlist(event.pk) == [carol.pk]
    assert ledger.standing(event.pk, carol.pk)[1] == ledger.Standing(going=False, position=1)
    assert ledger.attendees(event.pk)[0].at is not None, "the promoted seat has its time"


def test_leaving_gives_the_place_back(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol = make_users(3, prefix="leave")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    for user in (bob, carol):
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    left = services.leave_waitlist(event_id=event.pk, user_id=bob.pk)
    assert left.outcome is Outcome.LEFT_WAITLIST and left.seats.waiting == 1
    assert ledger.waitlist(event.pk) == [carol.pk]
    again = services.leave_waitlist(event_id=event.pk, user_id=bob.pk)
    assert again.outcome is Outcome.NOT_WAITING
    assert services.cancel_rsvp(event_id=event.pk, user_id=carol.pk).outcome is Outcome.NOT_GOING


def test_list_off_or_capped_refuses_joins_but_keeps_who_waits(organiser):
    event = make_event(organiser, 1, waitlist_limit=1)
    alice, bob, carol = make_users(3, prefix="cap")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    assert services.join_waitlist(event_id=event.pk, user_id=bob.pk).outcome is Outcome.WAITLISTED
    capped = services.join_waitlist(event_id=event.pk, user_id=carol.pk)
    assert capped.outcome is Outcome.WAITLIST_CLOSED
    assert not capped.seats.waitlist_open

    services.set_waitlist_limit(event_id=event.pk, limit=0)
    assert ledger.waitlist(event.pk) == [bob.pk]
    services.set_waitlist_limit(event_id=event.pk, limit=None)
    assert services.join_waitlist(event_id=event.pk, user_id=carol.pk).position == 2


def test_capacity_raise_seats_up_to_that_many_waiting(organiser):
    event = make_event(organiser, 1)
    alice, *queued = make_users(5, prefix="raise")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    for user in queued:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)

    seats = services.set_capacity(event_id=event.pk, capacity=3)

    assert (seats.capacity, seats.taken, seats.waiting) == (3, 3, 2)
    assert going(event) == [alice.pk, queued[0].pk, queued[1].pk]
    assert ledger.waitlist(event.pk) == [queued[2].pk, queued[3].pk]
    with pytest.raises(services.CapacityError, match="3 people are already going"):
        services.set_capacity(event_id=event.pk, capacity=2)


def test_a_ledger_from_before_the_waiting_list_keeps_working(organiser):
    """Documents written before this feature have no waitlist fields at all."""
    event = make_event(organiser, 1)
    ledger_collection().replace_one({"_id": event.pk}, {"capacity": 1, "attendees": []})
    alice, bob, carol = make_users(3, prefix="legacy")
    assert ledger.seats([event.pk])[event.pk] == ledger.Seats(1, 0, 0, None)
    assert ledger.standing(event.pk, alice.pk) == (ledger.Seats(1, 0, 0, None), ledger.Standing())
    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome is Outcome.CONFIRMED
    assert services.join_waitlist(event_id=event.pk, user_id=bob.pk).position == 1
    ledger_collection().replace_one({"_id": event.pk}, {"capacity": 1, "attendees": [alice.pk]})
    assert services.cancel_rsvp(event_id=event.pk, user_id=alice.pk).promoted == ()
    assert services.rsvp(event_id=event.pk, user_id=carol.pk).outcome is Outcome.CONFIRMED


# --- Emails -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the threads see the committed data
def test_promotion_emails_go_once_to_each_promoted_person_and_nobody_else(organiser):
    """3 attendees cancel while 2 of 6 waiting leave and 4 newcomers join, at once."""
    event = make_event(organiser, 3, title="Jazz night")
    attendees = make_users(3, prefix="mail-in")
    queued = make_users(6, prefix="mail-q")
    newcomers = make_users(4, prefix="mail-new")
    for user in attendees:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    for user in queued:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    mail.outbox.clear()

    def call(action, user):
        return lambda: action(event_id=event.pk, user_id=user.pk)

    fire_together(
        [call(services.cancel_rsvp, u) for u in attendees]
        + [call(services.leave_waitlist, u) for u in queued[4:]]
        + [call(services.join_waitlist, u) for u in newcomers]
    )

    promoted = queued[:3]
    assert going(event) == [u.pk for u in promoted]
    # Everyone whose seat or place changed is told; the promoted, once each.
    promotions = [m for m in mail.outbox if "seat freed up" in m.subject]
    assert sorted(m.to[0] for m in promotions) == sorted(u.email for u in promoted)
    for message in promotions:
        assert message.subject == "[Eventsite] You're in: a seat freed up for Jazz night"
        assert f"/events/{event.pk}/" in message.body
    others = sorted(m.to[0] for m in mail.outbox if m not in promotions)
    assert others == sorted(u.email for u in attendees + newcomers)


def test_capacity_raise_emails_those_it_seats(organiser):
    event = make_event(organiser, 0, title="Raised")
    queued = make_users(3, prefix="raised-q")
    for user in queued:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    mail.outbox.clear()
    services.set_capacity(event_id=event.pk, capacity=2)
    assert [m.to for m in mail.outbox] == [[queued[0].email], [queued[1].email]]


def test_a_mail_failure_keeps_the_seat_and_is_logged(organiser, settings, caplog):
    closed_port = free_port()  # nothing listens there: a real refused connection
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 5},
        }
    }
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="mailfail")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)

    with caplog.at_level(logging.ERROR):
        result = services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)

    assert result.outcome is Outcome.CANCELLED and result.promoted == (bob.pk,)
    assert going(event) == [bob.pk]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    told = [r.getMessage() for r in failures if r.name == "events.services.notifications"]
    assert any(f"promoted email of user {bob.pk}" in message for message in told), told
    assert failures[0].exc_info and issubclass(failures[0].exc_info[0], ConnectionRefusedError)
