"""Seat action limits on the API: 429 ``rate_limited`` with Retry-After, counted by every process.

The limits count over 30 days here: django-ratelimit's windows are fixed, and a
test that straddled the end of one (an hour's would, about once in 3,600 runs of a
one-second test) would see its count start again.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from accounts.tokens import issue_access_token
from events import ledger
from events.limits import sentence
from loadtests.bench import scratch
from tests.helpers import (
    api_call,
    bearer,
    down_redis_url,
    fire_together,
    live_gunicorn,
    make_event,
    make_users,
    redis_caches,
    session_database_url,
)

pytestmark = pytest.mark.django_db


def seat_url(event_id: int, what: str = "rsvp") -> str:
    return f"/api/events/{event_id}/{what}"


def assert_rate_limited(response) -> int:
    """The site's JSON error, 429 ``rate_limited``, and the seconds it says to wait."""
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "rate_limited"
    wait = int(response["Retry-After"])
    assert 0 < wait <= 30 * 24 * 3600
    assert body["message"] == sentence(wait)
    return wait


def test_one_account_gets_its_limit_of_seat_actions_then_429(settings, organiser):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "4/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "1000/30d"
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="apihog")
    client = bearer(alice)
    # RSVP, cancel, join and leave the list: each counts, whatever it answers.
    calls = [
        ("post", "rsvp"),
        ("delete", "rsvp"),
        ("post", "waitlist"),  # a free seat and nobody waiting: the seat
        ("delete", "waitlist"),  # not on the list: 404, counted all the same
    ]
    answers = [getattr(client, m)(seat_url(event.pk, w), {}, format="json") for m, w in calls]
    assert [a.status_code for a in answers] == [201, 200, 201, 404]
    assert_rate_limited(client.delete(seat_url(event.pk), {}, format="json"))
    assert ledger.attendees(event.pk)[0].user_id == alice.pk  # the cancel was not done
    assert bearer(bob).post(seat_url(event.pk, "waitlist"), {}, format="json").status_code == 202


def test_a_change_of_party_counts_as_a_seat_action(settings, organiser):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "2/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "1000/30d"
    event = make_event(organiser, 5, guests_allowed=2)
    (alice,) = make_users(1, prefix="partyhog")
    client = bearer(alice)
    assert client.post(seat_url(event.pk), {}, format="json").status_code == 201
    assert client.patch(seat_url(event.pk), {"guests": 1}, format="json").status_code == 200
    assert_rate_limited(client.patch(seat_url(event.pk), {"guests": 2}, format="json"))
    assert ledger.attendees(event.pk)[0].guests == 1, "the refused change was not made"


def test_one_address_gets_its_limit_across_accounts(settings, organiser):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "1000/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "2/30d"
    event = make_event(organiser, 10)
    users = make_users(3, prefix="apicrowd")
    answers = [bearer(u).post(seat_url(event.pk), {}, format="json") for u in users]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_rate_limited(answers[2])
    assert len(ledger.attendees(event.pk)) == 2


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_workers_count_one_limit_together_in_redis(organiser):
    """24 RSVPs of one account fired together at two worker processes: exactly 10 are served.

    Counted apart (each process its own memory), each worker would serve up to 10.
    """
    event = make_event(organiser, 50)
    (alice,) = make_users(1, prefix="script")
    token = issue_access_token(alice)
    notes: list[dict] = []
    with scratch.redis_database("redis://127.0.0.1:6379", notes) as cache_url:
        limits = {"SEAT_ACCOUNT_RATE_LIMIT": "10/30d", "SEAT_ADDRESS_RATE_LIMIT": "1000/30d"}
        with live_gunicorn(
            session_database_url(), workers=2, CACHE_URL=cache_url, **limits
        ) as site:
            url = site.url + seat_url(event.pk)
            answers = fire_together([api_call("POST", url, token) for _ in range(24)])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 9, 429: 14}
    assert {a.json()["code"] for a in answers if a.status_code == 429} == {"rate_limited"}
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]
    assert notes[-1]["clean"], notes


def test_a_redis_that_is_down_lets_seat_actions_through_fast(settings, organiser):
    """Failing open: the limits cannot count, the ledger still guards every seat."""
    settings.CACHES = redis_caches(down_redis_url())
    settings.SEAT_ACCOUNT_RATE_LIMIT = "1/30d"
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="apioutage")
    started = time.monotonic()
    answers = [
        bearer(alice).post(seat_url(event.pk), {}, format="json"),
        bearer(alice).delete(seat_url(event.pk), {}, format="json"),
        bearer(alice).post(seat_url(event.pk), {}, format="json"),
        bearer(bob).post(seat_url(event.pk), {}, format="json"),
    ]
    assert [a.status_code for a in answers] == [201, 200, 201, 409]  # full, not overbooked
    assert time.monotonic() - started < 3


def test_a_client_whose_address_cannot_be_found_is_still_answered(settings, organiser):
    """No address at all (allauth refuses with PermissionDenied): counted as its peer, no 403."""
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="no-address")
    answer = bearer(alice).post(seat_url(event.pk), {}, format="json", REMOTE_ADDR="")
    assert answer.status_code == 201, answer.content
