"""Copies of an event: one duplicate, or a weekly or monthly series, each a new draft.

Services (writes, keyword-only arguments) like ``events.services``, whose
``create_event`` makes every copy: its SQL row and its empty ledger as one.
A copy takes the source's descriptive fields and its capacity and waiting
list limit (read from the ledger); never its people, check-ins or messages.

Times of a series are wall-clock times in the event's zone: a Tuesday 19:00
in London stays 19:00 in London across a clock change, so its UTC instant
moves by the hour the clocks did. A local time that does not exist on a
copy's date (in the gap of a spring-forward change, e.g. 01:30 in London on
the last Sunday of March) is read with the offset before the change, as
zoneinfo does with ``fold=0``: it lands that much later (02:30 BST). A local
time that happens twice (autumn) is its first occurrence (``fold=0``).
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db import transaction

from events import ledger, selectors, services
from events.ledger import Seats
from events.models import Event

logger = logging.getLogger(__name__)

MAX_REPEATS = 52
# What a copy takes from its source (times are set apart for a series).
DESCRIPTIVE = (
    "title",
    "description",
    "time_zone",
    "starts_at",
    "ends_at",
    "rsvp_deadline",
    "venue",
    "online_url",
    "organiser_id",
    "attendees_public",
)


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"


class CopyError(ValueError):
    """A copy that cannot be made: no readable ledger to copy seats from, or a bad count."""


@dataclass(frozen=True)
class Times:
    """One copy's times, aware, in UTC."""

    starts_at: datetime
    ends_at: datetime | None
    rsvp_deadline: datetime | None


def _source(event_id: int) -> tuple[Event, Seats]:
    event = Event.objects.get(pk=event_id)
    seats = selectors.seats_of([event_id]).get(event_id)
    if seats is None:
        raise CopyError(
            "This event has no readable ledger, so its capacity is unknown: "
            "run manage.py check_ledger first."
        )
    return event, seats


def _copy(event: Event, seats: Seats, times: Times | None = None) -> Event:
    fields = {name: getattr(event, name) for name in DESCRIPTIVE}
    if times is not None:
        fields.update(vars(times))
    return services.create_event(
        capacity=seats.capacity,
        waitlist_limit=seats.waitlist_limit,
        status=Event.Status.DRAFT,
        **fields,
    )


def duplicate_event(*, event_id: int) -> Event:
    """A new draft with the event's details and seats, an empty ledger, nobody going."""
    event, seats = _source(event_id)
    return _copy(event, seats)


def _wall(when: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The naive local clock reading of an instant, in ``zone``."""
    return None if when is None else when.astimezone(zone).replace(tzinfo=None)


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local clock reading as an instant (fold=0; see the module's note on gaps)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _shifted(wall: datetime, every: Every, k: int) -> datetime:
    """The k-th date after ``wall``'s, same clock time; a month's day clamped to its end.

    Always counted from the source's date, so 31 Jan gives 28 (or 29) Feb,
    then 31 Mar, not 28 Mar.
    """
    if every is Every.WEEK:
        return wall + timedelta(days=7 * k)
    months = wall.month - 1 + k
    year, month = wall.year + months // 12, months % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return wall.replace(year=year, month=month, day=day)


def series_times(event: Event, every: Every | str, count: int) -> list[Times]:
    """The times of ``count`` copies after ``event`` (a read, for the preview too).

    The end and the RSVP deadline keep their wall-clock distance from the start.
    """
    if every not in Every:
        raise CopyError("Repeat every week or every month.")
    every, zone = Every(every), event.zone
    start = _wall(event.starts_at, zone)
    gaps = {
        name: wall - start
        for name in ("ends_at", "rsvp_deadline")
        if (wall := _wall(getattr(event, name), zone)) is not None
    }
    found = []
    for k in range(1, count + 1):
        wall = _shifted(start, every, k)
        others = {name: _aware(wall + gap, zone) for name, gap in gaps.items()}
        found.append(Times(_aware(wall, zone), others.get("ends_at"), others.get("rsvp_deadline")))
    return found


def repeat_event(*, event_id: int, every: Every | str, count: int) -> list[Event]:
    """``count`` drafts, weekly or monthly after the event, all or none.

    One SQL transaction holds every copy's row. If MongoDB refuses a copy's
    ledger, the ledgers already opened are deleted while the transaction is
    still open (inside it, their ids cannot yet be anyone else's), then the
    rows roll back. If that delete fails too (MongoDB down), the documents
    stay as orphans that ``manage.py check_ledger --repair`` removes, and a
    new event that gets one of those ids replaces its document on creation.
    """
    if not 1 <= count <= MAX_REPEATS:
        raise CopyError(f"Make between 1 and {MAX_REPEATS} copies.")
    event, seats = _source(event_id)
    made: list[Event] = []
    with transaction.atomic():
        try:
            for times in series_times(event, every, count):
                made.append(_copy(event, seats, times))
        except Exception:
            _drop_ledgers([copy.pk for copy in made])
            raise
    return made


def _drop_ledgers(event_ids: list[int]) -> None:
    try:
        ledger.delete_events(event_ids)
    except ledger.LedgerUnavailable:
        logger.exception(
            "Ledgers of rolled-back copies %s left as orphans: check_ledger --repair removes them",
            event_ids,
        )
