"""The event app's SQL tables; an event's capacity and attendees live in the ledger.

- ``event``: an event's descriptive fields, and which of them calendars,
  change notices and the timed mail follow;
- ``people``: the SQL record of who holds a seat, check-ins, calendar feeds;
- ``mail``: organisers' mailings, and every email the mail server accepted;
- ``rush``: the seats after each ledger write, for the rush chart.
"""

from events.models.event import (
    CALENDAR_FIELDS,
    DESCRIPTION_MAX_CHARS,
    DESCRIPTIVE_FIELDS,
    MARKDOWN_HELP,
    MAX_GUESTS,
    NOTICE_FIELDS,
    SCHEDULE_FIELDS,
    Event,
    EventQuerySet,
    default_reminders,
    new_draw_seed,
    validate_one_line,
)
from events.models.mail import Mailing, SentEmail
from events.models.people import CalendarFeed, CheckIn, Rsvp, new_feed_token
from events.models.rush import SeatSample

__all__ = [
    "CALENDAR_FIELDS",
    "DESCRIPTION_MAX_CHARS",
    "DESCRIPTIVE_FIELDS",
    "MARKDOWN_HELP",
    "MAX_GUESTS",
    "NOTICE_FIELDS",
    "SCHEDULE_FIELDS",
    "CalendarFeed",
    "CheckIn",
    "Event",
    "EventQuerySet",
    "Mailing",
    "Rsvp",
    "SeatSample",
    "SentEmail",
    "default_reminders",
    "new_draw_seed",
    "new_feed_token",
    "validate_one_line",
]
