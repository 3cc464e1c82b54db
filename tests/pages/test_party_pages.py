"""Guests on the event page: the party form, its refusals, changing a party, who is going."""

from __future__ import annotations

from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from events import ledger, services
from events.models import Rsvp
from tests.helpers import logged_in, make_event, make_users, outcomes

pytestmark = pytest.mark.django_db


def parties(event) -> dict[int, int]:
    """Each seated user's guests, as the ledger holds them."""
    return {a.user_id: a.guests for a in ledger.attendees(event.pk)}


def post(client: Client, event, action: str, **form) -> str:
    """One seat form posted on the event page; the page it leads back to, unescaped."""
    response = client.post(reverse(f"events:{action}", args=[event.pk]), form, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("events:detail", args=[event.pk]), 302)]
    return unescape(response.content.decode())


@pytest.fixture
def people():
    return make_users(3, prefix="party")


def test_the_forms_offer_guests_only_where_the_event_allows_them(organiser, people):
    with_guests = make_event(organiser, 5, guests_allowed=2)
    alone = make_event(organiser, 5)
    client = logged_in(people[0])

    page = client.get(with_guests.get_absolute_url()).content.decode()
    assert '<select name="guests"' in page
    assert page.count("<option value=") == 3  # 0, 1, 2
    assert 'name="guest_name_1"' in page and 'name="guest_name_2"' in page
    assert 'name="guest_name_3"' not in page
    assert 'name="guests"' not in client.get(alone.get_absolute_url()).content.decode()


def test_an_rsvp_with_guests_takes_their_seats_and_keeps_their_names(organiser, people):
    event = make_event(organiser, 5, guests_allowed=2, attendees_public=True)
    client = logged_in(people[0])
    names = {"guest_name_1": "Ann", "guest_name_2": "", "guest_name_3": "Cy", "guest_name_4": "Di"}

    page = post(client, event, "rsvp", guests="2", **names)

    assert outcomes(page) == ["confirmed"]
    assert parties(event) == {people[0].pk: 2}
    # Blank boxes are skipped; names beyond the party are not kept.
    assert Rsvp.objects.get(event=event, user=people[0]).guest_names == ["Ann", "Cy"]
    assert "You're going: you + 2 guests." in page
    assert "3 of 5 taken" in page
    assert f"{people[0].username} <span" in page and ">+2</span>" in page  # who is going


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"guests": "3"}, "This event allows at most 2 guests per RSVP."),
        ({"guests": "two"}, "Guests: enter a whole number."),
        ({"guests": "-1"}, "Guests: enter 0 or more."),
        ({"guests": "99"}, "Guests: at most 10."),
        ({"guests": "1", "guest_name_1": "A" * 101}, "Guest 1: Ensure this value has at most 100"),
        ({"guests": "1", "guest_name_1": "Ann\nBo"}, "Guest 1: Keep this on one line"),
    ],
)
def test_a_bad_party_is_a_message_and_takes_nothing(organiser, people, form, said):
    event = make_event(organiser, 5, guests_allowed=2)
    client = logged_in(people[0])

    page = post(client, event, "rsvp", **form)

    assert said in page
    assert outcomes(page) == []
    assert parties(event) == {}
    assert not Rsvp.objects.filter(event=event).exists()


def test_guests_at_an_event_without_them_are_refused_with_the_services_message(organiser, people):
    event = make_event(organiser, 5)
    page = post(logged_in(people[0]), event, "rsvp", guests="1")
    assert "This event does not allow guests: RSVP for yourself only." in page
    assert parties(event) == {}


def test_a_party_joins_the_waiting_list_as_one(organiser, people):
    event = make_event(organiser, 1, guests_allowed=2)
    services.rsvp(event_id=event.pk, user_id=people[1].pk)
    client = logged_in(people[0])

    page = post(client, event, "join_waitlist", guests="2", guest_name_1="Ann")

    assert outcomes(page) == ["waitlisted"]
    roster = ledger.roster(event.pk)
    assert (roster.waitlist, roster.waiting_guests) == ([people[0].pk], (2,))
    assert "You're #1 on the waiting list: you + 2 guests." in page
    assert Rsvp.objects.get(event=event, user=people[0]).guest_names == ["Ann"]


def test_changing_the_party_grows_into_free_seats_and_says_so(organiser, people):
    event = make_event(organiser, 4, guests_allowed=3)
    client = logged_in(people[0])
    post(client, event, "rsvp", guests="0")

    page = post(client, event, "change_party", guests="2", guest_name_1="Ann", guest_name_2="Bo")

    assert outcomes(page) == ["party_changed"]
    assert "Saved: your RSVP is now for you + 2 guests." in page
    assert parties(event) == {people[0].pk: 2}
    assert Rsvp.objects.get(event=event, user=people[0]).guest_names == ["Ann", "Bo"]
    # The change form shows the party as it stands, names filled in.
    assert '<option value="2" selected>' in page and 'value="Bo"' in page


def test_a_party_cannot_grow_past_the_free_seats(organiser, people):
    event = make_event(organiser, 3, guests_allowed=3)
    client = logged_in(people[0])
    post(client, event, "rsvp", guests="1")
    services.rsvp(event_id=event.pk, user_id=people[1].pk)  # the last seat

    page = post(client, event, "change_party", guests="2")

    assert outcomes(page) == ["full"]
    assert "Event is full" in page
    assert parties(event) == {people[0].pk: 1, people[1].pk: 0}


def test_shrinking_a_party_seats_the_first_waiting_and_emails_them(organiser, people):
    event = make_event(organiser, 3, guests_allowed=2)
    client = logged_in(people[0])
    post(client, event, "rsvp", guests="2")
    waiting = people[1]
    services.join_waitlist(event_id=event.pk, user_id=waiting.pk)
    mail.outbox.clear()

    page = post(client, event, "change_party", guests="1")

    assert outcomes(page) == ["party_changed"]
    assert parties(event) == {people[0].pk: 1, waiting.pk: 0}
    assert ledger.waitlist(event.pk) == []
    assert Rsvp.objects.get(event=event, user=waiting).status == Rsvp.Status.GOING
    promoted = [m for m in mail.outbox if "seat freed up" in m.subject]
    assert [m.to for m in promoted] == [[waiting.email]]


def test_a_party_change_counts_against_the_seat_action_limit(settings, organiser, people):
    settings.SEAT_ACCOUNT_RATE_LIMIT = "2/30d"
    settings.SEAT_ADDRESS_RATE_LIMIT = "1000/30d"
    event = make_event(organiser, 5, guests_allowed=2)
    client = logged_in(people[0])
    post(client, event, "rsvp")
    post(client, event, "change_party", guests="1")

    page = post(client, event, "change_party", guests="2")  # the third: refused

    assert "changing seats too quickly" in page
    assert parties(event) == {people[0].pk: 1}


def test_my_rsvps_says_each_party(organiser, people):
    going = make_event(organiser, 5, guests_allowed=2, title="With friends")
    waits = make_event(organiser, 1, guests_allowed=2, title="Packed")
    services.rsvp(event_id=waits.pk, user_id=people[1].pk)
    services.rsvp(event_id=going.pk, user_id=people[0].pk, guests=1)
    services.join_waitlist(event_id=waits.pk, user_id=people[0].pk, guests=2)

    page = unescape(logged_in(people[0]).get(reverse("events:my_rsvps")).content.decode())

    assert "Your RSVP is for you + 1 guest." in page
    assert "Waiting as you + 2 guests." in page
