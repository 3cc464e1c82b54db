"""Seat emails say the party, as the ledger holds it when the email is built."""

from __future__ import annotations

import pytest
from django.core import mail

from events import services
from events.services import notifications
from tests.helpers import make_event, make_users

pytestmark = pytest.mark.django_db


def bodies(to) -> list[str]:
    """Text and HTML of every email sent to ``to``, in order."""
    return [m.body + m.alternatives[0].content for m in mail.outbox if m.to == [to.email]]


def test_the_confirmation_says_the_party(organiser):
    event = make_event(organiser, 5, guests_allowed=2)
    pat, sam = make_users(2, prefix="mailparty-")
    services.rsvp(event_id=event.pk, user_id=pat.pk, guests=2)
    services.rsvp(event_id=event.pk, user_id=sam.pk)

    (pats,) = bodies(pat)
    assert "Your RSVP is for you + 2 guests." in pats
    assert "Your RSVP is for <strong>you + 2 guests</strong>." in pats
    (sams,) = bodies(sam)
    assert "Your RSVP is for" not in sams  # a party of one is the email it always was


def test_the_waiting_and_promotion_emails_say_the_party(organiser):
    event = make_event(organiser, 2, guests_allowed=1)
    first, waiting = make_users(2, prefix="mailwait-")
    services.rsvp(event_id=event.pk, user_id=first.pk, guests=1)
    services.join_waitlist(event_id=event.pk, user_id=waiting.pk, guests=1)
    (waited,) = bodies(waiting)
    assert "Your place on the waiting list is for you + 1 guest" in waited
    mail.outbox.clear()

    services.cancel_rsvp(event_id=event.pk, user_id=first.pk)

    promotions = [m for m in mail.outbox if "seat freed up" in m.subject]
    assert [m.to for m in promotions] == [[waiting.email]]
    assert "Your RSVP is for you + 1 guest." in promotions[0].body


@pytest.mark.parametrize("kind", [notifications.Kind.REMINDER, notifications.Kind.RECONFIRM])
def test_the_reminder_and_the_still_coming_email_say_the_party(organiser, kind):
    event = make_event(organiser, 4, guests_allowed=2)
    (pat,) = make_users(1, prefix=f"mail{kind}-")
    services.rsvp(event_id=event.pk, user_id=pat.pk, guests=2)
    email = notifications.build_email(kind, event, pat)
    assert "Your RSVP is for you + 2 guests." in email.body


def test_an_approval_says_the_party(organiser):
    event = make_event(organiser, 4, guests_allowed=1, requires_approval=True)
    (pat,) = make_users(1, prefix="mailapproved-")
    services.rsvp(event_id=event.pk, user_id=pat.pk, guests=1)
    mail.outbox.clear()
    services.approve_requests(event_id=event.pk, user_ids=[pat.pk])
    (approved,) = bodies(pat)
    assert "Your RSVP is for you + 1 guest." in approved
