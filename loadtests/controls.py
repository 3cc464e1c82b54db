"""The controls: seat strategies that overbook on purpose, so that every check is seen to catch it.

Never the site's: ``events.ledger.strategies.get`` imports them only where a
proving ground (the test suite, ``make loadtest``, ``make compare``, ``make
chaos``) names one in ``STRATEGY``; ``eventsite.env`` refuses them anywhere
else. Each is a strategy of the same shape as the site's
(``take_seat``, ``give_up_seat``), on the same ledger documents.

- ``Naive``: read, check in Python, write with ``$push``: two requests can
  both see the last seat free.
- ``UnguardedBatch``: the combined write with its guard broken: a batch's
  newcomers all get seats while any seat is free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from events import ledger
from events.ledger import documents, pipelines, writes
from events.ledger.combining import Combiner
from events.ledger.connection import translate_errors
from events.ledger.strategies import (
    change,
    decide_take,
    push_seat,
    read_check_write,
    read_document,
    refusal,
)
from events.ledger.types import Outcome, Result

# The control's pause between its read and its write, so that it overbooks
# reliably under a rush on a 2-core machine: with 5, 20 or 50 ms the 200-for-5
# HTTP race of tests/ledger/test_strategies.py still seated exactly 5 in some runs
# (the requests reach the ledger one by one, slower than the window), and with
# 100 ms one fresh-clone run in about fifteen did too. Half a second: only a
# request that found a seat free pauses, so the race pays it about once. A
# real slow network or a GC pause opens the same window.
NAIVE_DELAY_S = 0.5
# The broken batch guard's batches wait to gather: a batch's writer waits
# until GATHER requests for the event wait (a gunicorn worker's 8 threads) or
# GATHER_PATIENCE_S has passed. On a small document a write takes a few
# milliseconds, so requests over HTTP rarely meet on their own: a fixed pause
# of 0.2 s before each batch still let a 200-for-5 race seat exactly 5 in one
# fresh-clone run (its batches were 3 and 2). Waiting for the batch to fill
# makes the first batch of a rush larger than any small event's seats.
GATHER = 8
GATHER_PATIENCE_S = 1.0


def _take_unguarded(event_id: int, user_ids: list[int]) -> list[Result]:
    """The combined write with a broken guard: the whole batch in while any seat is free.

    It asks "is there room?" where it should ask "how much?": a lone RSVP is
    answered right, and only a batch larger than the seats left overbooks,
    which only a rush makes.
    """
    unique = list(dict.fromkeys(user_ids))
    room = {"$cond": [{"$gt": [pipelines.ROOM, 0]}, len(unique), 0]}
    parties = [(user_id, 0) for user_id in unique]
    doc = documents.write(event_id, pipelines.take_seats(parties, documents.now_ms(), room=room))
    admitted = set(doc["last_write"]["admitted"]) if doc is not None else set()
    return writes.batch_results(doc, user_ids, admitted)


class _GatheringCombiner(Combiner):
    """The control's combiner: a batch waits until ``gather`` requests wait, or for patience."""

    def __init__(self, gather: int) -> None:
        super().__init__(_take_unguarded, max_batch=ledger.MAX_BATCH)
        self.gather = gather

    def before_batch(self, key) -> None:
        if self.gather > 1:  # the control only: see GATHER
            self.wait_until_waiting(key, self.gather, GATHER_PATIENCE_S)


@cache
def _unguarded_rsvps(gather: int) -> _GatheringCombiner:
    """One combiner per process (and per ``gather``), as the site's ``combined`` has."""
    return _GatheringCombiner(gather)


@dataclass(frozen=True)
class UnguardedBatch:
    """The control of ``combined``: batches admitted beyond the capacity."""

    name: str = "unguarded_batch"
    gather: int = GATHER

    @translate_errors
    def take_seat(self, event_id: int, user_id: int) -> Result:
        return _unguarded_rsvps(self.gather).submit(event_id, user_id)

    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return ledger.give_up_seat(event_id, user_id)


@dataclass(frozen=True)
class Naive:
    """Read, check in Python, write: two requests can both see the last seat free."""

    name: str = "naive"
    delay_s: float = NAIVE_DELAY_S

    @translate_errors
    def take_seat(self, event_id: int, user_id: int) -> Result:
        doc = read_document(event_id)
        outcome = decide_take(doc, user_id)
        if outcome is not Outcome.CONFIRMED:
            return refusal(outcome, doc, user_id)
        time.sleep(self.delay_s)  # the control only: see NAIVE_DELAY_S
        return change(event_id, {}, push_seat(user_id), user_id) or Result(Outcome.UNKNOWN_EVENT)

    @translate_errors
    def give_up_seat(self, event_id: int, user_id: int) -> Result:
        return read_check_write(event_id, user_id, taking=False)
