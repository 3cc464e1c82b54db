"""A draw for the rush: entries until the draw time, then seats drawn at random.

Until an event's ``draw_at`` an RSVP (or a join) is an entry: one per
person, holding no seat, so a rush of entries is no contest for seats. At the
draw time a task runs the draw (``ledger.draw``: one write, once): parties
are seated in the order of their tickets while they fit, the rest join the
waiting list in that order (or are let go, as the organiser chose), and
everyone is emailed their result. A request that arrives after the draw time
and finds it not yet run runs it first. After the draw, seats left go first
come, first served.

A ticket is made from the event's secret seed and the person's id
(HMAC-SHA256, its first 53 bits as a number in [0, 1)): uniform, fixed
before anyone enters, and, once the organiser shows the seed after the draw,
anyone can recompute every ticket and so the whole draw.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from django.db import DatabaseError
from django.utils import timezone

from events import ledger
from events.ledger import Draw, Outcome, Result
from events.models import Event, Rsvp
from events.services import seats  # the module: it imports this one

logger = logging.getLogger(__name__)
Status = Rsvp.Status
Losers = Event.DrawLosers


def ticket(seed: str, user_id: int) -> float:
    """The user's ticket in a draw with ``seed``: a number in [0, 1); lowest drawn first."""
    digest = hmac.new(seed.encode(), str(user_id).encode(), hashlib.sha256).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / 2**53


def due(event: Event) -> bool:
    """Whether the event's draw time has come and the site has not recorded its draw."""
    return event.draw_at is not None and event.drawn_at is None and not event.taking_entries


def entry(event: Event, guests: int):
    """The write that enters a party in the event's draw (``ALREADY_DRAWN`` once drawn)."""

    def enter(event_id: int, user_id: int) -> Result:
        chance = ticket(event.draw_seed, user_id)
        return ledger.enter_draw(event_id, user_id, ticket=chance, guests=guests)

    return enter


def _told(draw: Draw, user_id: int) -> Result:
    """One person's result of the draw: drawn in, waiting (and where), or let go."""
    whole = draw.result
    first = next(iter((*draw.drawn_in, *draw.drawn_waiting, *draw.drawn_out)), None)
    common = {"version": whole.version, "promoted": whole.promoted if user_id == first else ()}
    if user_id in draw.drawn_in:
        return Result(Outcome.DRAWN, whole.seats, going=True, **common)
    if user_id in draw.drawn_waiting:
        position = draw.drawn_waiting.index(user_id) + 1
        return Result(Outcome.WAITLISTED, whole.seats, position=position, **common)
    return Result(Outcome.NOT_DRAWN, whole.seats, **common)


def hold_draw(*, event_id: int) -> Draw | None:
    """Run the event's draw if it has not run (the ledger's write runs it once), tell everyone.

    None if the event is gone. Whoever calls it after the draw finds it done
    (``ALREADY_DRAWN``), so the task and a late request may both call it.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.draw_at is None:
        return None
    draw = ledger.draw(event_id, losers_wait=event.draw_losers == Losers.WAIT)
    if draw.result.outcome is Outcome.DRAWN:
        for user_id in (*draw.drawn_in, *draw.drawn_waiting, *draw.drawn_out):
            seats.after_write(event_id, _told(draw, user_id), user_id, Status.NOT_DRAWN)
    if draw.result.outcome in (Outcome.DRAWN, Outcome.ALREADY_DRAWN):
        try:
            Event.objects.filter(pk=event_id, drawn_at=None).update(drawn_at=timezone.now())
        except DatabaseError:  # the ledger is drawn: a later call records it
            logger.exception("Could not record the draw of event %s", event_id)
    return draw


def after_the_draw(event: Event, take):
    """``take``, once the event's draw has run (a late request runs it if it is due)."""

    def take_after(event_id: int, user_id: int) -> Result:
        if due(event):
            hold_draw(event_id=event_id)
        return take(event_id, user_id)

    return take_after
