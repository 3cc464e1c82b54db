"""Seat counts for pages from Django's cache: short-lived, refreshed by writes, never fatal.

Locmem by default; the same against the machine's real Redis, and against a
Redis that is not there.
"""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis
from django.test import Client

from events import ledger, seat_cache, services
from loadtests.stack import free_port
from tests.helpers import make_event, make_users

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/0"


def seats_line(client: Client, event) -> str:
    page = client.get(event.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    return html[html.index('id="seats"') : html.index("</p>", html.index('id="seats"'))]


def test_anonymous_pages_read_cached_counts_and_a_change_elsewhere_shows_within_a_second(
    organiser,
):
    event = make_event(organiser, 3)
    alice, bob = make_users(2, prefix="cached")
    signed_in = Client()
    signed_in.force_login(bob)
    assert "(0 of 3 taken)" in seats_line(Client(), event)

    ledger.take_seat(event.pk, alice.pk)  # another process's RSVP: this one's cache is stale

    assert "(0 of 3 taken)" in seats_line(Client(), event), "served from the cache"
    assert "(1 of 3 taken)" in seats_line(signed_in, event), "a signed-in viewer reads the ledger"
    deadline = time.monotonic() + 5
    while "(1 of 3 taken)" not in seats_line(Client(), event):
        assert time.monotonic() < deadline, "the cached count outlived SEATS_CACHE_SECONDS"
        assert seat_cache._refresher.wait(), "a refresh never finished"
    assert "(1 of 3 taken)" in seats_line(signed_in, event)


def test_a_stale_count_is_served_at_once_while_the_ledger_cannot_answer(
    organiser, spare_mongo, settings, caplog
):
    """Pages never read the ledger for an event they have a count of: they cannot queue on it."""
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 300
    settings.SEATS_CACHE_SECONDS = 1e-6  # every count stale as soon as it is stored
    event = make_event(organiser, 3)
    services.rsvp(event_id=event.pk, user_id=make_users(1, prefix="stale")[0].pk)
    spare_mongo.stop()  # a ledger that answers nothing, as one swamped by a rush

    with caplog.at_level(logging.WARNING, logger="events.seat_cache"):
        assert "(1 of 3 taken)" in seats_line(Client(), event), "the stale count, at once"
        assert seat_cache._refresher.wait()
    assert any("stale count stays" in r.getMessage() for r in caplog.records)
    assert "(1 of 3 taken)" in seats_line(Client(), event)
    spare_mongo.start()


def test_a_write_refreshes_its_events_count(organiser):
    event = make_event(organiser, 3)
    (alice,) = make_users(1, prefix="refresh")
    seats_line(Client(), event)  # cached: 0 taken
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    assert "(1 of 3 taken)" in seats_line(Client(), event)
    assert seat_cache.seats([event.pk], ledger.seats)[event.pk].taken == 1


def test_counts_live_in_redis_when_cache_url_names_it(organiser, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }
    event = make_event(organiser, 4)
    (alice,) = make_users(1, prefix="redis")
    services.rsvp(event_id=event.pk, user_id=alice.pk)
    server = redis.Redis.from_url(REDIS_URL)
    keys = server.keys(f"{settings.CACHES['default']['KEY_PREFIX']}:*seats:*:{event.pk}")
    assert len(keys) == 1 and 0 < server.pttl(keys[0]) <= seat_cache.STALE_SECONDS * 1000
    assert "(1 of 4 taken)" in seats_line(Client(), event)


def test_a_redis_that_is_down_slows_pages_but_breaks_nothing(organiser, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    event = make_event(organiser, 2)
    (alice,) = make_users(1, prefix="noredis")
    with caplog.at_level(logging.WARNING, logger="events.seat_cache"):
        assert services.rsvp(event_id=event.pk, user_id=alice.pk).outcome == "confirmed"
        assert "(1 of 2 taken)" in seats_line(Client(), event)
    assert any("Seat cache unreachable" in r.getMessage() for r in caplog.records)
