"""Guests in the admin: the limit on the event form, parties on its lists, the door, the export."""

from __future__ import annotations

import csv
import io
from html import unescape

import pytest
from django.urls import reverse

from events import ledger, services
from events.models import Event
from tests.helpers import change_form, logged_in, make_event, make_organiser, make_users

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def party():
    """Alice's event of 5 seats, 2 guests each: Ann and Bo come with Pat, Sam alone, Lee waits
    with two guests (a party of three does not fit the one seat left)."""
    alice = make_organiser("party-alice")
    event = make_event(alice, 5, title="Dinner", guests_allowed=2)
    pat, sam, lee = make_users(3, prefix="party-")
    services.rsvp(event_id=event.pk, user_id=pat.pk, guests=2, guest_names=["Ann", "Bo"])
    services.rsvp(event_id=event.pk, user_id=sam.pk)
    services.join_waitlist(event_id=event.pk, user_id=lee.pk, guests=2, guest_names=["Kim"])
    return alice, event, (pat, sam, lee)


def test_the_event_form_sets_the_guests_allowed_beside_capacity(party):
    alice, event, _ = party
    url = reverse("admin:events_event_change", args=[event.pk])
    page = logged_in(alice).get(url).content.decode()
    assert page.index('name="capacity"') < page.index('name="guests_allowed"')
    assert "Lowering it keeps the guests of RSVPs already made" in page

    saved = logged_in(alice).post(url, {**change_form(event, alice, 5), "guests_allowed": 1})

    assert saved.status_code == 302
    assert Event.objects.get(pk=event.pk).guests_allowed == 1
    # Pat's party keeps its guests under the lower limit.
    assert {a.user_id: a.guests for a in ledger.attendees(event.pk)}[party[2][0].pk] == 2


def test_more_guests_than_the_site_allows_is_a_form_error(party):
    alice, event, _ = party
    url = reverse("admin:events_event_change", args=[event.pk])
    answer = logged_in(alice).post(url, {**change_form(event, alice, 5), "guests_allowed": 11})
    assert answer.status_code == 200
    assert "less than or equal to 10" in answer.content.decode()
    assert Event.objects.get(pk=event.pk).guests_allowed == 2


def test_the_change_page_shows_each_party_and_the_seats_they_take(party):
    alice, event, _ = party
    url = reverse("admin:events_event_change", args=[event.pk])
    page = unescape(logged_in(alice).get(url).content.decode())
    assert "+2 (Ann, Bo)" in page
    assert "2 going, 4 seats taken with their guests." in page
    assert "+2 (Kim)" in page  # the waiting party, with the one name given


def test_adding_someone_by_hand_seats_a_party_of_one(party):
    alice, event, (_, sam, _) = party
    services.cancel_rsvp(event_id=event.pk, user_id=sam.pk)
    add = reverse("admin:events_event_add_attendee", args=[event.pk])
    logged_in(alice).post(add, {"who": sam.username})
    assert {a.user_id: a.guests for a in ledger.attendees(event.pk)}[sam.pk] == 0


def test_the_export_has_each_partys_guests_and_names(party):
    alice, event, (pat, sam, lee) = party
    response = logged_in(alice).get(reverse("admin:events_event_export", args=[event.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][-2:] == ["guests", "guest names"]
    people = {r[5]: (r[2], r[-2], r[-1]) for r in rows[1:]}
    assert people == {
        pat.username: ("going", "2", "Ann; Bo"),
        sam.username: ("going", "0", ""),
        lee.username: ("waiting", "2", "Kim"),
    }


def test_the_door_shows_guests_and_counts_their_seats_with_the_person(party):
    alice, event, (pat, sam, _) = party
    door = reverse("admin:events_event_check_in", args=[event.pk])
    client = logged_in(alice)
    page = unescape(client.get(door).content.decode())
    assert "+2 (Ann, Bo)" in page
    assert '0</strong> of <strong id="seats-count">4</strong> seats checked in' in page
    assert "+2 (Kim)" not in page  # who waits is not at the door

    answer = client.post(door, {"user_id": pat.pk, "checked_in": "1"}, **JSON)

    assert answer.json()["counts"] == {
        "checked_in": 1,
        "going": 2,
        "seats_checked_in": 3,
        "seats": 4,
    }
    found = unescape(client.get(door, {"q": "bo"}).content.decode())  # a guest's name finds them
    assert pat.username in found and sam.username not in found
