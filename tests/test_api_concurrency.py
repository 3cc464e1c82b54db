"""The API contract's concurrency test, over real HTTP with Bearer tokens.

Against gunicorn with two worker processes, as the contract's script does it: every
client holds its token, all wait at a barrier, then POST
``{api_url}/events/{id}/rsvp`` at the same moment and read ``message`` from
the answers they get.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
import requests
from django.core.management import call_command

from accounts.tokens import issue_access_tokens
from events import ledger
from tests.helpers import api_call, fire_together, make_event, make_users

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def post_together(url: str, tokens: list[str]) -> list[requests.Response]:
    """POST to ``url`` once per token, all released at the same instant."""
    return fire_together([api_call("POST", url, token) for token in tokens])


def test_the_notes_scenario_five_users_two_seats(live_site, django_user_model):
    """Capacity 2, five users with tokens from the fixture command: two 201s, three 409s."""
    out = io.StringIO()
    call_command(
        "make_loadtest_fixture", users=5, capacity=2, api_url=f"{live_site.url}/api", stdout=out
    )
    fixture = json.loads(out.getvalue())
    url = f"{fixture['api_url']}/events/{fixture['event_id']}/rsvp"

    responses = post_together(url, [u["token"] for u in fixture["users"]])

    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409, 409]
    refusals = [r.json()["message"] for r in responses if r.status_code == 409]
    assert refusals == ["Event is full"] * 3
    confirmed = {u["username"] for u, r in zip(fixture["users"], responses, strict=True) if r.ok}
    going = django_user_model.objects.filter(
        pk__in=[a.user_id for a in ledger.attendees(fixture["event_id"])]
    )
    assert {u.username for u in going} == confirmed


def test_two_hundred_users_race_for_five_seats(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("api-race-org", password="x")
    event = make_event(organiser, 5)
    users = make_users(200, prefix="api-racer")
    tokens = issue_access_tokens(users)

    responses = post_together(
        f"{live_site.url}/api/events/{event.pk}/rsvp", [tokens[u.pk] for u in users]
    )

    assert Counter(r.status_code for r in responses) == {201: 5, 409: 195}
    going = [a.user_id for a in ledger.attendees(event.pk)]
    assert len(going) == len(set(going)) == 5
    assert ledger.waitlist(event.pk) == []  # an RSVP never joins the list
    for user, response in zip(users, responses, strict=True):
        if response.status_code == 201:
            assert user.pk in going
        else:
            assert user.pk not in going
            assert response.json() == {"message": "Event is full", "code": "full", "seats_left": 0}
    # Each confirmation saw the seats right after its own write, and a
    # combined write seats several at once: the counts, from most seats left
    # to fewest, are one chain of writes, each taking as many seats as
    # confirmations share its count.
    shared = Counter(r.json()["seats_left"] for r in responses if r.status_code == 201)
    left = 5
    for seats_left, confirmations in sorted(shared.items(), reverse=True):
        assert seats_left == left - confirmations, shared
        left = seats_left
    assert left == 0


def test_one_token_fired_ten_times_gets_one_seat(live_site, django_user_model):
    organiser = django_user_model.objects.create_user("api-double-org", password="x")
    event = make_event(organiser, 5)
    (user,) = make_users(1, prefix="api-double")
    token = issue_access_tokens([user])[user.pk]

    responses = post_together(f"{live_site.url}/api/events/{event.pk}/rsvp/", [token] * 10)

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_going"}
    assert [a.user_id for a in ledger.attendees(event.pk)] == [user.pk]
