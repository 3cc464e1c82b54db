"""The embedded MongoDB keeps every RSVP it acknowledged through a SIGKILL mid-rush.

Several client processes fire the site's own RSVP write (``take_seat`` on
``{_id}``, as ``events.ledger`` sends it) at one ledger document; each reports
every write the server acknowledged with ``confirmed``. Once enough have been
acknowledged, with more still in flight, the server process is SIGKILLed (no
chance to flush or close anything), started again on the same data directory,
and the ledger must hold every acknowledged seat, once, within capacity.

What it catches: an engine or setting that answers before its commit is on
disk for the OS (an in-memory engine, a write-behind cache, a batched
commit), or a restart that loses the write-ahead log. It cannot catch what
only a power cut loses: with ``synchronous=NORMAL`` (set by mongoeco itself)
the last commits may sit in the OS's cache, which a SIGKILL leaves intact.
"""

from __future__ import annotations

import inspect
import multiprocessing
import queue
import threading
import time

import pytest
from pymongo import MongoClient, ReturnDocument
from pymongo.errors import PyMongoError

from events.ledger.pipelines import take_seat

pytestmark = pytest.mark.live

EVENT = 1
CAPACITY = 80
PROCESSES = 3
THREADS = 8
RSVPS_PER_THREAD = 10  # 240 attempts for 80 seats: the rush outlasts the kill
KILL_AFTER_ACKS = 30
TIMEOUT_S = 60


def seat_pipeline(user_id: int) -> list[dict]:
    """The site's RSVP pipeline (stamped with the time if it takes one)."""
    if "now_ms" in inspect.signature(take_seat).parameters:
        return take_seat(user_id, now_ms=int(time.time() * 1000))
    return take_seat(user_id)


def _writer(uri: str, first_user: int, go, reports) -> None:
    """One client process: THREADS threads, each RSVPing its own users until an error."""
    client = MongoClient(uri, maxPoolSize=THREADS, serverSelectionTimeoutMS=1000)
    ledger = client["durability"]["ledger"]
    ledger.database.command("ping")

    def rsvp_all(first: int) -> None:
        for user in range(first, first + RSVPS_PER_THREAD):
            try:
                doc = ledger.find_one_and_update(
                    {"_id": EVENT}, seat_pipeline(user), return_document=ReturnDocument.AFTER
                )
            except PyMongoError:
                reports.put(("error", user))
                return
            if doc is not None and doc["last_write"]["outcome"] == "confirmed":
                reports.put(("ack", user))

    threads = [
        threading.Thread(target=rsvp_all, args=(first_user + n * RSVPS_PER_THREAD,))
        for n in range(THREADS)
    ]
    reports.put(("ready", first_user))
    go.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()


def rush_kill_restart(server, before_restart=None) -> tuple[list[int], int, dict | None]:
    """Rush, SIGKILL once KILL_AFTER_ACKS are acknowledged, restart.

    Returns the acknowledged users, the number of writes that failed (the
    ones the kill cut off) and the ledger document after the restart.
    ``before_restart(var_dir)`` lets a demonstration damage the data first.
    """
    with MongoClient(server.uri) as client:
        client["durability"]["ledger"].replace_one(
            {"_id": EVENT},
            {"capacity": CAPACITY, "attendees": [], "waitlist": [], "waitlist_limit": None},
            upsert=True,
        )

    ctx = multiprocessing.get_context("spawn")
    go, reports = ctx.Event(), ctx.Queue()
    per_process = THREADS * RSVPS_PER_THREAD
    writers = [
        ctx.Process(target=_writer, args=(server.uri, 1000 + p * per_process, go, reports))
        for p in range(PROCESSES)
    ]
    for w in writers:
        w.start()
    acked: list[int] = []
    errors = 0
    ready = 0
    killed = False
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while any(w.is_alive() for w in writers) or not reports.empty():
            assert time.monotonic() < deadline, f"rush stuck: {len(acked)} acked, killed={killed}"
            try:
                kind, user = reports.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "ready":
                ready += 1
                if ready == PROCESSES:
                    go.set()
            elif kind == "ack":
                acked.append(user)
            else:
                errors += 1
            if not killed and len(acked) >= KILL_AFTER_ACKS:
                server.process.kill()  # SIGKILL: no flush, no close
                server.process.wait()
                server.process = None
                killed = True
    finally:
        for w in writers:
            w.join(timeout=5)
            if w.is_alive():
                w.kill()
    assert killed, f"the rush ended with only {len(acked)} acknowledged RSVPs"

    if before_restart is not None:
        before_restart(server.var_dir)
    server.start()
    with MongoClient(server.uri) as client:
        doc = client["durability"]["ledger"].find_one({"_id": EVENT})
    return acked, errors, doc


def test_sigkill_mid_rush_keeps_every_acknowledged_rsvp(spare_mongo):
    acked, errors, doc = rush_kill_restart(spare_mongo)

    assert errors > 0, "the kill came after the rush: nothing was in flight"
    assert len(acked) == len(set(acked)) >= KILL_AFTER_ACKS
    assert doc is not None, "the ledger document is gone after the restart"
    going = doc["attendees"]
    missing = sorted(set(acked) - set(going))
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged RSVPs lost: {missing}"
    assert len(going) == len(set(going)), "an attendee appears twice"
    assert len(going) <= CAPACITY

    # The restarted server goes on taking seats.
    with MongoClient(spare_mongo.uri) as client:
        doc = client["durability"]["ledger"].find_one_and_update(
            {"_id": EVENT}, seat_pipeline(99), return_document=ReturnDocument.AFTER
        )
    expected = "confirmed" if len(going) < CAPACITY else "full"
    assert doc["last_write"]["outcome"] == expected
