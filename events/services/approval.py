"""Approval-required events: an organiser approves or declines requests for seats.

An RSVP at such an event is a request (``events.services.seats.rsvp``);
here an organiser's decision is one guarded ledger write for any number of
requests (``ledger.approve``: seats only for the parties that fit, in the
order they asked), then each person's record and email, as after any seat
change.
"""

from __future__ import annotations

from events import ledger
from events.ledger import Decision
from events.models import Rsvp
from events.services.seats import after_write

Status = Rsvp.Status
# People per decision: one write decides them all, and its cost grows with them.
MAX_DECIDED = 500
MAX_ID = 2**63 - 1  # the largest user id the ledger (a BSON int64) and SQL (a bigint) hold


def _tell(event_id: int, decision: Decision) -> None:
    """Each person's record and email, from the document the decision's write returned."""
    if decision.result.seats is None:  # no ledger: nothing was decided
        return
    for user_id in (*decision.approved, *decision.queued, *decision.declined):
        after_write(event_id, decision.result_for(user_id), user_id, Status.DECLINED)


def approve_requests(*, event_id: int, user_ids: list[int], or_wait: bool = False) -> Decision:
    """Seats for the requests of ``user_ids`` that fit, first asked first; one guarded write.

    A party that does not fit stays requested (the decision's outcome is
    ``FULL`` if none fit), or joins the waiting list if ``or_wait``.
    Approved people are emailed their seat (with its check-in code); queued
    ones their place on the list.
    """
    decision = ledger.approve(event_id, user_ids, or_wait=or_wait)
    _tell(event_id, decision)
    return decision


def decline_requests(*, event_id: int, user_ids: list[int]) -> Decision:
    """Refuse the requests of ``user_ids``; each person is emailed."""
    decision = ledger.decline(event_id, user_ids)
    _tell(event_id, decision)
    return decision
