"""Items 1 and 2: the rush's seats taken straight through pymongo, without HTTP.

1. **The engine's ceiling for one write**: the textbook plain guarded
   ``findOneAndUpdate`` (filter ``{_id, $expr: {$lt: [{$size: "$attendees"},
   "$capacity"]}, attendees: {$ne: user}}``, update ``{$addToSet: {attendees:
   user}}``) on a document shaped ``{_id, capacity, attendees: []}``, on a
   scratch embedded server of the same engine, in a process of its own
   (``eventsite.embedded_mongo``): no validator, no seat times, no outbox of
   the site's, nothing but the one write. One pymongo client with a
   connection per thread.
2. **The site's own single write**: ``ledger_strategies.get("atomic")
   .take_seat`` on the stack's ledger, through the site's own client, on an
   event made by ``events.services``; the client is the site's as it is
   (pymongo's default pool of 100 connections for the 150 threads). "atomic"
   is one write per request before and after the ledger learns to combine
   writes, so this is the ceiling HTTP would have if Django cost nothing and
   nothing were combined.

Both get the crowd of ``loadtests.bench.crowds``, after a warm-up crowd on an
event of their own (it opens every thread's connection: pymongo opens only
two at a time, which would otherwise trickle the start).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from pymongo import MongoClient

from events.ledger import strategies as ledger_strategies
from eventsite import embedded_mongo
from loadtests.bench import crowds
from loadtests.bench.context import CAPACITY, CLIENTS, USERS, log
from loadtests.bench.supplies import Bench

PLAIN_EVENT, PLAIN_WARM_UP = 1, 0  # the scratch server's documents


@contextmanager
def scratch_server() -> Iterator[str]:
    """A fresh embedded server in a directory of its own: its URI; stopped and removed after."""
    var_dir = Path(tempfile.mkdtemp(prefix="eventsite-bench-mongo-"))
    server = embedded_mongo.spawn(var_dir)
    try:
        yield embedded_mongo.wait_until_up(var_dir, server)
    finally:
        embedded_mongo.stop(server)
        shutil.rmtree(var_dir, ignore_errors=True)


def _plain_take(seats, event_id: int, user_id: int) -> tuple[int, str]:
    guarded = {
        "_id": event_id,
        "$expr": {"$lt": [{"$size": "$attendees"}, "$capacity"]},
        "attendees": {"$ne": user_id},
    }
    try:
        before = seats.find_one_and_update(guarded, {"$addToSet": {"attendees": user_id}})
    except Exception as exc:  # any failure is this user's answer, and counted
        return user_id, f"error {type(exc).__name__}"
    return user_id, crowds.CONFIRMED if before is not None else crowds.FULL


def plain_ceiling() -> tuple[dict, list[str]]:
    """Item 1: the summary of the crowd, and what its end check found."""
    log(f"1. plain guarded write: {CLIENTS} threads, {USERS} users, {CAPACITY} seats")
    bounded = {"serverSelectionTimeoutMS": 10_000, "socketTimeoutMS": 60_000}  # never a hang
    with scratch_server() as uri, MongoClient(uri, maxPoolSize=CLIENTS, **bounded) as client:
        seats = client.bench.ledger
        for event_id, capacity in ((PLAIN_WARM_UP, CLIENTS), (PLAIN_EVENT, CAPACITY)):
            seats.insert_one({"_id": event_id, "capacity": capacity, "attendees": []})
        crowds.rush(
            [partial(_plain_take, seats, PLAIN_WARM_UP)] * CLIENTS, list(range(1, CLIENTS + 1))
        )
        run = crowds.rush(
            [partial(_plain_take, seats, PLAIN_EVENT)] * CLIENTS, list(range(1, USERS + 1))
        )
        doc = seats.find_one({"_id": PLAIN_EVENT})
    problems = crowds.check("1. plain write", doc["attendees"], doc["capacity"], run)
    return crowds.summary(run), problems


def _site_take(strategy, event_id: int, user_id: int) -> tuple[int, str]:
    try:
        return user_id, str(strategy.take_seat(event_id, user_id).outcome)
    except Exception as exc:  # LedgerUnavailable, a timeout: this user's answer
        return user_id, f"error {type(exc).__name__}"


def site_write(bench: Bench) -> tuple[dict, list[str]]:
    """Item 2: the summary of the crowd, and what its end check found."""
    log(f'2. the site\'s single write ("atomic"): {CLIENTS} threads, {USERS} users')
    strategy = ledger_strategies.get("atomic")
    warm_up = bench.new_event("bench warm-up writes", capacity=CLIENTS)
    crowds.rush([partial(_site_take, strategy, warm_up)] * CLIENTS, bench.fresh_ids(CLIENTS))
    event_id = bench.new_event("bench site write", capacity=CAPACITY)
    asks = [partial(_site_take, strategy, event_id)] * CLIENTS
    run = crowds.rush(asks, bench.fresh_ids(USERS))
    site = bench.site
    doc = crowds.ledger_document(site.mongodb_uri, site.mongodb_db, event_id)
    problems = crowds.check("2. site's write", doc["attendees"], doc["capacity"], run)
    return crowds.summary(run), problems
