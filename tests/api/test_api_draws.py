"""A draw over the API: before the draw an RSVP is 202 ``entered``; after it, seats as usual."""

from __future__ import annotations

import pytest

from events import ledger
from events.services import draws
from tests.helpers import bearer, draw_time_comes, make_users, opening_with_a_draw

pytestmark = pytest.mark.django_db


def url(event, path: str = "") -> str:
    return f"/api/events/{event.pk}/{path}"


def test_an_rsvp_before_the_draw_is_202_entered_and_can_be_withdrawn(organiser):
    event = opening_with_a_draw(organiser, 2, guests_allowed=1)
    (alice,) = make_users(1, prefix="api-entrant")
    client = bearer(alice)
    answer = client.post(url(event, "rsvp"), {"guests": 1}, format="json")
    assert answer.status_code == 202
    assert answer.json() == {
        "message": "You're in the draw: we'll email you whether you got a seat.",
        "code": "entered",
        "status": "entered",
        "party": 2,
    }
    again = client.post(url(event, "waitlist"), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_entered")
    detail = client.get(url(event)).json()
    assert (detail["entered"], detail["going"], detail["seats_taken"]) == (True, False, 0)
    assert detail["draw_at"] is not None
    (mine,) = client.get("/api/me/rsvps/").json()
    assert (mine["id"], mine["entered"], mine["guests"]) == (event.pk, True, 1)

    withdrawn = client.delete(url(event, "rsvp"))
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["message"] == "Your entry in the draw is withdrawn."
    assert client.get("/api/me/rsvps/").json() == []


def test_after_the_draw_the_entrant_holds_a_seat_and_an_rsvp_takes_one(organiser):
    event = opening_with_a_draw(organiser, 2)
    alice, bob = make_users(2, prefix="api-drawn")
    bearer(alice).post(url(event, "rsvp"), format="json")
    draw_time_comes(event)
    draws.hold_draw(event_id=event.pk)
    assert bearer(alice).get(url(event)).json()["going"] is True
    late = bearer(bob).post(url(event, "rsvp"), format="json")
    assert late.status_code == 201, "after the draw, first come first served"
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk, bob.pk]
