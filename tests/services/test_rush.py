"""The rush: an event's seat samples read back as figures and drawn as an SVG chart."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from events import rush, services
from events.models import CheckIn, Event, SeatSample
from tests.browser import SCREENSHOTS, chromium, new_context
from tests.helpers import logged_in, make_event, make_users, session_cookie

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("UTC"))
POINTS = re.compile(r'class="rush-(taken|waiting|capacity)"[^>]*points="([^"]*)"')


def superuser(name: str = "boss"):
    return get_user_model().objects.create_superuser(name, f"{name}@example.com", "pw")


def a_rush(event: Event, users: list) -> None:
    """Three seats taken, two join the list, one seat given back (the first waiting moves up).

    Six changes, so six samples; each is then dated a minute after the last,
    as if the rush had taken six minutes.
    """
    a, b, c, d, e = users
    steps = [
        (services.rsvp, a, "confirmed"),
        (services.rsvp, b, "confirmed"),
        (services.rsvp, c, "confirmed"),  # full: the third sample
        (services.join_waitlist, d, "waitlisted"),
        (services.join_waitlist, e, "waitlisted"),
        (services.cancel_rsvp, a, "cancelled"),  # d takes the seat
    ]
    for write, user, outcome in steps:
        assert write(event_id=event.pk, user_id=user.pk).outcome == outcome
    for minute, sample in enumerate(SeatSample.objects.filter(event=event).order_by("version")):
        SeatSample.objects.filter(pk=sample.pk).update(at=BASE + timedelta(minutes=minute))


@pytest.mark.django_db
def test_the_rush_figures_and_the_check_in_rate_once_started():
    boss = superuser()
    event = make_event(boss, 3, title="Small room")
    users = make_users(5, prefix="rush")
    a_rush(event, users)

    before = rush.rush_of(event)

    assert [(s.taken, s.waiting) for s in before.samples] == [
        (1, 0),
        (2, 0),
        (3, 0),
        (3, 1),
        (3, 2),
        (3, 1),
    ]
    assert before.recorded == 6 and before.fill_rate == 1.0
    assert before.time_to_fill == timedelta(minutes=2)
    assert before.peak_waiting == 2
    assert before.checked_in is None and before.check_in_rate is None  # not started

    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    event.refresh_from_db()
    CheckIn.objects.create(event=event, user=users[1], by=boss)
    after = rush.rush_of(event)
    assert after.checked_in == 1 and after.check_in_rate == pytest.approx(1 / 3)


@pytest.mark.django_db
def test_a_long_rush_is_drawn_from_at_most_400_samples_keeping_every_peak():
    boss = superuser()
    event = make_event(boss, 2000, title="Big hall")
    taken = [i // 2 for i in range(3000)]
    taken[1234] = 1900  # a spike (say a bulk add, then removed)
    waiting = [0] * 3000
    waiting[2345] = 77
    SeatSample.objects.bulk_create(
        SeatSample(
            event=event,
            version=i + 1,
            at=BASE + timedelta(seconds=i),
            capacity=2000,
            taken=taken[i],
            waiting=waiting[i],
        )
        for i in range(3000)
    )

    found = rush.rush_of(event)

    versions = [s.version for s in found.samples]
    assert found.recorded == 3000 and len(versions) <= rush.MAX_POINTS
    assert versions == sorted(versions) and versions[0] == 1 and versions[-1] == 3000
    assert 1235 in versions and 2346 in versions  # both peaks are drawn
    assert found.peak_waiting == 77


def point_count(html: str) -> dict[str, int]:
    return {name: len(points.split()) for name, points in POINTS.findall(html)}


@pytest.mark.django_db
def test_the_change_page_draws_the_rush_and_its_figures():
    boss = superuser()
    event = make_event(boss, 3, title="Small room")
    a_rush(event, make_users(5, prefix="rush"))
    # One more change, then a capacity raise: 8 samples in all.
    late = make_users(1, prefix="late")[0]
    assert services.join_waitlist(event_id=event.pk, user_id=late.pk).outcome == "waitlisted"
    services.set_capacity(event_id=event.pk, capacity=5)  # both waiting get seats
    SeatSample.objects.filter(event=event, at__gt=BASE + timedelta(hours=1)).update(
        at=BASE + timedelta(minutes=9)
    )
    client = logged_in(boss)

    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()

    assert SeatSample.objects.filter(event=event).count() == 8
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert 'data-samples="8"' in page
    # Step lines: two points a sample (across, then up or down; the last on to the edge).
    assert point_count(page) == {"taken": 16, "waiting": 16, "capacity": 16}
    assert "Fill rate: 100% (5 of 5 seats taken)." in page
    assert "Time to fill: 2 min from the first RSVP." in page
    assert "Peak waiting list: 2." in page
    assert "Check-in rate" not in page  # not started
    assert "style=" not in page[page.index("<figure") : page.index("</figure>")]

    empty = make_event(boss, 3, title="Nobody yet")
    quiet = client.get(reverse("admin:events_event_change", args=[empty.pk])).content.decode()
    assert "No RSVPs yet." in quiet and "rush-taken" not in quiet


async def screenshot_chart(site_url: str, session: dict, path: str) -> list[str]:
    """The change page's rush fieldset as an organiser sees it; any CSP complaint."""
    complaints = []
    async with chromium() as browser:
        context = await new_context(
            browser, site_url, session, viewport={"width": 1100, "height": 900}
        )
        page = await context.new_page()
        page.on(
            "console",
            lambda msg: (
                complaints.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        await page.goto(site_url + path)
        chart = page.locator("figure.rush-chart")
        await chart.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.locator("fieldset", has=chart).screenshot(path=SCREENSHOTS / "rush-chart.png")
    return complaints


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_screenshot_of_the_rush_chart(live_site):
    """12 RSVPs, a waiting list and a few cancellations, spread as if over an afternoon."""
    boss = superuser("chart-boss")
    event = make_event(boss, 10, title="Workshop: Django and MongoDB", time_zone="Europe/London")
    people = make_users(15, prefix="crowd")
    for user in people[:12]:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)  # a seat, or the list
    for user in people[3:6]:
        services.cancel_rsvp(event_id=event.pk, user_id=user.pk)
    for user in people[12:]:
        services.join_waitlist(event_id=event.pk, user_id=user.pk)
    steps = random.Random(11)
    at = BASE
    for sample in SeatSample.objects.filter(event=event).order_by("version"):
        at += timedelta(seconds=steps.randint(5, 600))
        SeatSample.objects.filter(pk=sample.pk).update(at=at)
    path = reverse("admin:events_event_change", args=[event.pk])

    complaints = asyncio.run(screenshot_chart(live_site.url, session_cookie(boss), path))

    assert complaints == []
    assert (SCREENSHOTS / "rush-chart.png").stat().st_size > 5000
