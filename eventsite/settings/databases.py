"""Where data lives: Django's SQL database, its cache, and the MongoDB ledger."""

import os

import dj_database_url

from eventsite.env import VAR_DIR, env_int, env_str, seat_strategy

# Django's own data: SQLite under var/ unless DATABASE_URL names another.
# A PostgreSQL connection is kept between requests (a new one costs a TCP and
# login round trip, and under a rush each request would pay it), checked
# before reuse so one the server dropped is replaced rather than failing a
# request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock up front instead of failing midway.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not memory) so a live gunicorn can share it; per process so runs never collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}
    # Not kept: opening the file costs about a third of a millisecond here (no
    # network, no login), and a kept connection goes on reading the file it
    # opened: after a restore swaps the file, every kept connection would serve
    # the old one, and SQLite's health check (always "usable") cannot tell.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Django's cache: per-process memory, or Redis when CACHE_URL names one (then
# shared by every process and host: the short-lived seat counts of pages, and
# allauth's login throttle). Nothing is ever decided from it.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis that is down costs a page a quarter second, not a hang.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# How long a page may show seat counts read earlier (seconds; 0: never cached).
SEATS_CACHE_SECONDS = env_int("SEATS_CACHE_SECONDS", 1)

# The RSVP ledger. Unset MONGODB_URI means the embedded server (see
# eventsite/embedded_mongo.py), whose address manage.py puts in the environment;
# production requires a real one (settings/production.py).
MONGODB_URI = env_str("MONGODB_URI")
MONGODB_DB = env_str("MONGODB_DB", "eventsite")
MONGODB_TIMEOUT_MS = env_int("MONGODB_TIMEOUT_MS", 2000)

# How an RSVP takes its seat (events.ledger.strategies): "combined", unless a
# load test or the test suite chose another (eventsite/env.py refuses it elsewhere).
SEAT_STRATEGY = seat_strategy()
# The Redis of the redis_lock strategy (proving grounds only).
REDIS_URL = env_str("REDIS_URL") or CACHE_URL or "redis://127.0.0.1:6379/0"
