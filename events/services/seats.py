"""Seats: RSVPs, cancels, the waiting list, capacity; each one guarded ledger write.

Seats are only ever changed through the
ledger's atomic transitions; what a transition did (including who it moved
from the waiting list into a seat) is read from the document it returned.
Reads live in ``events.selectors``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial

from django.db import DatabaseError
from django.utils.translation import ngettext

from events import ledger, mirror, records, seat_cache
from events.ledger import Outcome, Result, Seats
from events.ledger.strategies import configured as configured_strategy
from events.models import DESCRIPTIVE_FIELDS, Event, Rsvp
from events.services import draws, email_actions, notifications

logger = logging.getLogger(__name__)
Status = Rsvp.Status

KEEP = ledger.KEEP  # set_seats / update_event: leave this number as it is


class CapacityError(ValueError):
    """A capacity the ledger refused: below the number of people already going."""


class PartyError(ValueError):
    """Guests the event does not allow: more than its limit per RSVP, or any at all."""


@dataclass(frozen=True)
class SeatResult(Result):
    """A ledger result with the event row its rules were checked on.

    A request reads the event once: the view answers from this row instead of
    reading it again. None if there is no such event (or it is a draft).
    """

    event: Event | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, result: Result, event: Event | None) -> SeatResult:
        return cls(**{f.name: getattr(result, f.name) for f in fields(Result)}, event=event)


# What the rules read of the event, and what an answer shows of it (the API's
# EventDetailSerializer): the one read of the row serves both.
RULE_FIELDS = (
    *("status", "starts_at", "rsvp_deadline", "guests_allowed", "requires_approval"),
    *("draw_at", "draw_losers", "draw_seed", "drawn_at"),
)
# What an answer shows of the event besides its rules (attendees_public: the API's cards).
ANSWER_FIELDS = tuple(name for name in DESCRIPTIVE_FIELDS if name not in RULE_FIELDS)


def _checked_event(event_id: int, *, taking: bool = False) -> tuple[Event | None, Outcome | None]:
    """The event, and why it refuses this change before the ledger is asked, if it does.

    ``taking``: the change would take a seat or a place, which the RSVP
    deadline stops; giving one back stays possible until the event starts, so
    someone who cannot come after all still frees their seat for the next in line.
    """
    event = Event.objects.filter(pk=event_id).only(*RULE_FIELDS, *ANSWER_FIELDS).first()
    if event is None or event.is_draft:  # a draft is not there for the public
        return None, Outcome.UNKNOWN_EVENT
    return event, _refusal(event, taking=taking)


def _refusal(event: Event, *, taking: bool) -> Outcome | None:
    if event.is_cancelled:  # the ledger refuses too; this answers without asking it
        return Outcome.EVENT_CANCELLED
    if event.is_past:
        return Outcome.EVENT_PAST
    if taking and event.rsvps_closed:
        return Outcome.RSVPS_CLOSED
    return None


def _seat_change(
    write: Callable[[int, int], Result],
    *,
    event_id: int,
    user_id: int,
    taking: bool = False,
    ended: Status = Status.CANCELLED,
    event: Event | None = None,
) -> SeatResult:
    """The event's rules, then the ledger's ``write`` and what follows it.

    ``event``: the row, if the caller has read it for the rules already.
    """
    if event is None:
        event, refusal = _checked_event(event_id, taking=taking)
    else:
        refusal = _refusal(event, taking=taking)
    if refusal is not None:
        return SeatResult.of(Result(refusal), event)
    return SeatResult.of(after_write(event_id, write(event_id, user_id), user_id, ended), event)


def after_write(
    event_id: int, result: Result, user_id: int | None = None, ended: Status = Status.CANCELLED
) -> Result:
    """What follows a ledger write, once the ledger has decided.

    Each step works from the document the write returned, and none can undo
    it: a failure is logged and that's all (the record is repaired from the
    ledger later, a cached count expires, an email is a courtesy).
    """
    emails = notifications.seat_emails(result, user_id, removed=ended == Status.REMOVED)
    # A backend that sends where it queues (ImmediateBackend) sends after the
    # commit: no mail server is waited for while the database's write lock is held.
    later = notifications.sends_at_once()
    copy = mirror.Copy(result, user_id, ended, emails, queue_here=not later)
    for kind, to in mirror.mirror(event_id=event_id, copy=copy):
        notifications.queue_seat_email(kind, event_id=event_id, user_id=to, version=result.version)
    seat_cache.refresh(event_id, result.seats)
    _repair_record(event_id, result)
    return result


def _repair_record(event_id: int, result: Result) -> None:
    """After the commit: a record left behind by a crash is mended from the ledger."""
    try:
        repair = records.repair_if_behind(event_id, result)
    except (DatabaseError, ledger.LedgerUnavailable):
        # The seat is taken: the answer must say so. A later write checks again.
        logger.exception("Could not check the record of event %s against the ledger", event_id)
        return
    if repair is not None and repair.needed:
        logger.warning("Record of event %s repaired from the ledger: %s", event_id, repair)


def _allowed(event: Event | None, guests: int) -> None:
    """Refuse more guests than the event allows (checked on the row the rules read)."""
    if event is None or guests <= event.guests_allowed:
        return
    if event.guests_allowed == 0:
        raise PartyError("This event does not allow guests: RSVP for yourself only.")
    raise PartyError(
        ngettext(
            "This event allows at most %(limit)d guest per RSVP.",
            "This event allows at most %(limit)d guests per RSVP.",
            event.guests_allowed,
        )
        % {"limit": event.guests_allowed}
    )


def _with_guests(take: Callable[..., Result], guests: int) -> Callable[[int, int], Result]:
    return lambda event_id, user_id: take(event_id, user_id, guests=guests)


# The outcomes after which the party is the one asked for: its names are kept.
NAMES_SAVED = frozenset(
    {
        Outcome.CONFIRMED,
        Outcome.WAITLISTED,
        Outcome.REQUESTED,
        Outcome.ENTERED,
        Outcome.PARTY_CHANGED,
    }
)


def _party_change(
    write_for: Callable[[Event], Callable[[int, int], Result]],
    *,
    event_id: int,
    user_id: int,
    guests: int,
    guest_names: list[str] | None,
    taking: bool = True,
) -> SeatResult:
    """A seat change for a party: the event's rules and guest limit, then the ledger's write.

    ``write_for(event)``: the write, given the row the rules were read from.
    The guests' names go into the SQL record once the ledger has seated or
    queued the party: names never decide a seat.
    """
    event, refusal = _checked_event(event_id, taking=taking)
    if refusal is not None:
        return SeatResult.of(Result(refusal), event)
    _allowed(event, guests)
    write = write_for(event)
    result = _seat_change(write, event_id=event_id, user_id=user_id, taking=taking, event=event)
    if guest_names is not None and result.outcome in NAMES_SAVED:
        names = [name for name in guest_names if name][: result.guests]
        Rsvp.objects.filter(event_id=event_id, user_id=user_id).update(guest_names=names)
    return result


def _write_for(event: Event, *, take, guests: int) -> Callable[[int, int], Result]:
    """How the event grants what the person asks for: a request, an entry, or ``take``.

    An approval event takes requests; an event that opens with a draw takes
    entries until it, then (running the draw first if it is due) ``take``;
    an entry that lands after the draw was run is taken as ``take`` too.
    """
    if event.requires_approval:
        return _with_guests(ledger.request_seat, guests)
    if event.taking_entries:
        enter = draws.entry(event, guests)
        take_now = draws.after_the_draw(event, take)

        def enter_or_take(event_id: int, user_id: int) -> Result:
            result = enter(event_id, user_id)
            drawn = result.outcome is Outcome.ALREADY_DRAWN
            return take_now(event_id, user_id) if drawn else result

        return enter_or_take
    if event.draw_at is not None:
        return draws.after_the_draw(event, take)
    return take


def rsvp(
    *, event_id: int, user_id: int, guests: int = 0, guest_names: list[str] | None = None
) -> SeatResult:
    """Seats for the user and ``guests`` if the event is open and they are free.

    A party of one goes through the configured seat strategy (``combined``,
    the ledger's guarded write, unless a load test or the tests chose
    another); a party with guests always through the ledger's own write,
    which counts guests (the strategies ``make compare`` sets side by side
    take parties of one). At an event that requires approval it is a request
    (``REQUESTED``), holding no seat. ``PartyError`` for more guests than allowed.
    """
    take = (
        configured_strategy().take_seat if guests == 0 else _with_guests(ledger.take_seat, guests)
    )
    return _party_change(
        partial(_write_for, take=take, guests=guests),
        event_id=event_id,
        user_id=user_id,
        guests=guests,
        guest_names=guest_names,
    )


def change_party(
    *, event_id: int, user_id: int, guests: int, guest_names: list[str] | None = None
) -> SeatResult:
    """A new number of guests for the user's seats or place on the list; the place is kept.

    Growing takes free seats only (``FULL`` otherwise) and stops with the
    RSVPs (``RSVPS_CLOSED``); shrinking is possible until the event starts,
    and the seats it frees go to the waiting at once.
    """

    def write_for(event: Event) -> Callable[[int, int], Result]:
        may_grow = not event.rsvps_closed
        return lambda event_id, user_id: ledger.change_party(
            event_id, user_id, guests=guests, may_grow=may_grow
        )

    return _party_change(
        write_for,
        event_id=event_id,
        user_id=user_id,
        guests=guests,
        guest_names=guest_names,
        taking=False,
    )


def cancel_rsvp(*, event_id: int, user_id: int) -> SeatResult:
    """Give the user's seat back (to the first waiting), or withdraw a request not yet
    decided or an entry not yet drawn; once started the list is final.

    Only an event that takes requests or entries pays for looking at them:
    a plain event's cancel, the one of every rush, is the lean write.
    """
    event, refusal = _checked_event(event_id)
    if event is None:
        return SeatResult.of(Result(refusal), None)
    asks = event.requires_approval or event.draw_at is not None
    write = ledger.withdraw if asks else configured_strategy().give_up_seat
    return _seat_change(write, event_id=event_id, user_id=user_id, event=event)


def join_waitlist(
    *, event_id: int, user_id: int, guests: int = 0, guest_names: list[str] | None = None
) -> SeatResult:
    """A place at the end of the list, or seats at once if the party fits and nobody
    waiting does. A party waits as one entry."""
    join = _with_guests(ledger.join_waitlist, guests)
    return _party_change(
        partial(_write_for, take=join, guests=guests),
        event_id=event_id,
        user_id=user_id,
        guests=guests,
        guest_names=guest_names,
    )


def leave_waitlist(*, event_id: int, user_id: int) -> SeatResult:
    leave = ledger.leave_waitlist
    return _seat_change(leave, event_id=event_id, user_id=user_id, ended=Status.LEFT)


def remove_attendee(*, event_id: int, user_id: int) -> Result:
    """An organiser takes someone's seat away; the first waiting gets it."""
    result = ledger.give_up_seat(event_id, user_id)
    return after_write(event_id, result, user_id, Status.REMOVED)


def add_attendee(*, event_id: int, user_id: int) -> SeatResult:
    """An organiser gives someone a seat by hand: only a free one, guarded like an RSVP.

    The RSVP deadline does not stop an organiser; a start, a draft or a
    cancellation does (a seat at an event nobody can attend means nothing).
    """
    return _seat_change(ledger.take_seat, event_id=event_id, user_id=user_id)


def set_seats(
    *, event_id: int, capacity: int | str = KEEP, waitlist_limit: int | str | None = KEEP
) -> Seats:
    """Capacity and waiting list limit (0: no list; None: no limit) in one guarded write.

    Refused as a whole if fewer seats than people going are asked for
    (``CapacityError``); a raise seats the first waiting at once, and they
    are emailed. Whoever already waits keeps their place under a new limit.
    """
    if capacity != KEEP and capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    if waitlist_limit not in (KEEP, None) and waitlist_limit < 0:
        raise CapacityError("A waiting list limit cannot be negative.")
    result = ledger.set_seats(event_id, capacity, waitlist_limit)
    if result.outcome is Outcome.UNKNOWN_EVENT:
        raise CapacityError("This event has no ledger.")
    if result.outcome is Outcome.EVENT_CANCELLED:
        raise CapacityError("This event is cancelled: its seats are kept as they were.")
    if result.outcome is Outcome.CAPACITY_BELOW_GOING:
        going = result.seats.taken
        raise CapacityError(
            ngettext(
                "%(going)d person is already going, so capacity cannot be lower than %(going)d.",
                "%(going)d people are already going, so capacity cannot be lower than %(going)d.",
                going,
            )
            % {"going": going}
        )
    after_write(event_id, result)
    return result.seats


def set_capacity(*, event_id: int, capacity: int) -> Seats:
    return set_seats(event_id=event_id, capacity=capacity)


def set_waitlist_limit(*, event_id: int, limit: int | None) -> Seats:
    return set_seats(event_id=event_id, waitlist_limit=limit)


def keep_seat(*, event_id: int, user_id: int) -> SeatResult:
    """ "Still coming?": yes. The seat is not released (only while the person holds it)."""
    return _seat_change(ledger.keep_seat, event_id=event_id, user_id=user_id)


_EMAIL_ACTIONS = {
    email_actions.Action.CANCEL_RSVP: cancel_rsvp,
    email_actions.Action.LEAVE_WAITLIST: leave_waitlist,
    email_actions.Action.KEEP_SEAT: keep_seat,
}


def carry_out_email_action(*, link: email_actions.Link) -> SeatResult:
    """A signed link's action, as the person's own click on the event page would do it."""
    return _EMAIL_ACTIONS[link.action](event_id=link.event_id, user_id=link.user_id)
