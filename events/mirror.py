"""The SQL copies of a ledger write, after it decided: its record, its seat sample, its emails.

Part of ``events.services``. A seat change's copies go in ONE transaction:
one write lock and one commit instead of three (SQLite takes the whole
database's lock for each). Under a rush the transactions themselves queue
on that lock (py-spy on the web workers: a third of their threads' time in
``BEGIN IMMEDIATE``), so the copies of requests for one event that meet in
this process are combined like their ledger writes (``events.ledger.combining``):
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

from events import records, rush
from events.ledger import Result
from events.ledger.combining import Combiner
from events.models import Rsvp
from events.services import notifications

logger = logging.getLogger(__name__)

MAX_BATCH = 32


Email = tuple[notifications.Kind, int]
# The emails that tell of a seat: due only from the write that moves the
# person's row to going (``events.records``), so each seat is told once.
SEAT_GIVING = frozenset(
    {
        notifications.Kind.CONFIRMED,
        notifications.Kind.PROMOTED,
        notifications.Kind.APPROVED,
        notifications.Kind.DRAWN,
    }
)


@dataclass(frozen=True)
class Copy:
    result: Result
    user_id: int | None
    ended: Rsvp.Status
    emails: list[Email]
    queue_here: bool = True  # queue the emails in the copy's transaction (else: the caller)


def mirror(*, event_id: int, copy: Copy) -> list[Email]:
    """Write the copy, with those of other requests for the event that meet it here.

    The emails left for the caller to queue after the commit: those due, if
    the copy does not queue them itself; after a failure, those that do not
    tell of a seat (a seat is told by the repair that writes its row).

    Inside a transaction of the caller's (the admin's, a test's), the copy
    joins it instead: another thread's connection would wait on the lock
    this one holds.
    """
    if connection.in_atomic_block:
        return _write(event_id, [copy])[0]
    return _combined.submit(event_id, copy)


def _write(event_id: int, copies: list[Copy]) -> list[list[Email]]:
    try:
        with transaction.atomic():
            writes = [(c.user_id, c.result, c.ended) for c in copies]
            recorded = records.record_many(event_id, writes)
            rush.record_samples(event_id, [c.result for c in copies])
            due = [_due(copy, recorded) for copy in copies]
            for copy, emails in zip(copies, due, strict=True):
                for kind, to in emails if copy.queue_here else []:
                    version = copy.result.version
                    notifications.enqueue_seat_email(
                        kind, event_id=event_id, user_id=to, version=version
                    )
    except Exception:  # whatever it is, the ledger has decided: the answers stand
        count = len(copies)
        logger.exception(
            "Could not record %d write(s) to event %s; the ledger has them", count, event_id
        )
        return [[e for e in c.emails if e[0] not in SEAT_GIVING] for c in copies]
    return [[] if copy.queue_here else emails for copy, emails in zip(copies, due, strict=True)]


def _due(copy: Copy, recorded: records.Recorded) -> list[Email]:
    """The copy's emails that are due: a seat's only if this copy wrote its row."""
    version = copy.result.version
    due = [
        (kind, to)
        for kind, to in copy.emails
        if kind not in SEAT_GIVING or (version, to) in recorded.written
    ]
    if copy.user_id in recorded.untold:  # "already going", yet never told
        due.append((notifications.Kind.CONFIRMED, copy.user_id))
    return due


_combined = Combiner(_write, max_batch=MAX_BATCH)
