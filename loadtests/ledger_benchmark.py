"""FOR BENCHMARKS ONLY: ledger operations that ``make bench`` and the tests use, never the site.

They bypass the guards of ``events.ledger`` (filling an event with thousands
of attendees in one write, loading a site's history in bulk) or reproduce the
ledger's earlier form (guard in the filter, a side collection of seat
times), so that one benchmark run can time before and after on the same data.
It lives in the load tools' package, which the site never imports; it uses
``events.ledger``'s parts (connection, documents) below its face on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime

import mongoeco
from django.conf import settings
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import ReturnDocument

from events.ledger import COLLECTION, LEGACY_TIMES, Seats
from events.ledger.connection import collection, translate_errors
from events.ledger.documents import now_ms, seats_of


@translate_errors
def fill_for_benchmark(
    event_id: int, user_ids: list[int], *, waiting: bool = False
) -> Seats | None:
    """FOR BENCHMARKS ONLY: append many attendees (or waiters) in one ``$push``.

    It bypasses every guard of the transitions above, so it can overbook an
    event; nothing in the site may call it. It exists so that ``make bench``
    can measure one RSVP on an event that already has thousands of attendees
    (or waiting) without making thousands of RSVPs first. None if no such event.
    """
    ids = list(user_ids)
    if waiting:
        update = {"$push": {"waitlist": {"$each": ids}}, "$inc": {"waiting": len(ids)}}
    else:
        now = [now_ms()] * len(ids)
        pushed = {"attendees": {"$each": ids}, "seated_at": {"$each": now}}
        update = {"$push": pushed, "$inc": {"taken": len(ids)}}
    doc = collection().find_one_and_update(
        {"_id": event_id}, update, return_document=ReturnDocument.AFTER
    )
    return seats_of(doc) if doc is not None else None


@translate_errors
def load_history_for_benchmark(
    seated: dict[int, list[int]], *, legacy_times: bool = True, data_file: str | None = None
) -> int:
    """FOR BENCHMARKS ONLY: ledgers of past events, each full with these attendees.

    ``seated`` maps event ids (no ledger yet) to the users who held its seats.
    With ``legacy_times`` each seat also gets its document in the old form's
    ``rsvp_times``, as the old RSVP wrote it. How many documents were written.

    Through pymongo this is one ``insert_many`` per collection. The embedded
    server's wire ``insert`` compares every new document with every document
    already in the collection (10,000 ledgers would take ~15 minutes, 100,000
    seat times hours), so with ``data_file`` (the embedded server's SQLite
    file; the server keeps running) the documents go in through mongoeco's own
    client on that file, whose batch insert checks the keys once per batch.
    The server sees them at once (SQLite, WAL); the caller checks it does.
    """
    now = now_ms()
    ledgers = [
        {
            "_id": event_id,
            "capacity": len(users),
            "attendees": list(users),
            "seated_at": [now] * len(users),
            "waitlist": [],
            "waitlist_limit": None,
            "taken": len(users),
            "waiting": 0,
        }
        for event_id, users in seated.items()
    ]
    at = datetime.now(UTC)
    times = [
        {"_id": f"{event_id}:{user_id}", "event": event_id, "user": user_id, "at": at}
        for event_id, users in seated.items()
        for user_id in users
    ]
    batches = [(COLLECTION, ledgers), (LEGACY_TIMES, times if legacy_times else [])]
    if data_file is None:
        for name, docs in batches:
            if docs:
                collection(name).insert_many(docs, ordered=False)
    else:
        _load_in_process(data_file, batches)
    return len(ledgers) + len(times if legacy_times else [])


def _load_in_process(data_file: str, batches: list[tuple[str, list[dict]]]) -> None:
    local = mongoeco.MongoClient(SQLiteEngine(data_file))
    try:
        database = local[settings.MONGODB_DB]
        for name, docs in batches:
            for start in range(0, len(docs), 2_000):
                database[name].insert_many(docs[start : start + 2_000])
    finally:
        local.close()


@translate_errors
def count_for_benchmark(legacy_times: bool = False) -> int:
    """FOR BENCHMARKS ONLY: documents in the ledger (or in the old ``rsvp_times``).

    From the collection's metadata: the embedded server refuses a
    ``count_documents`` over 100,000 documents (its aggregation budget).
    """
    return collection(LEGACY_TIMES if legacy_times else COLLECTION).estimated_document_count()


@translate_errors
def legacy_prepare_for_benchmark() -> None:
    """FOR BENCHMARKS ONLY: the old form's index on ``rsvp_times`` (its ``ensure_indexes``)."""
    collection(LEGACY_TIMES).create_index("event")


@translate_errors
def legacy_rsvp_for_benchmark(event_id: int, user_id: int) -> bool:
    """FOR BENCHMARKS ONLY: the RSVP in the ledger's earlier form; True if it took a seat.

    The guard in the filter (which the embedded server answers by decoding
    every ledger), then, on success, one upsert of the seat's time into
    ``rsvp_times`` (which grows by one document per RSVP ever made). It only
    touches ``attendees``: use it on an event of its own, never the site's.
    """
    doc = collection().find_one_and_update(
        {
            "_id": event_id,
            "$expr": {"$lt": [{"$size": "$attendees"}, "$capacity"]},
            "attendees": {"$ne": user_id},
        },
        {"$addToSet": {"attendees": user_id}},
        projection={"capacity": 1, "attendees": 1},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return False
    collection(LEGACY_TIMES).replace_one(
        {"_id": f"{event_id}:{user_id}"},
        {"event": event_id, "user": user_id, "at": datetime.now(UTC)},
        upsert=True,
    )
    return True


@translate_errors
def legacy_cancel_for_benchmark(event_id: int, user_id: int) -> bool:
    """FOR BENCHMARKS ONLY: the cancel in the ledger's earlier form; True if it freed a seat."""
    doc = collection().find_one_and_update(
        {"_id": event_id, "attendees": user_id},
        {"$pull": {"attendees": user_id}},
        projection={"capacity": 1, "attendees": 1},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return False
    collection(LEGACY_TIMES).delete_one({"_id": f"{event_id}:{user_id}"})
    return True


@translate_errors
def legacy_events_of_for_benchmark(user_id: int) -> list[int]:
    """FOR BENCHMARKS ONLY: "My RSVPs" in the earlier form, a query over every ledger."""
    return [doc["_id"] for doc in collection().find({"attendees": user_id}, {"_id": 1})]


@translate_errors
def legacy_seats_for_benchmark(event_ids: list[int]) -> dict[int, Seats]:
    """FOR BENCHMARKS ONLY: the home page's seats as read in the earlier form.

    One aggregation with ``$in`` on ``_id``, which the embedded server answers
    by decoding every document of the collection.
    """
    pipeline = [
        {"$match": {"_id": {"$in": list(event_ids)}}},
        {"$project": {"capacity": 1, "taken": {"$size": "$attendees"}}},
    ]
    return {d["_id"]: Seats(d["capacity"], d["taken"]) for d in collection().aggregate(pipeline)}
