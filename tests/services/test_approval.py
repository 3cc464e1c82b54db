"""Approval-required events: an RSVP is a request; the organiser's decision seats and emails.

In-process against the real MongoDB, with Django's test mail outbox.
"""

from __future__ import annotations

import pytest
from django.core import mail

from events import ledger, services
from events.ledger import Outcome
from events.models import Rsvp
from tests.helpers import make_event, make_users

pytestmark = pytest.mark.django_db
Status = Rsvp.Status


def status_of(event, user) -> str:
    return Rsvp.objects.get(event=event, user=user).status


def test_an_rsvp_is_a_request_that_holds_no_seat(organiser):
    event = make_event(organiser, 2, requires_approval=True, guests_allowed=1)
    (alice,) = make_users(1, prefix="asker")
    result = services.rsvp(event_id=event.pk, user_id=alice.pk, guests=1)
    assert (result.outcome, result.requested, result.party) == (Outcome.REQUESTED, True, 2)
    assert result.seats.taken == 0 and result.seats.requested == 1
    assert status_of(event, alice) == Status.REQUESTED
    again = services.join_waitlist(event_id=event.pk, user_id=alice.pk)
    assert again.outcome is Outcome.ALREADY_REQUESTED
    assert mail.outbox == [], "a request is answered on the page; the decision is emailed"


def test_approving_seats_in_request_order_and_emails_the_seat_with_its_code(organiser):
    event = make_event(organiser, 2, requires_approval=True)
    alice, bob, carol = make_users(3, prefix="approve")
    for user in (alice, bob, carol):
        services.rsvp(event_id=event.pk, user_id=user.pk)

    decision = services.approve_requests(event_id=event.pk, user_ids=[carol.pk, alice.pk, bob.pk])

    assert decision.approved == (alice.pk, bob.pk), "the first two who asked"
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk, bob.pk]
    assert (status_of(event, alice), status_of(event, carol)) == (Status.GOING, Status.REQUESTED)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, bob.email])
    message = next(m for m in mail.outbox if m.to == [alice.email])
    assert message.subject.endswith(f"Approved: you're going to {event.title}")
    assert "check-in code" in message.body

    full = services.approve_requests(event_id=event.pk, user_ids=[carol.pk])
    assert full.result.outcome is Outcome.FULL and ledger.roster(event.pk).requests == (carol.pk,)


def test_a_request_that_does_not_fit_may_be_put_on_the_waiting_list(organiser):
    event = make_event(organiser, 1, requires_approval=True)
    alice, bob = make_users(2, prefix="queue")
    for user in (alice, bob):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    decision = services.approve_requests(
        event_id=event.pk, user_ids=[alice.pk, bob.pk], or_wait=True
    )
    assert (decision.approved, decision.queued) == ((alice.pk,), (bob.pk,))
    assert status_of(event, bob) == Status.WAITING
    to_bob = next(m for m in mail.outbox if m.to == [bob.email])
    assert "waiting list" in to_bob.subject
    mail.outbox.clear()
    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)  # bob is promoted from the list
    assert [a.user_id for a in ledger.attendees(event.pk)] == [bob.pk]
    assert any(m.to == [bob.email] and "freed up" in m.subject for m in mail.outbox)


def test_declining_and_withdrawing_remove_the_request_and_say_so(organiser):
    event = make_event(organiser, 3, requires_approval=True)
    alice, bob = make_users(2, prefix="no")
    for user in (alice, bob):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    declined = services.decline_requests(event_id=event.pk, user_ids=[alice.pk])
    assert declined.declined == (alice.pk,) and status_of(event, alice) == Status.DECLINED
    assert mail.outbox[-1].to == [alice.email] and "declined" in mail.outbox[-1].subject
    withdrawn = services.cancel_rsvp(event_id=event.pk, user_id=bob.pk)
    assert withdrawn.outcome is Outcome.REQUEST_WITHDRAWN
    assert status_of(event, bob) == Status.CANCELLED
    assert ledger.roster(event.pk).requests == () and ledger.attendees(event.pk) == []
