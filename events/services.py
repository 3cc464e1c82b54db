"""The business rules of events and RSVPs.

Pages, the admin, the API and the load tests all call these functions, so
each behaviour has one code path. Seats are only ever changed through the
ledger's atomic operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from events import ledger
from events.ledger import Outcome, Result, Seats
from events.models import Event

MESSAGES: dict[Outcome, str] = {
    Outcome.CONFIRMED: "You're going!",
    Outcome.ALREADY_GOING: "You're already going.",
    Outcome.FULL: "Event is full",
    Outcome.UNKNOWN_EVENT: "Event not found",
    Outcome.EVENT_PAST: "This event has already started, so RSVPs are closed.",
    Outcome.CANCELLED: "Your RSVP is cancelled and your seat is free for someone else.",
    Outcome.NOT_GOING: "You have no RSVP for this event.",
}


class CapacityError(ValueError):
    """A capacity the ledger refused: below the number of people already going."""


@dataclass(frozen=True)
class EventCard:
    """An event as a page or the API shows it: SQL fields plus ledger seats."""

    event: Event
    seats: Seats
    going: bool = False


@dataclass(frozen=True)
class AttendeeRow:
    user: AbstractBaseUser | None
    user_id: int
    rsvp_at: datetime | None


def _closed_or_missing(event_id: int) -> Outcome | None:
    event = Event.objects.filter(pk=event_id).only("starts_at").first()
    if event is None:
        return Outcome.UNKNOWN_EVENT
    if event.is_past:
        return Outcome.EVENT_PAST
    return None


def rsvp(event_id: int, user_id: int) -> Result:
    """Give the user a seat if the event is open, has one free and they hold none."""
    if refusal := _closed_or_missing(event_id):
        return Result(refusal)
    return ledger.add_attendee(event_id, user_id)


def cancel_rsvp(event_id: int, user_id: int) -> Result:
    """Give the user's seat back; once the event has started the list is final."""
    if refusal := _closed_or_missing(event_id):
        return Result(refusal)
    return ledger.remove_attendee(event_id, user_id)


@transaction.atomic
def create_event(*, capacity: int, **fields) -> Event:
    """Save the event and open its ledger; if MongoDB refuses, nothing is saved."""
    event = Event.objects.create(**fields)
    ledger.create_event(event.pk, capacity)
    return event


def open_ledger(event: Event, capacity: int) -> None:
    """Open the ledger of an event saved elsewhere (the admin's form)."""
    ledger.create_event(event.pk, capacity)


def set_capacity(event_id: int, capacity: int) -> Seats:
    """Change capacity in one guarded write; raising it frees seats at once."""
    if capacity < 0:
        raise CapacityError("Capacity cannot be negative.")
    seats = ledger.set_capacity(event_id, capacity)
    if seats is None:
        taken = ledger.seats([event_id]).get(event_id)
        going = taken.taken if taken else 0
        raise CapacityError(
            f"{going} people are already going, so capacity cannot be lower than {going}."
        )
    return seats


@transaction.atomic
def delete_events(event_ids: list[int]) -> None:
    Event.objects.filter(pk__in=event_ids).delete()
    ledger.delete_events(event_ids)


def event_cards(events: list[Event], user: AbstractBaseUser | None = None) -> list[EventCard]:
    """Attach seats (and the user's RSVP) to events with one ledger round trip each."""
    seats = ledger.seats([e.pk for e in events])
    mine = set(ledger.events_of(user.pk)) if user is not None and user.is_authenticated else set()
    empty = Seats(capacity=0, taken=0)
    return [EventCard(e, seats.get(e.pk, empty), e.pk in mine) for e in events]


def event_card(event: Event, user: AbstractBaseUser | None = None) -> EventCard:
    seats = ledger.seats([event.pk]).get(event.pk, Seats(capacity=0, taken=0))
    going = bool(user and user.is_authenticated and ledger.is_going(event.pk, user.pk))
    return EventCard(event, seats, going)


def upcoming_rsvps(user: AbstractBaseUser) -> list[EventCard]:
    events = list(Event.objects.upcoming().filter(pk__in=ledger.events_of(user.pk)))
    return event_cards(events, user)


def attendee_rows(event_id: int) -> list[AttendeeRow]:
    """Who is going, in RSVP order, joined with their accounts."""
    entries = ledger.attendees(event_id)
    users = get_user_model().objects.in_bulk([a.user_id for a in entries])
    return [AttendeeRow(users.get(a.user_id), a.user_id, a.at) for a in entries]
