"""Seat counts for pages, at most ``SEATS_CACHE_SECONDS`` old, in Django's cache.

Under a rush every open event page reads the seats too; serving those reads
from the cache keeps them from queueing behind the writes on the ledger.
Nothing is ever decided from a cached count (the ledger's write decides), and
each write's own answer refreshes its event's entry. When the cache itself is
unreachable (a Redis that is down), reads go to the ledger and writes skip it:
a slower page, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from events.ledger import Seats

logger = logging.getLogger(__name__)


def _key(event_id: int) -> str:
    # Named after the ledger database too: sites (or test runs) sharing one
    # Redis never read each other's counts.
    return f"seats:{settings.MONGODB_DB}:{event_id}"


def seats(event_ids: list[int], load: Callable[[list[int]], dict[int, Seats]]) -> dict[int, Seats]:
    """Cached seats of these events; ``load`` reads the others from the ledger."""
    if settings.SEATS_CACHE_SECONDS <= 0:
        return load(event_ids)
    try:
        cached = cache.get_many([_key(event_id) for event_id in event_ids])
    except Exception:  # the cache is down: the ledger answers alone
        logger.warning("Seat cache unreachable; reading the ledger", exc_info=True)
        return load(event_ids)
    found = {event_id: cached[_key(event_id)] for event_id in event_ids if _key(event_id) in cached}
    missing = [event_id for event_id in event_ids if event_id not in found]
    if missing:
        loaded = load(missing)
        _store(loaded)
        found |= loaded
    return found


def refresh(event_id: int, seats: Seats | None) -> None:
    """After a write: its own answer is the freshest count there is."""
    if seats is not None and settings.SEATS_CACHE_SECONDS > 0:
        _store({event_id: seats})


def forget(event_id: int) -> None:
    """After a change the write did not answer with (say, the waiting list's limit)."""
    try:
        cache.delete(_key(event_id))
    except Exception:
        logger.warning("Seat cache unreachable; not forgotten", exc_info=True)


def _store(found: dict[int, Seats]) -> None:
    try:
        cache.set_many(
            {_key(event_id): s for event_id, s in found.items()},
            timeout=settings.SEATS_CACHE_SECONDS,
        )
    except Exception:
        logger.warning("Seat cache unreachable; not stored", exc_info=True)
