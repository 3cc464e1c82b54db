"""Approval-required events: requests, and an organiser's approvals and refusals.

Part of ``events.ledger``. Each is one atomic write of one document by
``_id`` (``events.ledger.pipelines.requests``), its outcome read from the
document it returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from events.ledger import pipelines
from events.ledger.connection import translate_errors
from events.ledger.documents import guests_in, now_ms, result_of, transition, write
from events.ledger.schema import guests as valid_guests
from events.ledger.schema import user_id as valid_user_id
from events.ledger.types import Outcome, Result


@dataclass(frozen=True)
class Decision:
    """What one approval or refusal did, and to whom."""

    result: Result  # APPROVED, DECLINED, FULL (none fit), NOT_REQUESTED, EVENT_CANCELLED...
    approved: tuple[int, ...] = ()  # given seats
    queued: tuple[int, ...] = ()  # put on the waiting list (an approval with ``or_wait``)
    declined: tuple[int, ...] = ()
    positions: dict[int, int] = field(default_factory=dict)  # the queued: 1-based places
    guests: dict[int, int] = field(default_factory=dict)  # the approved and queued: guests

    def result_for(self, user_id: int) -> Result:
        """One person's result of this decision (its first person also hears who was promoted)."""
        whole = self.result
        if user_id in self.approved:
            outcome, going = Outcome.APPROVED, True
        elif user_id in self.queued:
            outcome, going = Outcome.WAITLISTED, False
        else:
            outcome, going = Outcome.DECLINED, False
        first = next(iter((*self.approved, *self.queued, *self.declined)), None)
        return Result(
            outcome,
            whole.seats,
            position=self.positions.get(user_id),
            promoted=whole.promoted if user_id == first else (),
            going=going,
            version=whole.version,
            guests=self.guests.get(user_id, 0),
        )


@translate_errors
def request_seat(event_id: int, user_id: int, *, guests: int = 0) -> Result:
    """Ask for seats for the party at an event that requires approval; none is taken yet."""
    pipeline = pipelines.request_seat(valid_user_id(user_id), now_ms(), valid_guests(guests))
    return transition(event_id, pipeline, user_id)


def _decision(doc: dict | None) -> Decision:
    result = result_of(doc)
    if doc is None:
        return Decision(result)
    last = doc["last_write"]
    approved, queued = tuple(last.get("approved") or ()), tuple(last.get("queued") or ())
    waitlist = doc.get("waitlist") or []
    return Decision(
        result,
        approved=approved,
        queued=queued,
        declined=tuple(last.get("declined") or ()),
        positions={u: waitlist.index(u) + 1 for u in queued if u in waitlist},
        guests={u: guests_in(doc, u) for u in (*approved, *queued)},
    )


@translate_errors
def approve(event_id: int, user_ids: list[int], *, or_wait: bool = False) -> Decision:
    """Seats for the requests of ``user_ids`` whose parties fit, in the order they asked.

    The rest stay requested, or join the waiting list if ``or_wait``.
    """
    pipeline = pipelines.approve([valid_user_id(u) for u in user_ids], now_ms(), or_wait=or_wait)
    return _decision(write(event_id, pipeline))


@translate_errors
def decline(event_id: int, user_ids: list[int]) -> Decision:
    """Refuse the requests of ``user_ids``; whoever holds seats or waits is left alone."""
    return _decision(
        write(event_id, pipelines.decline([valid_user_id(u) for u in user_ids], now_ms()))
    )
