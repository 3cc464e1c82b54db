"""Draws for the rush: entries until the draw, then the one write that seats the drawn.

Part of ``events.ledger``. Each is one atomic write of one document by
``_id`` (``events.ledger.pipelines.draw``); the draw is guarded by the
document's ``drawn``, so it runs once whoever calls it and however often.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.ledger import pipelines
from events.ledger.connection import translate_errors
from events.ledger.documents import now_ms, result_of, transition, write
from events.ledger.schema import guests as valid_guests
from events.ledger.schema import user_id as valid_user_id
from events.ledger.types import Result


@dataclass(frozen=True)
class Draw:
    """What a call of the draw did: ``DRAWN`` (this call drew) or ``ALREADY_DRAWN``."""

    result: Result
    drawn_in: tuple[int, ...] = ()  # seated, lowest ticket first
    drawn_waiting: tuple[int, ...] = ()  # put on the waiting list, in ticket order
    drawn_out: tuple[int, ...] = ()  # let go (when the losers do not wait)


@translate_errors
def enter_draw(event_id: int, user_id: int, *, ticket: float, guests: int = 0) -> Result:
    """An entry in the event's draw for the party; ``ticket`` in [0, 1) orders the draw."""
    if not (isinstance(ticket, float) and 0.0 <= ticket < 1.0):
        raise TypeError(f"a ticket is a float in [0, 1), not {ticket!r}")
    pipeline = pipelines.enter_draw(valid_user_id(user_id), now_ms(), valid_guests(guests), ticket)
    return transition(event_id, pipeline, user_id)


@translate_errors
def draw(event_id: int, *, losers_wait: bool = True) -> Draw:
    """Draw the event's entries, once: the drawn are seated, the rest wait (or go)."""
    doc = write(event_id, pipelines.draw(now_ms(), losers_wait=losers_wait))
    if doc is None:
        return Draw(result_of(None))
    last = doc["last_write"]
    return Draw(
        result_of(doc),
        tuple(last.get("drawn_in") or ()),
        tuple(last.get("drawn_waiting") or ()),
        tuple(last.get("drawn_out") or ()),
    )
