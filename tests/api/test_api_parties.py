"""Guests on the API: ``{"guests": k}`` on an RSVP or a join, PATCH to change it.

The plain contract keeps working (no body or ``{}`` is a party of one); a
party that does not fit is 409 ``full`` with the seats left; more guests than
the event allows, a negative number or anything but a JSON integer is a 400
with a message.
"""

from __future__ import annotations

import pytest

from events import ledger
from events.models import Rsvp
from tests.helpers import bearer, make_event, make_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(django_user_model):
    return make_users(4, prefix="party")


def rsvp_url(event) -> str:
    return f"/api/events/{event.pk}/rsvp"


def parties(event) -> dict[int, int]:
    return {a.user_id: 1 + a.guests for a in ledger.attendees(event.pk)}


def test_an_rsvp_with_guests_is_201_with_its_party_and_takes_their_seats(organiser, members):
    event = make_event(organiser, 5, guests_allowed=3)
    answer = bearer(members[0]).post(
        rsvp_url(event), {"guests": 2, "guest_names": ["Ann", "", "Bo"]}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["party"], body["seats_left"], body["event"]["seats_taken"]) == (3, 2, 3)
    assert body["event"]["guests"] == 2 and body["event"]["guests_allowed"] == 3
    assert parties(event) == {members[0].pk: 3}
    row = Rsvp.objects.get(event=event, user=members[0])
    assert row.guest_names == ["Ann", "Bo"], "blank names are dropped"


def test_an_empty_body_is_still_a_party_of_one(organiser, members):
    event = make_event(organiser, 5, guests_allowed=3)
    for client, body in ((bearer(members[0]), None), (bearer(members[1]), {})):
        answer = client.post(rsvp_url(event), body, format="json")
        assert (answer.status_code, answer.json()["party"]) == (201, 1)
    assert parties(event) == {members[0].pk: 1, members[1].pk: 1}


def test_a_party_that_does_not_fit_is_409_full_with_the_seats_left(organiser, members):
    event = make_event(organiser, 3, guests_allowed=3)
    bearer(members[0]).post(rsvp_url(event), {"guests": 1}, format="json")
    answer = bearer(members[1]).post(rsvp_url(event), {"guests": 2}, format="json")
    assert answer.status_code == 409
    assert answer.json() == {
        "message": "Not enough seats left for your party: 1 left.",
        "code": "full",
        "seats_left": 1,
    }
    assert parties(event) == {members[0].pk: 2}


@pytest.mark.parametrize(
    ("allowed", "body", "code"),
    [
        (2, {"guests": 3}, "too_many_guests"),
        (0, {"guests": 1}, "too_many_guests"),
        (2, {"guests": -1}, "invalid"),
        (2, {"guests": "2"}, "invalid"),
        (2, {"guests": 1.5}, "invalid"),
        (2, {"guests": True}, "invalid"),
        (2, {"guests": 11}, "invalid"),
        (2, {"guest_names": "Ann"}, "invalid"),
    ],
    ids=["above the limit", "none allowed", "negative", "a string", "a fraction", "a bool",
         "above any limit", "names not a list"],
)  # fmt: skip
def test_guests_not_allowed_or_not_a_count_are_400_with_a_message(
    organiser, members, allowed, body, code
):
    event = make_event(organiser, 9, guests_allowed=allowed)
    answer = bearer(members[0]).post(rsvp_url(event), body, format="json")
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["code"] == code and problem["message"]
    assert "guests" in problem["errors"] or "guest_names" in problem["errors"]
    assert ledger.attendees(event.pk) == []


def test_patch_grows_into_free_seats_only_and_a_shrink_seats_the_waiting(organiser, members):
    event = make_event(organiser, 4, guests_allowed=3)
    alice, bob, carol = (bearer(m) for m in members[:3])
    alice.post(rsvp_url(event), {"guests": 1}, format="json")
    bob.post(rsvp_url(event), format="json")

    grown = alice.patch(rsvp_url(event), {"guests": 2}, format="json")
    assert (grown.status_code, grown.json()["party"], grown.json()["seats_left"]) == (200, 3, 0)
    refused = alice.patch(rsvp_url(event), {"guests": 3}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "full")

    carol.post(f"/api/events/{event.pk}/waitlist", format="json")
    shrunk = alice.patch(rsvp_url(event), {"guests": 0}, format="json")
    assert (shrunk.status_code, shrunk.json()["message"]) == (
        200,
        "Saved: your RSVP is now for you.",
    )
    assert parties(event) == {members[0].pk: 1, members[1].pk: 1, members[2].pk: 1}


def test_patch_needs_a_count_and_an_rsvp(organiser, members):
    event = make_event(organiser, 4, guests_allowed=3)
    nobody = bearer(members[0]).patch(rsvp_url(event), {"guests": 1}, format="json")
    assert (nobody.status_code, nobody.json()["code"]) == (404, "not_going")
    empty = bearer(members[0]).patch(rsvp_url(event), {}, format="json")
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid")


def test_a_party_waits_as_one_entry_and_is_202_with_its_party(organiser, members):
    event = make_event(organiser, 1, guests_allowed=2)
    bearer(members[0]).post(rsvp_url(event), format="json")
    answer = bearer(members[1]).post(
        f"/api/events/{event.pk}/waitlist", {"guests": 2}, format="json"
    )
    assert answer.status_code == 202
    assert (answer.json()["position"], answer.json()["party"]) == (1, 3)
    assert ledger.seats([event.pk])[event.pk].waiting == 1
