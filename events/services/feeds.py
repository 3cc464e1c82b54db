"""A user's calendar feed: its secret address, made on first use and reset on demand."""

from __future__ import annotations

from events.models import CalendarFeed, new_feed_token


def calendar_feed(*, user) -> CalendarFeed:
    """The user's feed address, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


def reset_calendar_feed(*, user) -> CalendarFeed:
    """A new secret address for the user's feed; the old one stops working at once."""
    feed = calendar_feed(user=user)
    feed.token = new_feed_token()
    feed.save(update_fields=["token", "issued_at"])
    return feed
