"""A draw on the pages: entering, withdrawing, what each page says before and after the draw."""

from __future__ import annotations

import hashlib
import hmac
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from events import ledger, services
from events.models import Event
from events.services import draws
from tests.helpers import (
    draw_time_comes,
    logged_in,
    make_users,
    opening_with_a_draw,
    outcomes,
)

pytestmark = pytest.mark.django_db


def page(client: Client, event) -> str:
    return unescape(client.get(event.get_absolute_url()).content.decode())


def post(client: Client, event, action: str, data: dict | None = None) -> str:
    response = client.post(reverse(f"events:{action}", args=[event.pk]), data or {}, follow=True)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_before_the_draw_an_rsvp_is_an_entry_that_can_be_withdrawn(organiser):
    event = opening_with_a_draw(organiser, 2)
    (alice,) = make_users(1, prefix="draw-page")
    client = logged_in(alice)
    before = page(client, event)
    assert "0 entered for 2 seats" in before and "Enter the draw" in before
    assert 'id="rsvp-button"' not in before and "Join the waiting list" not in before
    assert "entering early gives no better chance" in before

    entered = post(client, event, "rsvp")
    assert outcomes(entered) == ["entered"]
    assert "You're in the draw." in entered and "Withdraw from the draw" in entered
    assert "1 entered for 2 seats" in entered and "Enter the draw" not in entered
    assert ledger.seats([event.pk])[event.pk].taken == 0, "an entry holds no seat"
    assert outcomes(post(client, event, "join_waitlist")) == ["already_entered"]

    withdrawn = post(client, event, "cancel")
    assert outcomes(withdrawn) == ["entry_withdrawn"]
    assert "Enter the draw" in withdrawn and "0 entered for 2 seats" in withdrawn


def test_a_party_enters_together_and_my_rsvps_and_the_list_show_the_entry(organiser):
    event = opening_with_a_draw(organiser, 4, guests_allowed=2, title="Drawn gig")
    (alice,) = make_users(1, prefix="draw-party")
    client = logged_in(alice)
    post(client, event, "rsvp", {"guests": "1"})
    assert "You're in the draw for you + 1 guest." in page(client, event)
    mine = unescape(client.get(reverse("events:my_rsvps")).content.decode())
    section = mine.split("<h2>In a draw</h2>", 1)
    assert len(section) == 2, "a section of its own"
    assert "Drawn gig" in section[1] and "Withdraw from the draw" in section[1]
    assert "Entered as you + 1 guest." in section[1]
    listed = unescape(client.get(reverse("events:list")).content.decode())
    assert "In the draw" in listed and "1 entered for 4 seats" in listed


def test_a_visitor_is_asked_to_log_in_to_enter(organiser):
    event = opening_with_a_draw(organiser, 3)
    html = page(Client(), event)
    assert "Log in to enter the draw" in html and "0 entered for 3 seats" in html


def test_after_the_draw_the_page_shows_how_to_redo_it(organiser):
    event = opening_with_a_draw(organiser, 2)
    people = make_users(5, prefix="redo")
    for user in people:
        post(logged_in(user), event, "rsvp")
    assert "draw-proof" not in page(Client(), event), "the seed is secret until the draw"
    draw_time_comes(event)
    draws.hold_draw(event_id=event.pk)

    html = page(Client(), event)
    seed = re.search(r'<code class="draw-seed">([^<]+)</code>', html).group(1)
    assert seed == Event.objects.get(pk=event.pk).draw_seed

    # The page's own recipe: HMAC-SHA256(key=seed, the account number), its first 53 bits.
    def ticket(user_id: int) -> float:
        digest = hmac.new(seed.encode(), str(user_id).encode(), hashlib.sha256).digest()
        return (int.from_bytes(digest[:8], "big") >> 11) / 2**53

    order = sorted((user.pk for user in people), key=ticket)
    assert [a.user_id for a in ledger.roster(event.pk).attendees] == order[:2]
    assert ledger.waitlist(event.pk) == order[2:], "the others in line, in ticket order"
    seated = logged_in(next(user for user in people if user.pk == order[0]))
    assert "You're going." in page(seated, event)
    assert "Enter the draw" not in html and "entered for" not in html


def test_the_admin_shows_the_entries_then_the_seed(organiser, admin_client):
    event = opening_with_a_draw(organiser, 2)
    (alice,) = make_users(1, prefix="admin-draw")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    url = reverse("admin:events_event_change", args=[event.pk])
    assert "1 entered for 2 seats so far." in unescape(admin_client.get(url).content.decode())
    draw_time_comes(event)
    draws.hold_draw(event_id=event.pk)
    seed = Event.objects.get(pk=event.pk).draw_seed
    assert f"Seed (shown on the event page): {seed}" in admin_client.get(url).content.decode()
