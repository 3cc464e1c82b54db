"""The waiting list in the JSON API, in-process: every answer of its table."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from events import ledger
from tests.helpers import bearer, make_event, make_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def members():
    return make_users(4, prefix="api-wl")


def url(event, what: str = "waitlist") -> str:
    return f"/api/events/{event.pk}/{what}"


@pytest.fixture
def full_event(organiser, members):
    """One seat, taken by members[0]."""
    event = make_event(organiser, 1)
    assert bearer(members[0]).post(url(event, "rsvp")).status_code == 201
    return event


def test_join_a_full_event_is_202_with_position(full_event, members):
    first = bearer(members[1]).post(url(full_event), {}, format="json")
    second = bearer(members[2]).post(url(full_event) + "/")
    assert first.status_code == 202
    assert first.json() == {
        "message": "You're #1 on the waiting list. We'll email you if a seat frees up.",
        "code": "waitlisted",
        "position": 1,
        "party": 1,
    }
    assert (second.status_code, second.json()["position"]) == (202, 2)


def test_join_with_a_free_seat_and_nobody_waiting_is_201_a_seat(organiser, members):
    event = make_event(organiser, 2)
    answer = bearer(members[0]).post(url(event))
    assert answer.status_code == 201
    body = answer.json()
    assert body["message"] == "You're going!" and body["seats_left"] == 1
    assert body["event"]["going"] is True and body["event"]["waitlist_position"] is None


@pytest.mark.parametrize("what", ["waitlist", "rsvp"])
def test_asking_again_is_409_already_waiting_with_the_position(full_event, members, what):
    bearer(members[1]).post(url(full_event))
    again = bearer(members[1]).post(url(full_event, what))
    assert again.status_code == 409
    assert again.json() == {
        "message": "You're already #1 on the waiting list.",
        "code": "already_waiting",
        "seats_left": 0,
        "position": 1,
    }
    assert ledger.waitlist(full_event.pk) == [members[1].pk]


def test_join_while_going_is_409_already_going(full_event, members):
    answer = bearer(members[0]).post(url(full_event))
    assert (answer.status_code, answer.json()["code"]) == (409, "already_going")


@pytest.mark.parametrize("limit", [0, 1])
def test_join_a_closed_or_full_list_is_409_waitlist_closed(organiser, members, limit):
    event = make_event(organiser, 1, waitlist_limit=limit)
    bearer(members[0]).post(url(event, "rsvp"))
    if limit:
        assert bearer(members[1]).post(url(event)).status_code == 202
    refused = bearer(members[2]).post(url(event))
    assert refused.status_code == 409
    assert refused.json()["code"] == "waitlist_closed"
    assert refused.json()["message"] == "The waiting list for this event is closed or full."


def test_leave_is_200_then_404_not_waiting(full_event, members):
    bearer(members[1]).post(url(full_event))
    left = bearer(members[1]).delete(url(full_event))
    assert left.status_code == 200
    assert left.json()["message"] == "You have left the waiting list."
    assert left.json()["event"]["waiting"] == 0
    again = bearer(members[1]).delete(url(full_event))
    assert again.status_code == 404
    assert again.json()["code"] == "not_waiting"


def test_unknown_or_past_event_and_anonymous_caller(organiser, members):
    assert bearer(members[0]).post("/api/events/999999/waitlist").json()["code"] == "unknown_event"
    past = make_event(organiser, 1, days=-1)
    answer = bearer(members[0]).post(url(past))
    assert (answer.status_code, answer.json()["code"]) == (409, "event_past")
    assert APIClient().post(url(past)).status_code == 401


def test_cancel_seats_the_first_waiting_and_the_event_json_says_so(full_event, members):
    bearer(members[1]).post(url(full_event))
    bearer(members[2]).post(url(full_event))
    detail = f"/api/events/{full_event.pk}/"
    before = bearer(members[2]).get(detail).json()
    assert (before["waiting"], before["going"], before["waitlist_position"]) == (2, False, 2)
    assert "waitlist_position" not in APIClient().get(detail).json()

    assert bearer(members[0]).delete(url(full_event, "rsvp")).status_code == 200

    promoted = bearer(members[1]).get(detail).json()
    assert (promoted["going"], promoted["waitlist_position"]) == (True, None)
    still = bearer(members[2]).get(detail).json()
    assert (still["seats_taken"], still["waiting"], still["waitlist_position"]) == (1, 1, 1)


def test_my_rsvps_lists_places_on_waiting_lists(full_event, organiser, members):
    other = make_event(organiser, 3, days=8, title="Other")
    client = bearer(members[1])
    client.post(url(full_event))
    client.post(url(other, "rsvp"))
    mine = {e["id"]: e for e in client.get("/api/me/rsvps/").json()}
    assert mine[full_event.pk]["going"] is False
    assert mine[full_event.pk]["waitlist_position"] == 1
    assert mine[other.pk]["going"] is True
