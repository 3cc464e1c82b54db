"""Approval-required events on the pages: a request, its withdrawal, and what each page says."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from events import ledger, services
from events.models import Rsvp
from tests.helpers import logged_in, make_event, make_users, outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return get_user_model().objects.create_user("org", "org@example.com", "pw", is_staff=True)


def page(client: Client, event) -> str:
    return unescape(client.get(event.get_absolute_url()).content.decode())


def post(client: Client, event, action: str) -> str:
    response = client.post(reverse(f"events:{action}", args=[event.pk]), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_request_is_the_only_way_in_and_can_be_withdrawn(organiser):
    event = make_event(organiser, 2, requires_approval=True)
    (alice,) = make_users(1, prefix="asker")
    client = logged_in(alice)
    before = page(client, event)
    assert "Request to join" in before and 'id="rsvp-button"' not in before
    assert "Join the waiting list" not in before

    answer = post(client, event, "rsvp")
    assert outcomes(answer) == ["requested"]
    after = unescape(answer)
    assert "Your request is waiting for the organiser's approval" in after
    assert "Withdraw request" in after and "Request to join" not in after
    assert ledger.roster(event.pk).requests == (alice.pk,)
    assert ledger.seats([event.pk])[event.pk].taken == 0, "a request holds no seat"
    assert outcomes(post(client, event, "rsvp")) == ["already_requested"]

    withdrawn = post(client, event, "cancel")
    assert outcomes(withdrawn) == ["request_withdrawn"]
    assert "Request to join" in unescape(withdrawn)
    assert ledger.roster(event.pk).requests == ()


def test_a_full_approval_event_still_takes_requests_and_offers_no_waiting_list(organiser):
    event = make_event(organiser, 1, requires_approval=True)
    first, second = make_users(2, prefix="full-ask")
    services.rsvp(event_id=event.pk, user_id=first.pk)
    services.approve_requests(event_id=event.pk, user_ids=[first.pk])
    html = page(logged_in(second), event)
    assert "Request to join" in html and "Every seat is taken" in html
    assert "Join the waiting list" not in html
    assert outcomes(post(logged_in(second), event, "join_waitlist")) == ["requested"]


def test_once_approved_the_page_says_going(organiser):
    event = make_event(organiser, 2, requires_approval=True)
    (alice,) = make_users(1, prefix="approved")
    client = logged_in(alice)
    post(client, event, "rsvp")
    services.approve_requests(event_id=event.pk, user_ids=[alice.pk])
    html = page(client, event)
    assert "You're going." in html and "Your request is waiting" not in html


def test_my_rsvps_lists_requests_as_awaiting_approval(organiser):
    asked = make_event(organiser, 2, title="Asked for", requires_approval=True)
    other = make_event(organiser, 2, title="Open to all")
    (alice,) = make_users(1, prefix="mine")
    client = logged_in(alice)
    post(client, asked, "rsvp")
    post(client, other, "rsvp")
    html = unescape(client.get(reverse("events:my_rsvps")).content.decode())
    awaiting = html.split("<h2>Awaiting approval</h2>", 1)
    assert len(awaiting) == 2, "a section of its own"
    assert "Asked for" in awaiting[1] and "Open to all" not in awaiting[1]
    assert "Withdraw request" in awaiting[1]
    listed = unescape(client.get(reverse("events:list")).content.decode())
    assert "Awaiting approval" in listed


def test_only_the_organiser_sees_how_many_requests_wait(organiser):
    event = make_event(organiser, 2, requires_approval=True)
    alice, bob = make_users(2, prefix="count")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    assert Rsvp.objects.get(event=event, user=alice).status == Rsvp.Status.REQUESTED
    assert "1 request waiting for your approval" in page(logged_in(organiser), event)
    assert "request waiting" not in page(logged_in(bob), event)
    assert "request waiting" not in page(Client(), event)
    assert "Log in to request to join" in page(Client(), event)


def test_a_request_can_bring_guests_and_the_admin_lists_them(organiser):
    event = make_event(organiser, 4, requires_approval=True, guests_allowed=2)
    (alice,) = make_users(1, prefix="party-ask")
    client = logged_in(alice)
    assert 'name="guests"' in page(client, event)
    url = reverse("events:rsvp", args=[event.pk])
    answer = client.post(url, {"guests": "2", "guest_name_1": "Ann"}, follow=True)
    assert outcomes(answer.content.decode()) == ["requested"]
    assert "It is for you + 2 guests." in page(client, event)
    assert ledger.roster(event.pk).request_guests == (2,)
