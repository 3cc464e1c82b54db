"""An event's times: shown in its zone, an RSVP deadline, and what the admin refuses.

Descriptions, map and join links and link previews: tests/pages/test_event_descriptions.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from events import ledger, services, times
from events.models import Event
from tests.helpers import bearer, logged_in, make_event, make_users, outcomes

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# --- One way to write a time: events.times ------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (berlin(2026, 12, 1, 18, 30), berlin(2026, 12, 1, 21), "Tue 1 Dec 2026, 18:30 – 21:00 CET"),
        (berlin(2026, 12, 1, 18, 30), None, "Tue 1 Dec 2026, 18:30 CET"),
        # Overnight and multi-day: the end carries its own date.
        (
            berlin(2026, 12, 1, 22),
            berlin(2026, 12, 2, 2),
            "Tue 1 Dec 2026, 22:00 – Wed 2 Dec 2026, 02:00 CET",
        ),
        (
            berlin(2026, 12, 4, 9),
            berlin(2026, 12, 6, 17),
            "Fri 4 Dec 2026, 09:00 – Sun 6 Dec 2026, 17:00 CET",
        ),
        # The clocks go forward at 02:00 on 29 March 2026: each side names its own zone.
        (
            berlin(2026, 3, 28, 22),
            berlin(2026, 3, 29, 4),
            "Sat 28 Mar 2026, 22:00 CET – Sun 29 Mar 2026, 04:00 CEST",
        ),
        (berlin(2026, 3, 29, 1), berlin(2026, 3, 29, 5), "Sun 29 Mar 2026, 01:00 CET – 05:00 CEST"),
    ],
    ids=["same day", "no end", "overnight", "multi-day", "dst overnight", "dst same day"],
)
def test_span_reads_right(start, end, expected):
    assert times.span(start, end, BERLIN) == expected


def test_times_are_shown_in_the_events_zone_whatever_the_instant_was_given_in():
    utc_start = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    assert times.span(utc_start, utc_start + 2 * HOUR, BERLIN) == (
        "Tue 1 Dec 2026, 18:30 – 20:30 CET"
    )
    assert times.moment(utc_start, ZoneInfo("America/New_York")) == "Tue 1 Dec 2026, 12:30 EST"
    assert times.iso(utc_start, BERLIN) == "2026-12-01T18:30:00+01:00"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [("Asia/Istanbul", "Tue 1 Dec 2026, 20:30 UTC+03"), ("Asia/Kathmandu", "23:15 UTC+05:45")],
)
def test_zones_without_letters_are_named_by_their_offset(zone, expected):
    assert times.moment(datetime(2026, 12, 1, 17, 30, tzinfo=UTC), ZoneInfo(zone)).endswith(
        expected
    )


def test_only_real_zone_names_are_offered():
    assert {"Europe/Berlin", "UTC", "America/Sao_Paulo"} <= times.zone_names()
    assert not {"localtime", "Factory"} & times.zone_names()


# --- On the pages ---------------------------------------------------------------------


@pytest.fixture
def members():
    return make_users(3, prefix="details")


def berlin_event(organiser, **fields) -> Event:
    """Tue 2 Dec 2031, 18:30 – 21:00 in Berlin: far enough ahead to stay upcoming."""
    fields = {
        "starts_at": berlin(2031, 12, 2, 18, 30),
        "ends_at": berlin(2031, 12, 2, 21),
        **fields,
    }
    return services.create_event(
        capacity=fields.pop("capacity", 3),
        organiser=organiser,
        title=fields.pop("title", "Berlin evening"),
        venue=fields.pop("venue", "Town Hall, Main St. & 5th"),
        time_zone="Europe/Berlin",
        **fields,
    )


@pytest.mark.django_db
def test_event_page_list_and_my_rsvps_show_local_time_and_zone(organiser, members):
    event = berlin_event(organiser)
    client = logged_in(members[0])
    client.post(reverse("events:rsvp", args=[event.pk]))
    shown = '<time datetime="2031-12-02T18:30:00+01:00">Tue 2 Dec 2031, 18:30 – 21:00 CET</time>'
    for url in (event.get_absolute_url(), reverse("events:list"), reverse("events:my_rsvps")):
        assert shown in client.get(url).content.decode(), url


@pytest.mark.django_db
def test_the_promotion_email_gives_the_time_in_the_events_zone(organiser, members, mailoutbox):
    event = berlin_event(organiser, capacity=1)
    alice, bob, _ = members
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    services.join_waitlist(event_id=event.pk, user_id=bob.pk)
    services.cancel_rsvp(event_id=event.pk, user_id=alice.pk)
    (mail,) = [m for m in mailoutbox if m.to == [bob.email] and "freed up" in m.subject]
    assert "When: Tue 2 Dec 2031, 18:30 – 21:00 CET\n" in mail.body


# --- The RSVP deadline ----------------------------------------------------------------


def close_rsvps(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(rsvp_deadline=timezone.now() - HOUR)


@pytest.mark.django_db
def test_after_the_deadline_rsvp_and_joining_are_refused_on_the_page(organiser, members):
    open_one = make_event(organiser, 2, rsvp_deadline=timezone.now() + HOUR)
    full = make_event(organiser, 1)
    alice, bob, _ = members
    assert services.rsvp(event_id=full.pk, user_id=alice.pk).outcome == "confirmed"
    close_rsvps(open_one)
    close_rsvps(full)
    client = logged_in(bob)
    for event, action in ((open_one, "rsvp"), (full, "join_waitlist")):
        page = client.post(reverse(f"events:{action}", args=[event.pk]), follow=True)
        html = unescape(page.content.decode())
        assert outcomes(html) == ["rsvps_closed"]
        assert "RSVPs for this event have closed." in html
        assert "RSVPs closed " in html and 'id="rsvp-button"' not in html
        assert 'id="waitlist-button"' not in html
    assert [a.user_id for a in ledger.attendees(open_one.pk)] == []
    assert ledger.waitlist(full.pk) == []


@pytest.mark.django_db
def test_after_the_deadline_the_api_answers_409_rsvps_closed(organiser, members):
    event = make_event(organiser, 2)
    close_rsvps(event)
    client = bearer(members[0])
    for path in ("rsvp", "waitlist"):
        answer = client.post(f"/api/events/{event.pk}/{path}")
        assert answer.status_code == 409
        assert answer.json() == {
            "message": "RSVPs for this event have closed.",
            "code": "rsvps_closed",
        }


@pytest.mark.django_db
def test_the_deadline_is_decided_before_the_ledger_is_asked(organiser, members, monkeypatch):
    event = make_event(organiser, 2)
    close_rsvps(event)
    monkeypatch.setattr(ledger, "take_seat", pytest.fail)
    monkeypatch.setattr(ledger, "join_waitlist", pytest.fail)
    for action in (services.rsvp, services.join_waitlist):
        assert action(event_id=event.pk, user_id=members[0].pk).outcome == "rsvps_closed"


@pytest.mark.django_db
def test_cancelling_and_leaving_stay_possible_after_the_deadline(organiser, members):
    event = make_event(organiser, 1, rsvp_deadline=timezone.now() + HOUR)
    alice, bob, _ = members
    assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome == "confirmed"
    assert services.join_waitlist(event_id=event.pk, user_id=bob.pk).outcome == "waitlisted"
    close_rsvps(event)
    leave = bearer(bob).delete(f"/api/events/{event.pk}/waitlist")
    assert leave.status_code == 200
    cancelled = logged_in(alice).post(reverse("events:cancel", args=[event.pk]), follow=True)
    assert outcomes(cancelled.content.decode()) == ["cancelled"]
    assert ledger.attendees(event.pk) == [] and ledger.waitlist(event.pk) == []


@pytest.mark.django_db
def test_the_page_says_when_rsvps_close_and_closed_in_the_events_zone(organiser, members):
    event = berlin_event(organiser, rsvp_deadline=berlin(2031, 12, 1, 12))
    page = Client().get(event.get_absolute_url()).content.decode()
    assert "RSVPs close <time" in page and "Mon 1 Dec 2031, 12:00 CET</time>" in page
    assert "Log in to RSVP" in page
    close_rsvps(event)
    page = Client().get(event.get_absolute_url()).content.decode()
    assert "RSVPs closed <time" in page and "RSVPs have closed." in page
    assert "Log in to RSVP" not in page
    assert "RSVPs closed" in Client().get(reverse("events:list")).content.decode()


@pytest.mark.django_db
def test_the_api_shows_zone_end_and_deadline_with_offsets(organiser):
    deadline = berlin(2031, 12, 1, 12)
    event = berlin_event(organiser, rsvp_deadline=deadline)
    body = APIClient().get(f"/api/events/{event.pk}/").json()
    assert body["time_zone"] == "Europe/Berlin"
    assert datetime.fromisoformat(body["end"]) == berlin(2031, 12, 2, 21)
    assert datetime.fromisoformat(body["rsvp_deadline"]) == deadline
    assert datetime.fromisoformat(body["rsvp_deadline"]).utcoffset() is not None


# --- The admin ------------------------------------------------------------------------


@pytest.fixture
def boss() -> tuple[Client, object]:
    user = get_user_model().objects.create_superuser("details-boss", "b@example.com", "pw")
    return logged_in(user), user


def admin_form(boss_user, **changes) -> dict:
    return {
        "title": "From the admin",
        "status": "published",
        "description": "",
        "time_zone": "Europe/Berlin",
        **{"starts_at_0": "2031-12-02", "starts_at_1": "18:30:00"},
        **{"ends_at_0": "2031-12-02", "ends_at_1": "21:00:00"},
        **{"rsvp_deadline_0": "", "rsvp_deadline_1": ""},
        "venue": "Hall",
        "online_url": "",
        "organiser": boss_user.pk,
        "capacity": 5,
        "guests_allowed": 0,
        "draw_losers": "wait",
        "waitlist": "on",
        **changes,
    }


@pytest.mark.django_db
def test_the_admin_takes_times_in_the_events_zone_and_shows_them_so(boss):
    client, user = boss
    saved = client.post(reverse("admin:events_event_add"), admin_form(user))
    assert saved.status_code == 302
    event = Event.objects.get(title="From the admin")
    assert event.time_zone == "Europe/Berlin"
    assert event.starts_at == datetime(2031, 12, 2, 17, 30, tzinfo=UTC)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert 'name="starts_at_1" value="18:30:00"' in page
    assert "Tue 2 Dec 2031, 18:30 CET" in client.get(reverse("admin:events_event_changelist")).text


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"ends_at_1": "17:00:00"}, "ends_at", "The end must be after the start."),
        (
            {"rsvp_deadline_0": "2031-12-02", "rsvp_deadline_1": "19:00:00"},
            "rsvp_deadline",
            "RSVPs must close by the start of the event.",
        ),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice."),
    ],
    ids=["end before start", "deadline after start", "unknown zone"],
)
@pytest.mark.django_db
def test_the_admin_refuses_impossible_times(boss, changes, field, error):
    client, user = boss
    answer = client.post(reverse("admin:events_event_add"), admin_form(user, **changes))
    assert answer.status_code == 200
    assert error in " ".join(answer.context["adminform"].form.errors[field])
    assert not Event.objects.filter(title="From the admin").exists()
