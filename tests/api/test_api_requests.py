"""Requests at events that require approval, over the API: 202, then the organiser decides.

The organiser's calls (``/requests/approve`` and ``/requests/decline``) are
the admin's buttons for scripts: only the event's organiser may make them.
"""

from __future__ import annotations

import pytest

from events import ledger
from events.models import Rsvp
from tests.helpers import bearer, make_event, make_users

pytestmark = pytest.mark.django_db


def url(event, path: str) -> str:
    return f"/api/events/{event.pk}/{path}"


def test_an_rsvp_at_an_approval_event_is_202_requested_and_takes_no_seat(organiser):
    event = make_event(organiser, 3, requires_approval=True, guests_allowed=2)
    (alice,) = make_users(1, prefix="api-asker")
    answer = bearer(alice).post(url(event, "rsvp"), {"guests": 1}, format="json")
    assert answer.status_code == 202
    assert answer.json() == {
        "message": "Request sent: the organiser will email you when they decide.",
        "code": "requested",
        "status": "requested",
        "party": 2,
    }
    again = bearer(alice).post(url(event, "waitlist"), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_requested")
    assert ledger.seats([event.pk])[event.pk].taken == 0


def test_the_organiser_approves_and_declines_and_nobody_else_may(organiser):
    event = make_event(organiser, 2, requires_approval=True, guests_allowed=1)
    alice, bob, carol, stranger = make_users(4, prefix="api-decide")
    bearer(alice).post(url(event, "rsvp"), {"guests": 1}, format="json")
    bearer(bob).post(url(event, "rsvp"), format="json")
    bearer(carol).post(url(event, "rsvp"), format="json")

    refused = bearer(stranger).post(
        url(event, "requests/approve"), {"user_ids": [alice.pk]}, format="json"
    )
    assert refused.status_code == 404, "not the stranger's event: as if there were none"

    approved = bearer(organiser).post(
        url(event, "requests/approve"), {"user_ids": [alice.pk, bob.pk]}, format="json"
    )
    assert approved.status_code == 200
    assert approved.json() == {
        "code": "approved",
        "approved": [alice.pk],
        "queued": [],
        "declined": [],
        "seats_left": 0,
        "requested": 2,
    }, "alice's party of two fills the event; bob's request waits"
    queued = bearer(organiser).post(
        url(event, "requests/approve"), {"user_ids": [bob.pk], "or_wait": True}, format="json"
    )
    assert queued.json()["queued"] == [bob.pk]
    declined = bearer(organiser).post(
        url(event, "requests/decline"), {"user_ids": [carol.pk]}, format="json"
    )
    assert (declined.json()["code"], declined.json()["declined"]) == ("declined", [carol.pk])
    statuses = dict(Rsvp.objects.filter(event=event).values_list("user_id", "status"))
    assert statuses == {alice.pk: "going", bob.pk: "waiting", carol.pk: "declined"}


@pytest.mark.parametrize(
    "body",
    [{}, {"user_ids": []}, {"user_ids": ["x"]}, {"user_ids": 3}, {"user_ids": [2**70]}],
    ids=repr,
)
def test_a_decision_without_a_list_of_user_ids_is_400(organiser, body):
    event = make_event(organiser, 2, requires_approval=True)
    answer = bearer(organiser).post(url(event, "requests/approve"), body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid")
