"""Seat counts for pages, in Django's cache: refreshed by the writes, never waited for.

Under a rush every open page reads the seats too; the ledger's one server
thread is busy with the writes, and a page that read it would queue behind
them. So pages read counts from the cache only:

- every seat write stores the counts its own returned document holds, the
  freshest there are (``refresh``), in every process and host's cache when
  that is Redis (``CACHE_URL``), in the writing process's otherwise;
- an entry is *fresh* for ``SEATS_CACHE_SECONDS``, then *stale*: a page is
  still served the stale count at once while one refresh of that event per
  process reads the ledger in the background (``_refresher``), so a change
  made elsewhere shows within about a second and no request waits for it;
- only an event no entry has at all (a cold cache, or one left untouched for
  ``STALE_SECONDS``) is read from the ledger inside the request.

Nothing is ever decided from a cached count (the ledger's write decides).
When the cache itself is unreachable (a Redis that is down), reads go to the
ledger and writes skip it: a slower page, never an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache

from events.ledger import LedgerUnavailable, Seats

logger = logging.getLogger(__name__)

# How long a stale count may still be served while its refresh runs: past
# that, nobody looked at the event for so long that a fresh read is due anyway.
STALE_SECONDS = 300

Load = Callable[[list[int]], dict[int, Seats]]


def _key(event_id: int) -> str:
    # Named after the ledger database too: sites (or test runs) sharing one
    # Redis never read each other's counts.
    return f"seats:{settings.MONGODB_DB}:{event_id}"


def seats(event_ids: list[int], load: Load) -> dict[int, Seats]:
    """Cached seats of these events; ``load`` reads the ledger for those never cached."""
    if settings.SEATS_CACHE_SECONDS <= 0:
        return load(event_ids)
    try:
        entries = cache.get_many([_key(event_id) for event_id in event_ids])
    except Exception:  # the cache is down: the ledger answers alone
        logger.warning("Seat cache unreachable; reading the ledger", exc_info=True)
        return load(event_ids)
    found, stale = {}, []
    for event_id in event_ids:
        if (entry := entries.get(_key(event_id))) is not None:
            found[event_id], fresh_until = entry
            if fresh_until < time.time():
                stale.append(event_id)
    if missing := [event_id for event_id in event_ids if event_id not in found]:
        loaded = load(missing)
        _store(loaded)
        found |= loaded
    for event_id in stale:
        _refresher.refresh(event_id, load)
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
    fresh_until = time.time() + settings.SEATS_CACHE_SECONDS
    try:
        cache.set_many(
            {_key(event_id): (s, fresh_until) for event_id, s in found.items()},
            timeout=STALE_SECONDS,
        )
    except Exception:
        logger.warning("Seat cache unreachable; not stored", exc_info=True)


class _Refresher:
    """One background read per stale event at a time, in this process.

    Made on first use, so each gunicorn worker (forked after import) has its
    own thread. A refresh that fails leaves the stale count for the next one.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._pending: set[int] = set()
        self._pool: ThreadPoolExecutor | None = None

    def refresh(self, event_id: int, load: Load) -> None:
        with self._lock:
            if event_id in self._pending:
                return
            self._pending.add(event_id)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seat-refresh")
            pool = self._pool
        pool.submit(self._run, event_id, load)

    def _run(self, event_id: int, load: Load) -> None:
        try:
            _store(load([event_id]))
        except LedgerUnavailable:
            logger.warning("Seat refresh of event %s failed; the stale count stays", event_id)
        finally:
            with self._lock:
                self._pending.discard(event_id)
                self._lock.notify_all()

    def wait(self, timeout: float = 10) -> bool:
        """Until every refresh asked for so far has run (for the tests); False if one hangs."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._pending, timeout)


_refresher = _Refresher()
