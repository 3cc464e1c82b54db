"""One-click links from the emails: give up a seat or leave the list without logging in.

A GET only shows what the link does (mail scanners fetch links); the POST
does it. A changed or foreign link gets a clear page, never a 500.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from events import ledger, services
from events.ledger import Outcome
from events.models import Event
from events.services import email_actions
from tests.helpers import make_event, make_users

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/e/[^/\s]+/")


def link_in(message) -> str:
    (found,) = LINK.findall(message.body)
    assert f'href="{found}"' in message.alternatives[0][0]  # the HTML part carries it too
    return urlsplit(found).path


def test_a_confirmations_link_asks_on_get_and_gives_the_seat_to_the_first_waiting_on_post(
    organiser,
):
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="link")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    confirmation, _waiting = mail.outbox
    url = link_in(confirmation)
    mail.outbox.clear()

    asked = Client().get(url)
    assert asked.status_code == 200 and "Give up your seat?" in asked.content.decode()
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]  # a GET changes nothing

    done = Client().post(url)
    assert done.status_code == 200
    assert "Your RSVP is cancelled" in done.content.decode()
    assert [a.user_id for a in ledger.attendees(event.pk)] == [bob.pk]
    assert {m.to[0] for m in mail.outbox} == {alice.email, bob.email}  # cancelled; promoted

    again = Client().post(url)  # a used link says where the person stands
    assert "You have no RSVP for this event." in again.content.decode()


def test_a_waiting_list_emails_link_leaves_the_list(organiser):
    event = make_event(organiser, 0)
    (carol,) = make_users(1, prefix="leave")
    assert services.join_waitlist(event_id=event.pk, user_id=carol.pk).outcome is (
        Outcome.WAITLISTED
    )
    url = link_in(mail.outbox[-1])

    assert "Leave the waiting list?" in Client().get(url).content.decode()
    assert "You have left the waiting list." in Client().post(url).content.decode()
    assert ledger.waitlist(event.pk) == []


def test_a_changed_or_foreign_link_gets_a_clear_page_and_changes_nothing(organiser):
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="tamper")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    token = link_in(mail.outbox[-1]).strip("/").split("/")[-1]
    payload, _, signature = token.rpartition(":")
    said = email_actions.Link(email_actions.Action.CANCEL_RSVP, event.pk, alice.pk)
    assert email_actions.read_link(token) == said

    for bad in (f"/e/{payload}:{'A' * len(signature)}/", "/e/not-a-token/", f"/e/{token}x/"):
        answer = Client().post(bad)
        assert answer.status_code == 400
        assert "This link is not valid" in answer.content.decode()
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]


def test_after_the_event_has_started_the_link_says_so(organiser):
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="late")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    url = link_in(mail.outbox[-1])
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timezone.timedelta(hours=1))

    answer = Client().post(url)
    assert "This event has already started" in answer.content.decode()
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]
