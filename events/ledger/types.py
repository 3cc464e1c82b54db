"""The ledger's values, the one vocabulary of pages, API and admin: outcomes, seats, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_GOING = "already_going"
    FULL = "full"
    UNKNOWN_EVENT = "unknown_event"
    CANCELLED = "cancelled"
    NOT_GOING = "not_going"
    WAITLISTED = "waitlisted"
    ALREADY_WAITING = "already_waiting"
    WAITLIST_CLOSED = "waitlist_closed"
    LEFT_WAITLIST = "left_waitlist"
    NOT_WAITING = "not_waiting"
    # Approval (pipelines.requests): a request, the organiser's yes or no, a withdrawal.
    REQUESTED = "requested"
    ALREADY_REQUESTED = "already_requested"
    APPROVED = "approved"
    DECLINED = "declined"
    NOT_REQUESTED = "not_requested"
    REQUEST_WITHDRAWN = "request_withdrawn"
    # A draw (pipelines.draw): an entry, the draw itself, a withdrawn entry.
    ENTERED = "entered"
    ALREADY_ENTERED = "already_entered"
    DRAWN = "drawn"
    ALREADY_DRAWN = "already_drawn"
    ENTRY_WITHDRAWN = "entry_withdrawn"
    NOT_DRAWN = "not_drawn"  # one person's result of a draw whose losers are let go
    # A party (the attendee and their guests) grew or shrank (pipelines.change_party).
    PARTY_CHANGED = "party_changed"
    CAPACITY_SET = "capacity_set"
    CAPACITY_BELOW_GOING = "capacity_below_going"
    # Reconfirm-or-release (events.ledger.reconfirmation): the question, a
    # "yes, keep my seat", and the release of the seats still unconfirmed.
    ASKED = "asked"
    ALREADY_ASKED = "already_asked"
    SEAT_KEPT = "seat_kept"
    RELEASED = "released"
    NOT_ASKED = "not_asked"
    # manage.py check_ledger --repair (events.ledger.audit)
    REPAIRED = "repaired"
    LEFT_AS_IS = "left_as_is"
    # Decided by events.services from the event's dates, before the ledger is asked.
    EVENT_PAST = "event_past"
    RSVPS_CLOSED = "rsvps_closed"
    # The event is cancelled: its ledger refuses every change (pipelines.cancel).
    EVENT_CANCELLED = "event_cancelled"
    # A strategy other than the site's (events.ledger.strategies) gave up: a
    # version race lost every try, or a lock or transaction held too long.
    BUSY = "busy"


@dataclass(frozen=True)
class Seats:
    capacity: int
    taken: int
    waiting: int = 0
    waitlist_limit: int | None = None  # None: no limit; 0: no waiting list
    requested: int = 0  # requests awaiting an organiser's approval (no seats)
    entered: int = 0  # entries in a draw not yet drawn (no seats)

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.taken >= self.capacity

    @property
    def waitlist_open(self) -> bool:
        """Whether someone may join the list now (it may still be refused by the write)."""
        return self.waitlist_limit is None or self.waiting < self.waitlist_limit


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    seats: Seats | None = None
    position: int | None = None  # 1-based place on the waiting list, when the user waits
    promoted: tuple[int, ...] = field(default=())  # who this write moved into a seat
    going: bool = False  # whether the user holds a seat after the write
    version: int = 0  # the document's version this write produced
    guests: int = 0  # the guests the user's party brings, seated or waiting, after the write
    requested: bool = False  # whether the user's request awaits approval after the write
    entered: bool = False  # whether the user is in a draw not yet drawn, after the write

    @property
    def party(self) -> int:
        """The user and their guests."""
        return 1 + self.guests


@dataclass(frozen=True)
class Standing:
    """One user at one event: holding a seat, waiting (at a position), or neither."""

    going: bool = False
    position: int | None = None
    guests: int = 0  # the guests the user's party brings, seated or waiting
    requested: bool = False  # asked for seats at an event that requires approval
    entered: bool = False  # in a draw not yet drawn


@dataclass(frozen=True)
class Attendee:
    user_id: int
    at: datetime | None  # None if the time was never recorded (a crash between writes)
    guests: int = 0  # seated with them


@dataclass(frozen=True)
class Roster:
    """Everyone at one event as one read saw them, and the version it read."""

    attendees: list[Attendee]
    waitlist: list[int]
    version: int
    waiting_guests: tuple[int, ...] = ()  # beside ``waitlist``: each waiting party's guests
    requests: tuple[int, ...] = ()  # awaiting approval, first asked first
    request_guests: tuple[int, ...] = ()  # beside ``requests``
    entries: tuple[int, ...] = ()  # in a draw not yet drawn

    def guests_of(self, user_id: int) -> int:
        """The guests of ``user_id``'s party, seated or waiting (0 if neither)."""
        for attendee in self.attendees:
            if attendee.user_id == user_id:
                return attendee.guests
        if user_id in self.waitlist and self.waiting_guests:
            return self.waiting_guests[self.waitlist.index(user_id)]
        if user_id in self.requests and self.request_guests:
            return self.request_guests[self.requests.index(user_id)]
        return 0
