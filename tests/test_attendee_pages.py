"""What attendees expect of the pages, in-process: each rough corner, smoothed.

A stale form's friendly 403, the cancel confirmation, plural wording,
"You're going" said once, events happening now, past RSVPs, the seats
fragment the live update swaps in, and the account menu. allauth's forms are
in tests/test_accounts.py; GET on seat URLs and the 405 page in
tests/test_rsvp_pages.py; the browser side in tests/test_browser_pages.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from events import errors, ledger, selectors, services, views
from events.models import Event
from tests.helpers import csrf_token, logged_in, make_event, make_users, outcomes

pytestmark = pytest.mark.django_db

DATA_STATE = re.compile(r'id="seats"[^>]* data-state="([^"]*)"')


@pytest.fixture
def organiser():
    return get_user_model().objects.create_user("org", "org@example.com", "pw", is_staff=True)


def text_of(response) -> str:
    return unescape(response.content.decode())


def started(event: Event, ago: timedelta, ends_in: timedelta | None = None) -> Event:
    """Move an event into the past (RSVPs to it are refused once it starts)."""
    now = timezone.now()
    ends_at = now + ends_in if ends_in is not None else None
    Event.objects.filter(pk=event.pk).update(starts_at=now - ago, ends_at=ends_at)
    event.refresh_from_db()
    return event


# --- A stale form ----------------------------------------------------------------


@pytest.mark.parametrize("form", ["rsvp", "login"])
def test_a_stale_form_gets_a_friendly_page_with_a_way_back(organiser, form):
    (member,) = make_users(1, prefix="stale")
    event = make_event(organiser, 5)
    client = (
        logged_in(member, enforce_csrf_checks=True)
        if form == "rsvp"
        else Client(enforce_csrf_checks=True)
    )
    page_url = event.get_absolute_url() if form == "rsvp" else reverse("account_login")
    client.get(page_url)  # the page, and its CSRF cookie
    target = reverse("events:rsvp", args=[event.pk]) if form == "rsvp" else page_url
    # Logging in elsewhere rotated the token: the tab still holds the old one.
    response = client.post(
        target,
        {"csrfmiddlewaretoken": "x" * 64, "login": "stale0", "password": "-"},
        headers={"Referer": f"http://testserver{page_url}"},
    )

    assert response.status_code == 403
    page = text_of(response)
    assert "This page was out of date" in page and "nothing was changed" in page
    assert f'href="http://testserver{page_url}" id="reload-link"' in page
    assert 'class="topbar"' in page, "in the site's layout"
    assert "CSRF verification failed" not in page
    assert ledger.attendees(event.pk) == []


def test_without_a_csrf_cookie_the_page_says_to_accept_cookies(organiser):
    (member,) = make_users(1, prefix="nocookie")
    event = make_event(organiser, 5)
    response = logged_in(member, enforce_csrf_checks=True).post(
        reverse("events:rsvp", args=[event.pk])
    )
    assert response.status_code == 403
    assert "accepts cookies" in text_of(response)
    # No Referer: reloading means this URL, whose GET leads back to the event.
    assert f'href="{reverse("events:rsvp", args=[event.pk])}" id="reload-link"' in text_of(response)


def test_a_csrf_failure_under_the_api_is_json():
    request = RequestFactory().post("/api/events/1/somewhere")
    response = errors.csrf_failure(request, reason="CSRF token missing.")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.content == (
        b'{"message": "The page you sent this from was out of date. Reload it and try again.",'
        b' "code": "csrf_failed"}'
    )


# --- Cancel RSVP asks first when the seat is scarce ------------------------------


def test_cancel_on_a_full_event_asks_first_without_javascript(organiser):
    event = make_event(organiser, 1, title="Tiny")
    alice, bob = make_users(2, prefix="confirm")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    client = logged_in(alice)
    cancel_url = reverse("events:cancel", args=[event.pk])

    page = text_of(client.get(event.get_absolute_url()))
    assert f'<a class="button secondary" id="cancel-button" href="{cancel_url}"' in page
    assert 'data-confirm="Cancel your RSVP? The event is full and 1 person is waiting' in page

    confirm = client.get(cancel_url)
    assert confirm.status_code == 200
    text = text_of(confirm)
    assert "Cancel your RSVP?" in text and "1 person is waiting" in text
    assert f'<form method="post" action="{cancel_url}"' in text
    assert [a.user_id for a in ledger.attendees(event.pk)] == [alice.pk], "asking changes nothing"

    done = client.post(cancel_url, {"csrfmiddlewaretoken": csrf_token(text)}, follow=True)
    assert outcomes(done.content.decode()) == ["cancelled"]
    assert [a.user_id for a in ledger.attendees(event.pk)] == [bob.pk]


def test_cancel_with_seats_left_is_one_click(organiser):
    event = make_event(organiser, 3)
    (alice,) = make_users(1, prefix="oneclick")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    page = text_of(logged_in(alice).get(event.get_absolute_url()))
    assert '<button type="submit" class="secondary" id="cancel-button">Cancel RSVP</button>' in page
    assert "data-confirm" not in page


def test_the_confirm_page_leads_away_when_there_is_nothing_to_cancel(organiser):
    event = make_event(organiser, 3)
    (alice,) = make_users(1, prefix="nothing")
    cancel_url = reverse("events:cancel", args=[event.pk])
    assert logged_in(alice).get(cancel_url)["Location"] == event.get_absolute_url()
    assert Client().get(cancel_url)["Location"].startswith(reverse("account_login"))


# --- Words -----------------------------------------------------------------------


def test_a_capacity_zero_event_says_there_are_no_seats_once(organiser):
    event = make_event(organiser, 0, title="Not yet", attendees_public=True)
    page = text_of(Client().get(event.get_absolute_url()))
    assert "No seats yet" in page
    assert "0 of 0" not in page and "Be the first" not in page and "Full" not in page
    assert "Nobody is going." in page
    (member,) = make_users(1, prefix="zero")
    member_page = text_of(logged_in(member).get(event.get_absolute_url()))
    assert "There are no seats yet. Join the waiting list" in member_page
    assert "Every seat is taken" not in member_page


def test_an_open_event_with_nobody_going_invites_the_first(organiser):
    event = make_event(organiser, 2, attendees_public=True)
    assert "Nobody yet. Be the first!" in text_of(Client().get(event.get_absolute_url()))


@pytest.mark.parametrize(
    ("going", "message"),
    [
        (1, "1 person is already going, so capacity cannot be lower than 1."),
        (2, "2 people are already going, so capacity cannot be lower than 2."),
    ],
)
def test_refused_capacity_is_said_with_the_right_plural(organiser, going, message):
    event = make_event(organiser, 3)
    for user in make_users(going, prefix=f"plural{going}-"):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    with pytest.raises(services.CapacityError) as refused:
        services.set_capacity(event_id=event.pk, capacity=0)
    assert str(refused.value) == message


def test_after_an_rsvp_youre_going_is_said_once(organiser):
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="once")
    client = logged_in(alice)
    answer = text_of(client.post(reverse("events:rsvp", args=[event.pk]), follow=True))
    assert answer.count("You're going") == 1, "the message alone says it"
    assert '<p class="going">' not in answer
    again = text_of(client.get(event.get_absolute_url()))
    assert again.count("You're going") == 1, "the page's status line alone says it"
    assert '<p class="going">You\'re going.</p>' in again


# --- Happening now and past RSVPs ------------------------------------------------


def test_home_page_shows_what_is_happening_now(organiser, monkeypatch):
    running = started(make_event(organiser, 5, title="No end, 1 h in"), timedelta(hours=1))
    long = started(
        make_event(organiser, 5, title="Ends in an hour"), timedelta(hours=5), timedelta(hours=1)
    )
    started(make_event(organiser, 5, title="No end, 4 h in"), timedelta(hours=4))
    started(make_event(organiser, 5, title="Ended"), timedelta(hours=2), -timedelta(hours=1))
    make_event(organiser, 5, title="Tomorrow", days=1)

    page = text_of(Client().get(reverse("events:list")))

    happening = page[page.index("Happening now</h2>") : page.index("Coming up")]
    assert running.title in happening and long.title in happening
    assert "No end, 4 h in" not in page and "Ended" not in page
    assert "Tomorrow" in page[page.index("Coming up") :]
    assert [c.event for c in selectors.happening_now()] == [long, running], "ending first first"
    make_event(organiser, 5, title="The day after", days=2)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    assert "Happening now" not in text_of(Client().get(reverse("events:list") + "?page=2"))


def test_my_rsvps_has_a_past_tab_from_the_record(organiser):
    (alice, bob) = make_users(2, prefix="past")
    went = make_event(organiser, 1, title="Went to this")
    cancelled = make_event(organiser, 3, title="Cancelled this")
    waited = make_event(organiser, 1, title="Only waited")
    upcoming = make_event(organiser, 3, title="Still to come")
    services.rsvp(event_id=went.pk, user_id=alice.pk)
    services.rsvp(event_id=cancelled.pk, user_id=alice.pk)
    services.cancel_rsvp(event_id=cancelled.pk, user_id=alice.pk)
    services.rsvp(event_id=waited.pk, user_id=bob.pk)
    services.join_waitlist(event_id=waited.pk, user_id=alice.pk)
    services.rsvp(event_id=upcoming.pk, user_id=alice.pk)
    for event in (went, cancelled, waited):
        started(event, timedelta(days=2))
    client = logged_in(alice)

    past = text_of(client.get(reverse("events:my_past_rsvps")))
    assert "Went to this" in past
    assert "Cancelled this" not in past and "Only waited" not in past
    assert "Still to come" not in past
    assert f'href="{reverse("events:my_past_rsvps")}" aria-current="page">Past' in past

    upcoming_tab = text_of(client.get(reverse("events:my_rsvps")))
    assert "Still to come" in upcoming_tab and "Went to this" not in upcoming_tab
    assert f'href="{reverse("events:my_rsvps")}" aria-current="page">Upcoming' in upcoming_tab


# --- The live update's fragment --------------------------------------------------


def test_seats_fragment_is_the_pages_line_and_buttons_with_the_apis_state(organiser):
    """live-seats.js compares data-state with the JSON: the two must agree on every field."""
    event = make_event(organiser, 1)
    alice, bob = make_users(2, prefix="fragment")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)

    for client in (Client(), logged_in(bob)):
        fragment = client.get(reverse("events:seats", args=[event.pk]))
        assert fragment.status_code == 200
        assert "no-cache" in fragment["Cache-Control"]
        html = fragment.content.decode()
        assert 'id="seats"' in html and 'id="actions"' in html and "<html" not in html
        data = client.get(f"/api/events/{event.pk}/").json()
        position = data.get("waitlist_position")
        api_state = " ".join(
            str(v)
            for v in (
                data["seats_taken"],
                data["capacity"],
                data["waiting"],
                int(bool(data.get("going"))),
                "" if position is None else position,
            )
        )
        assert DATA_STATE.search(html)[1] == api_state
        page = client.get(event.get_absolute_url()).content.decode()
        assert DATA_STATE.search(page)[1] == api_state
        assert f'data-poll="/api/events/{event.pk}/"' in page
    assert "Leave the waiting list" in html, "the member's own buttons"


def test_started_events_are_not_polled(organiser):
    event = started(make_event(organiser, 3), timedelta(minutes=5))
    page = Client().get(event.get_absolute_url()).content.decode()
    assert 'id="seats"' in page and "data-poll" not in page
    assert "Happening now" in page


# --- The account menu ------------------------------------------------------------


def test_account_menu_links_the_account_pages():
    (member,) = make_users(1, prefix="menu")
    client = logged_in(member)
    page = text_of(client.get(reverse("events:list")))
    menu = page[page.index('<details class="account-menu">') : page.index("</details>")]
    for url_name in ("account_email", "account_change_password"):
        assert f'href="{reverse(url_name)}"' in menu
        assert client.get(reverse(url_name)).status_code == 200
    assert f'action="{reverse("account_logout")}"' in menu and "menu0" in menu
    assert "account-menu" not in text_of(Client().get(reverse("events:list")))
