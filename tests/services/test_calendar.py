"""Add to calendar: an event's .ics, its Google Calendar link, and a user's secret feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from events import calendar, services
from events.models import Event
from events.services import check_ins
from tests.helpers import logged_in, make_event, make_users

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Tue 2 Dec 2031, 18:30 – 21:00 in Berlin (CET, UTC+1): 17:30 – 20:00 UTC.
START = datetime(2031, 12, 2, 18, 30, tzinfo=BERLIN)
END = datetime(2031, 12, 2, 21, tzinfo=BERLIN)


@pytest.fixture
def event(organiser) -> Event:
    return services.create_event(
        capacity=3,
        organiser=organiser,
        title="Berlin evening",
        description="Bring *snacks*.",
        venue="Kulturbrauerei, Berlin",
        time_zone="Europe/Berlin",
        starts_at=START,
        ends_at=END,
    )


def only_vevent(body: bytes) -> icalendar.Event:
    (vevent,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    return vevent


def test_the_event_ics_reads_back_field_by_field(client, event, settings):
    settings.SITE_URL = "https://events.example.org"
    response = client.get(reverse("events:event_ics", args=[event.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="event-{event.pk}.ics"' in response["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal["METHOD"] == "PUBLISH" and cal["VERSION"] == "2.0"
    vevent = only_vevent(response.content)
    assert vevent["UID"] == f"event-{event.pk}@events.example.org"
    assert vevent.decoded("DTSTART") == datetime(2031, 12, 2, 17, 30, tzinfo=UTC)
    assert vevent.decoded("DTSTART").utcoffset() == timedelta(0), "written in UTC"
    assert vevent.decoded("DTEND") == datetime(2031, 12, 2, 20, tzinfo=UTC)
    assert vevent["SUMMARY"] == "Berlin evening"
    assert vevent["LOCATION"] == "Kulturbrauerei, Berlin"
    assert vevent["URL"] == f"https://events.example.org/events/{event.pk}/"
    assert vevent["DESCRIPTION"].startswith("Bring *snacks*.")
    assert vevent["SEQUENCE"] == 0 and vevent["STATUS"] == "CONFIRMED"
    assert b"DTSTART:20311202T173000Z" in response.content


def test_an_event_without_an_end_lasts_the_default_three_hours(organiser):
    event = make_event(organiser, 1, ends_at=None)
    vevent = only_vevent(calendar.event_ics(event))
    assert vevent.decoded("DTEND") - vevent.decoded("DTSTART") == timedelta(hours=3)


def test_sequence_rises_when_what_a_calendar_shows_changes_and_only_then(event):
    event.refresh_from_db()
    event.attendees_public = True
    event.save()
    assert event.sequence == 0, "not shown in a calendar: no new version"

    event.starts_at += timedelta(hours=1)
    event.save()
    event.venue = "Elsewhere"
    event.save(update_fields=["venue"])

    event.refresh_from_db()
    assert event.sequence == 2
    assert only_vevent(calendar.event_ics(event))["SEQUENCE"] == 2


def test_a_cancel_ics_outranks_the_invitation(event):
    body = calendar.event_ics(event, method=calendar.CANCEL)
    assert icalendar.Calendar.from_ical(body)["METHOD"] == "CANCEL"
    vevent = only_vevent(body)
    assert vevent["STATUS"] == "CANCELLED" and vevent["SEQUENCE"] == event.sequence + 1


def test_the_google_link_carries_the_event_in_utc(event):
    url = urlsplit(calendar.google_url(event))
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://calendar.google.com/calendar/render"
    assert query["action"] == "TEMPLATE"
    assert query["text"] == "Berlin evening"
    assert query["dates"] == "20311202T173000Z/20311202T200000Z"
    assert query["location"] == "Kulturbrauerei, Berlin"
    assert query["details"].endswith(event.get_absolute_url())


def test_the_event_page_links_both(client, event):
    html = client.get(event.get_absolute_url()).content.decode()
    assert reverse("events:event_ics", args=[event.pk]) in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html


# --- The personal feed ------------------------------------------------------------------


def feed_page(user) -> tuple[Client, str, str]:
    """The user's signed-in client and the feed's https and webcal addresses on its page."""
    client = Client()
    client.force_login(user)
    html = client.get(reverse("events:calendar_feed_settings")).content.decode()
    token = services.calendar_feed(user=user).token
    path = reverse("events:calendar_feed", args=[token])
    assert "webcal://" in html and path in html
    return client, path, html


def test_the_feed_lists_only_what_the_user_is_going_to(organiser):
    alice, bob = make_users(2, prefix="feed")
    going = make_event(organiser, 2, title="Going")
    cancelled = make_event(organiser, 2, title="Cancelled")
    waiting = make_event(organiser, 1, title="Waiting")
    make_event(organiser, 2, title="Not mine")
    for event in (going, cancelled):
        services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.cancel_rsvp(event_id=cancelled.pk, user_id=alice.pk)
    services.rsvp(event_id=waiting.pk, user_id=bob.pk)
    services.join_waitlist(event_id=waiting.pk, user_id=alice.pk)
    past = make_event(organiser, 2, title="Last week", days=-7)
    services.rsvp(event_id=make_event(organiser, 2, title="Bob's").pk, user_id=bob.pk)
    # A past event's record, as it stood when the event began (no RSVP after the start).
    past.rsvps.create(user=alice, status="going")

    _, path, _ = feed_page(alice)
    response = Client().get(path)  # a calendar app: no session

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert "METHOD" not in cal, "a feed is not a message"
    assert cal.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    titles = sorted(str(vevent["SUMMARY"]) for vevent in cal.walk("VEVENT"))
    assert titles == ["Going", "Last week"]
    uids = {str(vevent["UID"]) for vevent in cal.walk("VEVENT")}
    assert uids == {calendar.uid(going), calendar.uid(past)}
    for vevent in cal.walk("VEVENT"):  # the subscriber's own code, for the door
        event = going if str(vevent["UID"]) == calendar.uid(going) else past
        assert check_ins.code_for(event.pk, alice.pk) in str(vevent["DESCRIPTION"])
    own_copy = logged_in(alice).get(reverse("events:event_ics", args=[going.pk]))
    assert check_ins.code_for(going.pk, alice.pk) in own_copy.content.decode().replace("\r\n ", "")
    assert (
        "Check-in code"
        not in Client().get(reverse("events:event_ics", args=[going.pk])).content.decode()
    )


def test_resetting_the_feed_retires_the_old_address():
    (alice,) = make_users(1, prefix="reset")
    client, old_path, _ = feed_page(alice)
    assert Client().get(old_path).status_code == 200

    response = client.post(reverse("events:calendar_feed_settings"), follow=True)

    assert "new address" in response.content.decode()
    new_path = reverse("events:calendar_feed", args=[services.calendar_feed(user=alice).token])
    assert new_path != old_path and new_path in response.content.decode()
    assert Client().get(old_path).status_code == 404
    assert Client().get(new_path).status_code == 200


def test_the_feed_page_needs_a_login_and_a_made_up_token_finds_nothing(client):
    response = client.get(reverse("events:calendar_feed_settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("events:calendar_feed", args=["made-up"])).status_code == 404


def test_the_google_link_carries_only_the_opening_of_a_long_description(event):
    event.description = "Our programme. " + "A long agenda line. " * 900  # 18,000 characters
    url = urlsplit(calendar.google_url(event))
    details = parse_qs(url.query)["details"][0]

    opening, page = details.split("\n\n")
    assert len(opening) == calendar.GOOGLE_DETAILS_CHARS and opening.endswith("…")
    assert opening.startswith("Our programme. A long agenda line.")
    assert page == calendar.event_url(event)
    assert len(calendar.google_url(event)) < 4_000
