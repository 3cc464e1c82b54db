"""Time zones of events, and the one way a time is written for people.

Every time an attendee reads is the event's local time followed by its zone's
abbreviation ("Tue 1 Dec 2026, 18:30 – 21:00 CET"): someone booking from
another zone must not have to guess which clock is meant.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import dateformat

DAY_AND_TIME = "D j M Y, H:i"
TIME = "H:i"
# zoneinfo lists two names that are no place: "localtime" is whatever the
# server is set to, "Factory" a placeholder whose abbreviation is "-00".
NOT_A_PLACE = {"localtime", "Factory"}
# Zones without a customary abbreviation are named by their offset ("+03").
NUMERIC = re.compile(r"^[+-]\d{2}(\d{2})?$")


@cache
def zone_names() -> frozenset[str]:
    """The IANA names an event may take (the system's tz database, read once)."""
    return frozenset(zoneinfo.available_timezones() - NOT_A_PLACE)


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zone_names())]


def default_zone() -> str:
    """A new event's zone: the site's. A callable, so migrations never freeze it."""
    return settings.TIME_ZONE


def validate_zone(name: str) -> None:
    if name not in zone_names():
        raise ValidationError(
            "%(name)s is not a time zone name (say Europe/Berlin).",
            code="invalid_time_zone",
            params={"name": name},
        )


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone named, or the site's for a name this machine does not know.

    A stored name is validated when saved, but a tz database may drop a name
    later: a page then shows the site's zone (and says which) rather than fail.
    """
    if name in zone_names():
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def abbreviation(moment: datetime) -> str:
    """CET, CEST, UTC, IST...; "UTC+03" where the zone has no letters of its own."""
    name = moment.tzname() or ""
    if NUMERIC.match(name):
        hours, minutes = name[:3], name[3:]
        return f"UTC{hours}:{minutes}" if minutes else f"UTC{hours}"
    return name


def moment(when: datetime, where: zoneinfo.ZoneInfo) -> str:
    """One instant: "Tue 1 Dec 2026, 18:30 CET"."""
    local = when.astimezone(where)
    return f"{dateformat.format(local, DAY_AND_TIME)} {abbreviation(local)}"


def span(start: datetime, end: datetime | None, where: zoneinfo.ZoneInfo) -> str:
    """An event's times, in its zone.

    "Tue 1 Dec 2026, 18:30 – 21:00 CET" on one day. An end on another local day
    (overnight, several days) carries its own date, and each side carries its
    own abbreviation when a clock change falls in between (CET, then CEST), so
    every part reads right on its own.
    """
    local_start = start.astimezone(where)
    if end is None:
        return moment(start, where)
    local_end = end.astimezone(where)
    same_day = local_end.date() == local_start.date()
    end_text = dateformat.format(local_end, TIME if same_day else DAY_AND_TIME)
    start_text = dateformat.format(local_start, DAY_AND_TIME)
    start_zone, end_zone = abbreviation(local_start), abbreviation(local_end)
    if start_zone != end_zone:
        return f"{start_text} {start_zone} – {end_text} {end_zone}"
    return f"{start_text} – {end_text} {end_zone}"


def iso(when: datetime, where: zoneinfo.ZoneInfo) -> str:
    """For ``<time datetime>``: ISO 8601 with the event's offset."""
    return when.astimezone(where).isoformat()
