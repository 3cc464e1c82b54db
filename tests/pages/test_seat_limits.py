"""Seat action limits on the pages: the event page says when to try again; email links answer 429.

The limits count over 30 days here: django-ratelimit's windows are fixed, and a
test that straddled the end of one (an hour's would, about once in 3,600 runs of a
one-second test) would see its count start again.
"""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from events import ledger, services
from events.limits import sentence
from events.services import email_actions
from tests.helpers import down_redis_url, logged_in, make_event, make_users, redis_caches

pytestmark = pytest.mark.django_db

LIMITED = "changing seats too quickly. Please try again in"


def going(event) -> list[int]:
    return [a.user_id for a in ledger.attendees(event.pk)]


def seat_click(client: Client, event, action: str):
    """One seat button pressed on the event page, and the event page it leads back to."""
    return client.post(reverse(f"events:{action}", args=[event.pk]), follow=True)


def test_one_account_gets_its_limit_of_seat_actions_then_a_message(settings, organiser):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "4/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "1000/30d"
    event = make_event(organiser, 1)
    (alice,) = make_users(1, prefix="hog")
    client = logged_in(alice)
    # Every kind of seat action counts against the same limit.
    for action in ("rsvp", "cancel", "join_waitlist", "leave_waitlist"):
        page = seat_click(client, event, action)
        assert LIMITED not in page.content.decode(), action
    assert going(event) == [alice.pk]  # joining a list with a free seat took it

    page = seat_click(client, event, "cancel")  # the fifth: refused, the seat kept
    assert going(event) == [alice.pk]
    assert page.redirect_chain == [(reverse("events:detail", args=[event.pk]), 302)]
    assert re.search(LIMITED + r" \d+ seconds?\.", page.content.decode())
    (bob,) = make_users(1, prefix="patient")  # another account is not held back
    seat_click(logged_in(bob), event, "join_waitlist")
    assert ledger.waitlist(event.pk) == [bob.pk]


def test_one_address_gets_its_limit_across_accounts(settings, organiser):
    """Behind the proxy, each client is known by the address the proxy wrote."""
    settings.SEAT_ACCOUNT_RATE_LIMIT = "1000/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "2/30d"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    event = make_event(organiser, 10)
    users = make_users(4, prefix="crowd")
    office = "10.9.9.9, 203.0.113.6"  # the client's own claim, then what the proxy saw

    answers = [seat_click(logged_in(u, HTTP_X_FORWARDED_FOR=office), event, "rsvp") for u in users]
    limited = [LIMITED in page.content.decode() for page in answers[:3]]
    assert limited == [False, False, True]
    assert sorted(going(event)) == sorted(u.pk for u in users[:2])
    # The same first entry (anyone can write it) from another client: counted apart.
    elsewhere = logged_in(users[3], HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7")
    assert LIMITED not in seat_click(elsewhere, event, "rsvp").content.decode()
    assert users[3].pk in going(event)


def test_an_email_link_over_the_limit_is_a_429_page_that_says_when(settings, organiser):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "1/30d"
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="mailed")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    # The account is the link's: no login on these pages. Its first seat action
    # (here, "leave the waiting list", which it is not on) uses up the limit.
    leave = email_actions.link_url(
        action=email_actions.Action.LEAVE_WAITLIST, event_id=event.pk, user_id=alice.pk
    )
    assert Client().post(leave).status_code == 200
    cancel = email_actions.link_url(
        action=email_actions.Action.CANCEL_RSVP, event_id=event.pk, user_id=alice.pk
    )
    response = Client().post(cancel)
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 30 * 24 * 3600
    assert escape(sentence(wait)) in response.content.decode()
    assert going(event) == [alice.pk]


def test_a_redis_that_is_down_lets_seat_actions_through_fast(settings, organiser):
    """The limits cannot count without their cache: the ledger still guards every seat."""
    settings.CACHES = redis_caches(down_redis_url())
    settings.SEAT_ACCOUNT_RATE_LIMIT = "1/30d"
    event = make_event(organiser, 1)
    (alice,) = make_users(1, prefix="outage")
    client = logged_in(alice)
    started = time.monotonic()
    answers = [client.post(reverse(f"events:{a}", args=[event.pk])) for a in ("rsvp", "cancel")]
    assert [a.status_code for a in answers] == [302, 302]
    assert time.monotonic() - started < 3
    assert going(event) == []  # both were done: over the limit, had it counted
