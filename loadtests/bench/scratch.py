"""The second stack's PostgreSQL database and Redis database, made for one run and removed.

The machine's PostgreSQL and Redis are shared (the test suite and other
tools use them too), so the run takes places of its own on them and leaves
nothing behind:

- PostgreSQL: a database ``eventsite_bench_<random>``, created empty before
  the stack starts (its migrations fill it) and dropped afterwards, with
  ``FORCE`` since a killed child may leave connections open; then the run
  checks it is gone.
- Redis: Django's cache has no key prefix setting to give, so the run takes
  a numbered database of its own: the highest of 1..14 that is empty (0 and
  15 are the tests' and ``make compare``'s), claimed with a marker key set
  only if absent so that two runs never share one. Flushed afterwards (it
  held nothing before), then checked empty.

Each context manager appends a note of what it removed to a list for the
report: ``{"note": ..., "clean": whether nothing is left}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

POSTGRES_TIMEOUT_S = 3
REDIS_TIMEOUT_S = 2.0
REDIS_DBS = range(14, 0, -1)  # 0 and 15 belong to the tests and `make compare`
CLAIM = "eventsite-bench:claimed"  # the marker; Django's cache keys start with ":"
CLAIM_S = 3600  # a run killed outright frees its Redis database after this long


def _database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_unreachable(server_url: str) -> str | None:
    """Why the PostgreSQL at ``server_url`` cannot be used, or None if it answers."""
    try:
        with psycopg.connect(server_url, connect_timeout=POSTGRES_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {_safe(server_url)} did not answer: {' '.join(str(exc).split())}"
    return None


def redis_unreachable(server_url: str) -> str | None:
    try:
        redis.Redis.from_url(server_url, socket_connect_timeout=REDIS_TIMEOUT_S).ping()
    except redis.RedisError as exc:
        return f"Redis at {_safe(server_url)} did not answer: {exc}"
    return None


def _safe(url: str) -> str:
    """The URL without any password, for the report."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


@contextmanager
def postgres_database(server_url: str, notes: list[dict]) -> Iterator[str]:
    """A new empty database on that server: its URL; dropped on the way out."""
    name = f"eventsite_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
            left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        note = "still there after DROP DATABASE" if left else "dropped, gone"
        notes.append({"note": f"PostgreSQL database {name}: {note}", "clean": not left})


@contextmanager
def redis_database(server_url: str, notes: list[dict]) -> Iterator[str]:
    """A numbered Redis database nobody uses: its URL; flushed on the way out."""
    for db in REDIS_DBS:
        client = redis.Redis.from_url(_database_url(server_url, str(db)))
        if client.dbsize() == 0 and client.set(CLAIM, "1", nx=True, ex=CLAIM_S):
            break
        client.close()
    else:
        raise RuntimeError(f"no empty Redis database among {list(REDIS_DBS)} at {server_url}")
    try:
        yield _database_url(server_url, str(db))
    finally:
        client.flushdb()
        left = client.dbsize()
        client.close()
        note = f"{left} keys left" if left else "empty (the run's keys are gone)"
        notes.append({"note": f"Redis database {db}: flushed, {note}", "clean": not left})
