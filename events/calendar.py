"""Events as iCalendar (RFC 5545) files and Google Calendar links.

Every .ics the site hands out (the event page's download, a personal feed,
the file attached to an email) is built here with the ``icalendar`` package,
so an event looks the same in each. Times are written in UTC ("...Z"): every
calendar app reads them without a VTIMEZONE block, and shows them in its
user's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.text import Truncator

from events.models import Event
from events.selectors import ends_at

PRODID = "-//Eventsite//Events//EN"
PUBLISH = "PUBLISH"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
GOOGLE_DATE = "%Y%m%dT%H%M%SZ"
CONTENT_TYPE = "text/calendar; charset=utf-8"
FEED_REFRESH = timedelta(hours=1)
# The Google link is on the page and in every email: it carries the
# description's opening only (the event page, linked, has the rest), so a
# long description neither bloats them nor passes the URL lengths that
# browsers and mail clients cut.
GOOGLE_DETAILS_CHARS = 1_000


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def uid(event: Event) -> str:
    """Stable for the event's life: calendar apps match updates and cancels by it."""
    return f"event-{event.pk}@{site_host()}"


def event_url(event: Event) -> str:
    return settings.SITE_URL + event.get_absolute_url()


def _details(
    event: Event, check_in_code: str | None = None, *, description_chars: int | None = None
) -> str:
    """The description, the event page's address (where the RSVP lives), any check-in code.

    ``description_chars``: cut the description to this many characters (an ellipsis ends it).
    """
    code = f"Check-in code: {check_in_code}" if check_in_code else ""
    description = event.description.strip()
    if description_chars is not None:
        description = Truncator(description).chars(description_chars)
    parts = [description, event_url(event), code]
    return "\n\n".join(part for part in parts if part)


def _vevent(
    event: Event, *, cancelled: bool = False, check_in_code: str | None = None
) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", uid(event))
    vevent.add("dtstamp", timezone.now().astimezone(UTC))
    vevent.add("dtstart", event.starts_at.astimezone(UTC))
    vevent.add("dtend", ends_at(event).astimezone(UTC))
    vevent.add("summary", event.title)
    vevent.add("location", event.venue)
    vevent.add("description", _details(event, check_in_code))
    vevent.add("url", event_url(event))
    # A cancel must outrank the invitation it withdraws, even when the event
    # itself did not change since: one above the event's own sequence.
    vevent.add("sequence", event.sequence + 1 if cancelled else event.sequence)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return vevent


def _calendar(method: str | None, name: str | None = None) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def event_ics(event: Event, *, method: str = PUBLISH, check_in_code: str | None = None) -> bytes:
    """One event as a .ics file; METHOD:CANCEL marks it cancelled.

    ``check_in_code``: the attendee's own code, in the description (their email's copy).
    """
    cal = _calendar(method)
    cancelled = method == CANCEL or event.is_cancelled
    cal.add_component(_vevent(event, cancelled=cancelled, check_in_code=check_in_code))
    return cal.to_ical()


def feed_ics(
    events: Iterable[Event], *, name: str, check_in_codes: dict[int, str] | None = None
) -> bytes:
    """A subscribable calendar of several events (no METHOD: it is a feed, not a message).

    ``check_in_codes``: the subscriber's own code per event pk, in each description.
    """
    codes = check_in_codes or {}
    cal = _calendar(None, name)
    # How often subscribers should fetch it again (apps otherwise pick their own,
    # Google's being about a day): an RSVP shows in the calendar within the hour.
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH).to_ical().decode())
    for event in events:  # a cancelled event stays, marked so, until apps drop it
        code = codes.get(event.pk)
        cal.add_component(_vevent(event, cancelled=event.is_cancelled, check_in_code=code))
    return cal.to_ical()


def _google_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(GOOGLE_DATE)


def google_url(event: Event) -> str:
    """A link that opens Google Calendar's "new event" form filled in with this event."""
    dates = f"{_google_date(event.starts_at)}/{_google_date(ends_at(event))}"
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": dates,
        "details": _details(event, description_chars=GOOGLE_DETAILS_CHARS),
        "location": event.venue,
    }
    return f"{GOOGLE_TEMPLATE}?{urlencode(query)}"


def filename(event: Event) -> str:
    return f"event-{event.pk}.ics"
