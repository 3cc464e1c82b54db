"""The business rules of events, RSVPs and waiting lists: every write.

Pages, the admin, the API and the load tests all call these functions, so
each behaviour has one code path. Seats are only ever changed through the
ledger's atomic transitions; what a transition did (including who it moved
from the waiting list into a seat) is read from the document it returned.
Reads live in ``events.selectors``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from django.db import DatabaseError, transaction
from django.utils.translation import ngettext

from events import ledger, mailings, mirror, notifications, records, seat_cache
from events.ledger import Outcome, Result, Seats
from events.ledger import audit as ledger_audit
from events.ledger.strategies import configured as configured_strategy
from events.models import CalendarFeed, Event, Rsvp, new_feed_token

logger = logging.getLogger(__name__)
Status = Rsvp.Status

MESSAGES: dict[Outcome, str] = {
    Outcome.CONFIRMED: "You're going!",
    Outcome.ALREADY_GOING: "You're already going.",
    Outcome.FULL: "Event is full",
    Outcome.UNKNOWN_EVENT: "Event not found",
    Outcome.EVENT_PAST: "This event has already started, so RSVPs are closed.",
    Outcome.RSVPS_CLOSED: "RSVPs for this event have closed.",
    Outcome.EVENT_CANCELLED: "This event has been cancelled.",
    Outcome.CANCELLED: "Your RSVP is cancelled and your seat is free for someone else.",
    Outcome.NOT_GOING: "You have no RSVP for this event.",
    Outcome.WAITLISTED: (
        "You're #{position} on the waiting list. We'll email you if a seat frees up."
    ),
    Outcome.ALREADY_WAITING: "You're already #{position} on the waiting list.",
    Outcome.WAITLIST_CLOSED: "The waiting list for this event is closed or full.",
    Outcome.LEFT_WAITLIST: "You have left the waiting list.",
    Outcome.NOT_WAITING: "You're not on the waiting list for this event.",
    Outcome.BUSY: "Many people are taking seats right now: nothing was changed, try again.",
}


def message(result: Result) -> str:
    """The sentence a person is shown for a result."""
    return MESSAGES[result.outcome].format(position=result.position)


KEEP = ledger.KEEP  # set_seats / update_event: leave this number as it is


class CapacityError(ValueError):
    """A capacity the ledger refused: below the number of people already going."""


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
RULE_FIELDS = ("status", "starts_at", "rsvp_deadline")
ANSWER_FIELDS = ("title", "description", "venue", "time_zone", "ends_at", "online_url")


def _checked_event(event_id: int, *, taking: bool = False) -> tuple[Event | None, Outcome | None]:
    """The event, and why it refuses this change before the ledger is asked, if it does.

    ``taking``: the change would take a seat or a place, which the RSVP
    deadline stops; giving one back stays possible until the event starts, so
    someone who cannot come after all still frees their seat for the next in line.
    """
    event = Event.objects.filter(pk=event_id).only(*RULE_FIELDS, *ANSWER_FIELDS).first()
    if event is None or event.is_draft:  # a draft is not there for the public
        return None, Outcome.UNKNOWN_EVENT
    if event.is_cancelled:  # the ledger refuses too; this answers without asking it
        return event, Outcome.EVENT_CANCELLED
    if event.is_past:
        return event, Outcome.EVENT_PAST
    if taking and event.rsvps_closed:
        return event, Outcome.RSVPS_CLOSED
    return event, None


def _seat_change(
    write: Callable[[int, int], Result],
    *,
    event_id: int,
    user_id: int,
    taking: bool = False,
    ended: Status = Status.CANCELLED,
) -> SeatResult:
    """The event's rules, then the ledger's ``write`` and what follows it."""
    event, refusal = _checked_event(event_id, taking=taking)
    if refusal is not None:
        return SeatResult.of(Result(refusal), event)
    return SeatResult.of(_after_write(event_id, write(event_id, user_id), user_id, ended), event)


def _after_write(
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


def rsvp(*, event_id: int, user_id: int) -> SeatResult:
    """Give the user a seat if the event is open, has one free and nobody waits.

    Through the configured seat strategy: ``atomic`` (the ledger's guarded
    write) unless a load test or the tests chose another.
    """
    take = configured_strategy().take_seat
    return _seat_change(take, event_id=event_id, user_id=user_id, taking=True)


def cancel_rsvp(*, event_id: int, user_id: int) -> SeatResult:
    """Give the user's seat back (to the first waiting); once started the list is final."""
    give_back = configured_strategy().give_back
    return _seat_change(give_back, event_id=event_id, user_id=user_id)


def join_waitlist(*, event_id: int, user_id: int) -> SeatResult:
    """A place at the end of the list, or a seat at once if one is free and nobody waits."""
    join = ledger.join_waitlist
    return _seat_change(join, event_id=event_id, user_id=user_id, taking=True)


def leave_waitlist(*, event_id: int, user_id: int) -> SeatResult:
    leave = ledger.leave_waitlist
    return _seat_change(leave, event_id=event_id, user_id=user_id, ended=Status.LEFT)


def remove_attendee(*, event_id: int, user_id: int) -> Result:
    """An organiser takes someone's seat away; the first waiting gets it."""
    result = ledger.remove_attendee(event_id, user_id)
    return _after_write(event_id, result, user_id, Status.REMOVED)


def add_attendee(*, event_id: int, user_id: int) -> SeatResult:
    """An organiser gives someone a seat by hand: only a free one, guarded like an RSVP.

    The RSVP deadline does not stop an organiser; a start, a draft or a
    cancellation does (a seat at an event nobody can attend means nothing).
    """
    return _seat_change(ledger.add_attendee, event_id=event_id, user_id=user_id)


def create_event(*, capacity: int, waitlist_limit: int | None = None, **fields) -> Event:
    """Save a new event and open its ledger; if MongoDB refuses, nothing is saved."""
    return save_new_event(event=Event(**fields), capacity=capacity, waitlist_limit=waitlist_limit)


@transaction.atomic
def save_new_event(*, event: Event, capacity: int, waitlist_limit: int | None = None) -> Event:
    """Save an unsaved event (the admin's form builds one) and open its ledger, as one.

    The SQL row is written first, inside a transaction: if MongoDB then
    refuses, the row is rolled back and nothing is left half-made.
    """
    if capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    event.save()
    ledger.create_event(event.pk, capacity, waitlist_limit)
    return event


@transaction.atomic
def update_event(
    *, event: Event, capacity: int | str = KEEP, waitlist_limit: int | str | None = KEEP
) -> Event:
    """Save an event's fields and its seats' numbers, as one.

    The SQL row is saved first inside a transaction, then the ledger's one
    guarded write (``set_seats``) decides; if it refuses (``CapacityError``)
    or MongoDB is down, the row is rolled back, so both stores stay as they
    were. Nothing needs undoing in MongoDB: its write is the last step.
    """
    event.save()
    if capacity != KEEP or waitlist_limit != KEEP:
        set_seats(event_id=event.pk, capacity=capacity, waitlist_limit=waitlist_limit)
    return event


def publish_events(*, event_ids: list[int]) -> int:
    """Drafts become public; how many did (published and cancelled ones stay as they are)."""
    drafts = Event.objects.filter(pk__in=event_ids, status=Event.Status.DRAFT)
    return drafts.update(status=Event.Status.PUBLISHED)


def reopen_ledger(*, event_id: int, capacity: int, waitlist_limit: int | None = None) -> bool:
    """Open an empty ledger for a saved event that has none; False if it has one by now.

    Insert-only, so a ledger opened meanwhile keeps its seats. Nobody is seated
    from the SQL record (the ledger alone decides seats), and the record is not
    rewritten here: ``repair_record`` (check_ledger --repair) or the event's
    next write does it, the former saying whose rows changed.
    """
    if capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    if not Event.objects.filter(pk=event_id).exists():
        return False
    # The count of writes goes on from the record's copies of the lost ledger:
    # a row only yields to a newer version, so they must be older than this one.
    version = records.newest_version(event_id) + 1
    opened = ledger.open_missing(event_id, capacity, waitlist_limit, version)
    seat_cache.forget(event_id)
    return opened


def mend_ledger(*, event_id: int) -> ledger_audit.ListRepair | None:
    """One atomic write: repeats out of both lists, free seats to the first waiting.

    Nobody loses a seat or a place; whoever is promoted is recorded and
    emailed as any write's promoted are. The rest of the record is left to
    ``repair_record``, run next by check_ledger --repair, so that every row
    it changes is reported. None if it could not mend (no document,
    or one the server refuses to write).
    """
    try:
        repair = ledger_audit.repair_lists(event_id)
    except ledger.LedgerDamaged:  # the server refused it: the document needs a person
        return None
    if repair is not None and repair.repaired:
        _after_write(event_id, repair.result)  # whoever it seated: their row and email
    return repair


def remove_orphan_ledger(*, event_id) -> ledger_audit.Orphan | None:
    """Delete the ledger document of an event SQL does not have; who it held.

    None if the event is in SQL after all (its creation committed since the
    audit read SQL) or the document is gone.
    """
    if isinstance(event_id, int) and Event.objects.filter(pk=event_id).exists():
        return None
    orphan = ledger_audit.remove_orphan(event_id)
    seat_cache.forget(event_id)
    return orphan


def repair_record(*, event_id: int) -> tuple[records.RecordDiff, records.Repair] | None:
    """Rewrite the event's SQL record from its ledger; what it found and what it did.

    Whoever it records as going without having been told gets their
    confirmation (``records.apply``). None if there is no readable ledger to
    copy from (missing, or damaged: then the record waits for a person to
    mend the document).
    """
    try:
        found = records.diff(event_id)
    except ledger.LedgerDamaged:
        return None
    if found is None:
        return None
    return found, records.apply(found) if found.changes else records.Repair(event_id)


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
    _after_write(event_id, result)
    return result.seats


def set_capacity(*, event_id: int, capacity: int) -> Seats:
    return set_seats(event_id=event_id, capacity=capacity)


def set_waitlist_limit(*, event_id: int, limit: int | None) -> Seats:
    return set_seats(event_id=event_id, waitlist_limit=limit)


@transaction.atomic
def delete_events(*, event_ids: list[int], deleted_by=None) -> None:
    """Delete events and their ledgers; everyone going or waiting is told, after the commit.

    The deletion mailings are written first, while the lists and the events'
    details are there to read; their emails are sent once this commits, from
    what each mailing keeps. If MongoDB refuses, all of it rolls back.
    """
    mailings.notify_deletion(event_ids=event_ids, deleted_by=deleted_by)
    Event.objects.filter(pk__in=event_ids).delete()
    ledger.delete_events(event_ids)


def calendar_feed(*, user) -> CalendarFeed:
    """The user's feed address, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


def reset_calendar_feed(*, user) -> CalendarFeed:
    """A new secret address for the user's feed; the old one stops working at once."""
    feed = calendar_feed(user=user)
    feed.token = new_feed_token()
    feed.save(update_fields=["token", "issued_at"])
    return feed
