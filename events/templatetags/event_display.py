"""How an event's times, description and venue appear on pages: ``{% load event_display %}``.

The formatting itself lives in ``events.times`` and ``events.markup``; these
filters only put it into markup, so every page writes a time the same way.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from events import calendar, markup, outcomes, times
from events.models import Event

register = template.Library()


@register.filter
def when(event: Event) -> SafeString:
    """``<time>`` with the event's times in its zone: "Tue 1 Dec 2026, 18:30 – 21:00 CET"."""
    return format_html(
        '<time datetime="{}">{}</time>',
        times.iso(event.starts_at, event.zone),
        times.span(event.starts_at, event.ends_at, event.zone),
    )


@register.filter
def when_text(event: Event) -> str:
    """The same words as ``when``, without markup (emails, link previews)."""
    return times.span(event.starts_at, event.ends_at, event.zone)


@register.filter
def in_zone_of(moment: datetime | None, event: Event) -> SafeString | str:
    """Another of the event's instants (its RSVP deadline), in its zone, as ``<time>``."""
    if moment is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>',
        times.iso(moment, event.zone),
        times.moment(moment, event.zone),
    )


@register.filter
def markdown(text: str) -> SafeString:
    """The description as HTML: safe to mark so, because nh3 has kept only harmless tags."""
    return mark_safe(markup.to_html(text))


@register.filter
def excerpt(text: str) -> str:
    return markup.excerpt(text)


@register.filter
def map_url(venue: str) -> str | None:
    return markup.map_url(venue)


@register.filter
def absolute(path: str) -> str:
    """A site path as the public URL (link previews and canonical links need the host)."""
    return settings.SITE_URL + path


@register.filter
def preview(event: Event) -> str:
    """A link preview's text: when and where, then the description's opening words."""
    opening = markup.excerpt(event.description)
    where = f"{times.span(event.starts_at, event.ends_at, event.zone)} · {event.venue}"
    return f"{where}. {opening}" if opening else where


@register.filter
def google_calendar_url(event: Event) -> str:
    return calendar.google_url(event)


@register.filter
def party(guests: int) -> str:
    """Who comes: "you", "you + 1 guest", "you + 2 guests" (``outcomes.party_text``)."""
    return outcomes.party_text(guests or 0)


@register.inclusion_tag("events/_party_fields.html")
def party_fields(event: Event, guests: int = 0, names=()) -> dict:
    """The "Guests" select and one name box per guest the event allows, filled as they stand."""
    names = list(names)
    slots = [
        (number, names[number - 1] if number <= len(names) else "")
        for number in range(1, event.guests_allowed + 1)
    ]
    return {
        "event": event,
        "choices": range(event.guests_allowed + 1),
        "guests": guests,
        "slots": slots,
    }
