"""The SQL copies of a ledger write, after it decided: its record, its seat sample, its emails.

Part of ``events.services``. A seat change's copies go in ONE transaction:
one write lock and one commit instead of three (SQLite takes the whole
database's lock for each). Under a rush the transactions themselves queue
on that lock (py-spy on the web workers: a third of their threads' time in
``BEGIN IMMEDIATE``), so the copies of requests for one event that meet in
this process are combined like their ledger writes (``events.ledger_combining``):
while one transaction is open, the next collects, and one transaction
writes all of it. A lone copy is written at once.

The requests wait for their copies' commit before they answer, so a list
loaded right after an RSVP (its "You're going" marks come from the record)
shows it. A
failure rolls back the batch and is logged; every seat in it stands and is
answered as taken: the record is repaired from the ledger by a later write,
a sample is a point of a chart, an email a courtesy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction

from events import notifications, records, rush
from events.ledger import Result
from events.ledger_combining import Combiner
from events.models import Rsvp

logger = logging.getLogger(__name__)

MAX_BATCH = 32


@dataclass(frozen=True)
class Copy:
    result: Result
    user_id: int | None
    ended: Rsvp.Status
    emails: list[tuple[notifications.Kind, int]]


def mirror(*, event_id: int, copy: Copy) -> None:
    """Write the copy, with those of other requests for the event that meet it here.

    Inside a transaction of the caller's (the admin's, a test's), the copy
    joins it instead: another thread's connection would wait on the lock
    this one holds.
    """
    if connection.in_atomic_block:
        _write(event_id, [copy])
    else:
        _combined.submit(event_id, copy)


def _write(event_id: int, copies: list[Copy]) -> list[None]:
    try:
        with transaction.atomic():
            records.record_many(event_id, [(c.user_id, c.result, c.ended) for c in copies])
            rush.record_samples(event_id, [c.result for c in copies])
            for copy in copies:
                for kind, to in copy.emails:
                    notifications.enqueue_seat_email(kind, event_id=event_id, user_id=to)
    except Exception:  # whatever it is, the ledger has decided: the answers stand
        count = len(copies)
        logger.exception(
            "Could not record %d write(s) to event %s; the ledger has them", count, event_id
        )
    return [None] * len(copies)


_combined = Combiner(_write, max_batch=MAX_BATCH)
