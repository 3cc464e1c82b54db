"""RSVP through the pages, in-process: each behaviour and each refusal."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from events import ledger
from tests.helpers import logged_in, make_event, make_users, outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return get_user_model().objects.create_user("org", "org@example.com", "pw", is_staff=True)


@pytest.fixture
def alice_bob():
    return make_users(2, prefix="member")


def post_rsvp(client: Client, event, action: str = "rsvp") -> list[str]:
    response = client.post(reverse(f"events:{action}", args=[event.pk]), follow=True)
    assert response.status_code == 200
    return outcomes(response.content.decode())


def test_list_shows_seats_left_and_full_badge(organiser, alice_bob):
    roomy = make_event(organiser, 3, title="Roomy")
    tiny = make_event(organiser, 1, title="Tiny")
    post_rsvp(logged_in(alice_bob[0]), tiny)
    html = Client().get(reverse("events:list")).content.decode()
    assert "Roomy" in html and "3 seats left" in html
    assert "Tiny" in html and "Full" in html
    assert roomy.starts_at.strftime("%Y") in html


def test_rsvp_confirms_and_updates_seats(organiser, alice_bob):
    event = make_event(organiser, 2)
    client = logged_in(alice_bob[0])
    assert post_rsvp(client, event) == ["confirmed"]
    page = client.get(event.get_absolute_url()).content.decode()
    assert "You're going" in unescape(page) and "1 seat left" in page
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice_bob[0].pk]


def test_second_click_changes_nothing(organiser, alice_bob):
    event = make_event(organiser, 2)
    client = logged_in(alice_bob[0])
    post_rsvp(client, event)
    response = client.post(reverse("events:rsvp", args=[event.pk]), follow=True)
    assert outcomes(response.content.decode()) == ["already_going"]
    assert "You're already going" in unescape(response.content.decode())
    assert ledger.seats([event.pk])[event.pk].taken == 1


def test_full_event_without_a_waiting_list_refuses_and_shows_disabled_button(organiser, alice_bob):
    event = make_event(organiser, 1, waitlist_limit=0)
    alice, bob = alice_bob
    assert post_rsvp(logged_in(alice), event) == ["confirmed"]
    bob_client = logged_in(bob)
    assert post_rsvp(bob_client, event) == ["full"]
    page = bob_client.get(event.get_absolute_url()).content.decode()
    assert '<button type="button" disabled>Full</button>' in page
    assert "This event has no waiting list." in page
    assert "Join the waiting list" not in page
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk]


def test_cancel_then_rsvp_again(organiser, alice_bob):
    event = make_event(organiser, 1)
    client = logged_in(alice_bob[0])
    assert post_rsvp(client, event) == ["confirmed"]
    assert post_rsvp(client, event, "cancel") == ["cancelled"]
    assert ledger.attendees(event.pk) == []
    assert post_rsvp(client, event, "cancel") == ["not_going"]
    assert post_rsvp(client, event) == ["confirmed"]


def test_cancel_frees_a_seat_another_user_then_gets(organiser, alice_bob):
    event = make_event(organiser, 1)
    alice, bob = (logged_in(u) for u in alice_bob)
    assert post_rsvp(alice, event) == ["confirmed"]
    assert post_rsvp(bob, event) == ["full"]
    assert post_rsvp(alice, event, "cancel") == ["cancelled"]
    assert post_rsvp(bob, event) == ["confirmed"]
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice_bob[1].pk]


def test_my_rsvps_lists_what_the_user_is_going_to(organiser, alice_bob):
    going = make_event(organiser, 5, title="Going to this")
    make_event(organiser, 5, title="Not this one")
    client = logged_in(alice_bob[0])
    post_rsvp(client, going)
    html = client.get(reverse("events:my_rsvps")).content.decode()
    assert "Going to this" in html and "Not this one" not in html


def test_attendees_shown_only_when_public(organiser, alice_bob):
    public = make_event(organiser, 5, attendees_public=True)
    private = make_event(organiser, 5)
    client = logged_in(alice_bob[0])
    post_rsvp(client, public)
    post_rsvp(client, private)
    assert "Who is going" in client.get(public.get_absolute_url()).content.decode()
    assert "Who is going" not in client.get(private.get_absolute_url()).content.decode()


def test_unauthenticated_rsvp_redirects_to_login(organiser):
    event = make_event(organiser, 5)
    response = Client().post(reverse("events:rsvp", args=[event.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert ledger.attendees(event.pk) == []


def test_post_without_csrf_token_is_refused(organiser, alice_bob):
    event = make_event(organiser, 5)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_bob[0])
    response = client.post(reverse("events:rsvp", args=[event.pk]))
    assert response.status_code == 403
    assert ledger.attendees(event.pk) == []


@pytest.mark.parametrize("path", ["/events/999999/", "/events/abc/", "/events/1e3/rsvp/"])
def test_unknown_or_malformed_event_is_404_page(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert b"Not found" in response.content


def test_rsvp_to_unknown_event_is_404(alice_bob):
    response = logged_in(alice_bob[0]).post(reverse("events:rsvp", args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["rsvp", "join_waitlist", "leave_waitlist", "change_party"])
def test_get_on_a_seat_url_leads_to_the_event_page(organiser, alice_bob, action):
    """A reload of a POST's answer, or a shared link: the page, never an empty 405."""
    event = make_event(organiser, 5)
    for client in (Client(), logged_in(alice_bob[0])):
        response = client.get(reverse(f"events:{action}", args=[event.pk]))
        assert response.status_code == 302
        assert response["Location"] == event.get_absolute_url()
    assert ledger.attendees(event.pk) == [] and ledger.waitlist(event.pk) == []


def test_other_methods_get_the_sites_405_page(organiser, alice_bob):
    event = make_event(organiser, 5)
    client = logged_in(alice_bob[0])
    for url in (reverse("events:rsvp", args=[event.pk]), event.get_absolute_url()):
        response = client.put(url)
        assert response.status_code == 405
        page = response.content.decode()
        assert "This address can't do that" in unescape(page) and 'class="topbar"' in page
    assert response["Allow"] == "GET, HEAD"
    # The API's 405 stays JSON.
    response = client.put(f"/api/events/{event.pk}/rsvp")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_past_event_refuses_rsvp(organiser, alice_bob):
    event = make_event(organiser, 5, days=-1)
    client = logged_in(alice_bob[0])
    assert post_rsvp(client, event) == ["event_past"]
    assert ledger.attendees(event.pk) == []
    assert "RSVPs are closed" in client.get(event.get_absolute_url()).content.decode()
    assert event.title not in Client().get(reverse("events:list")).content.decode()


# --- The waiting list ------------------------------------------------------------


def test_losing_the_last_seat_offers_the_waiting_list_then_shows_the_place(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol = make_users(3, prefix="wlpage")
    post_rsvp(logged_in(alice), event)
    bob_client = logged_in(bob)
    response = bob_client.post(reverse("events:rsvp", args=[event.pk]), follow=True)
    page = unescape(response.content.decode())
    assert outcomes(page) == ["full"]
    assert "Join the waiting list" in page and 'id="rsvp-button"' not in page

    post_rsvp(logged_in(carol), event, "join_waitlist")
    assert post_rsvp(bob_client, event, "join_waitlist") == ["waitlisted"]
    page = unescape(bob_client.get(event.get_absolute_url()).content.decode())
    assert "You're #2 on the waiting list." in page
    assert "Leave the waiting list" in page
    assert "(1 of 1 taken, 2 on the waiting list)" in page
    assert post_rsvp(bob_client, event, "join_waitlist") == ["already_waiting"]


def test_leaving_the_list_and_being_promoted_through_the_pages(organiser):
    event = make_event(organiser, 1)
    alice, bob, carol = make_users(3, prefix="wlmove")
    alice_client, bob_client, carol_client = (logged_in(u) for u in (alice, bob, carol))
    post_rsvp(alice_client, event)
    post_rsvp(bob_client, event, "join_waitlist")
    post_rsvp(carol_client, event, "join_waitlist")
    assert post_rsvp(bob_client, event, "leave_waitlist") == ["left_waitlist"]
    assert post_rsvp(bob_client, event, "leave_waitlist") == ["not_waiting"]
    assert post_rsvp(alice_client, event, "cancel") == ["cancelled"]
    page = unescape(carol_client.get(event.get_absolute_url()).content.decode())
    assert "You're going." in page and "waiting list" not in page.split("</h1>")[1]
    assert [a.user_id for a in ledger.attendees(event.pk)] == [carol.pk]


def test_list_and_my_rsvps_show_places_on_waiting_lists(organiser):
    event = make_event(organiser, 1, title="Packed")
    make_event(organiser, 5, title="Roomy")
    alice, bob = make_users(2, prefix="wlmine")
    post_rsvp(logged_in(alice), event)
    bob_client = logged_in(bob)
    post_rsvp(bob_client, event, "join_waitlist")
    listing = unescape(bob_client.get(reverse("events:list")).content.decode())
    assert "#1 on the waiting list" in listing
    assert "1 waiting" in unescape(Client().get(reverse("events:list")).content.decode())
    mine = unescape(bob_client.get(reverse("events:my_rsvps")).content.decode())
    assert "On waiting lists" in mine and "Packed" in mine and "Roomy" not in mine
    assert "#1 on the waiting list" in mine and "Leave the waiting list" in mine


def test_list_marks_come_from_the_record_and_only_a_place_in_line_asks_the_ledger(
    organiser, monkeypatch
):
    going_to, waiting_at = make_event(organiser, 1, title="Going"), make_event(organiser, 1)
    make_event(organiser, 5, title="Other")
    alice, bob = make_users(2, prefix="marks")
    post_rsvp(logged_in(alice), waiting_at)
    bob_client = logged_in(bob)
    post_rsvp(bob_client, going_to)
    post_rsvp(bob_client, waiting_at, "join_waitlist")
    asked = []
    monkeypatch.setattr(
        ledger, "standing", lambda *args, f=ledger.standing: asked.append(args) or f(*args)
    )

    listing = unescape(bob_client.get(reverse("events:list")).content.decode())

    assert listing.count("You're going") == 1 and "#1 on the waiting list" in listing
    assert asked == [(waiting_at.pk, bob.pk)]
