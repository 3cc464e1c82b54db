"""The rush: how an event's seats filled over time, for the organiser's admin page.

Every ledger write's result is copied here as a ``SeatSample`` (``record_sample``,
called by ``events.services`` after the write, like the SQL record). The
chart and figures are read from those samples.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.utils import timezone

from events.ledger import Outcome, Result
from events.models import SeatSample

logger = logging.getLogger(__name__)

# Writes that can change the counts; a refusal (full, already going) cannot,
# and in a rush most writes are refusals.
CHANGES = {
    Outcome.CONFIRMED,
    Outcome.CANCELLED,
    Outcome.WAITLISTED,
    Outcome.LEFT_WAITLIST,
    Outcome.CAPACITY_SET,
}


def record_sample(event_id: int, result: Result) -> None:
    """Keep the seats a write left, once per ledger version; a failure only loses a point."""
    if result.seats is None or not result.version or result.outcome not in CHANGES:
        return
    sample = SeatSample(
        event_id=event_id,
        version=result.version,
        at=timezone.now(),
        capacity=result.seats.capacity,
        taken=result.seats.taken,
        waiting=result.seats.waiting,
    )
    try:
        SeatSample.objects.bulk_create([sample], ignore_conflicts=True)
    except DatabaseError:
        logger.exception("Could not keep a seat sample of event %s", event_id)
