"""What every ``Outcome`` means to each audience: one table, read by pages, API and admin.

For each outcome of a seat change: the sentence the person is shown (the
page's message and the API's ``message``), the page message's level, the
API's status (a refusal's code is the outcome's own value), and what an
organiser is told after *Add someone by hand*. Outcomes no person is ever
told (a repair's, a capacity change's) are listed too, with nothing to say:
the table is total, and ``tests/services/test_outcomes.py`` fails when an outcome is
added without its row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.utils.translation import gettext, ngettext
from rest_framework import status

from events.ledger import Outcome, Result


@dataclass(frozen=True)
class Answer:
    # ``{position}``: the person's place on the waiting list; ``{party}``: who
    # comes (``party_text``).
    sentence: str | None = None
    level: int | None = None  # the page message's level (django.contrib.messages)
    api_status: int | None = None  # what the API answers it with
    organiser: tuple[int, str] | None = None  # after adding someone by hand; ``{who}``

    @property
    def refused(self) -> bool:
        return self.api_status is not None and self.api_status >= 400


OK, CREATED, ACCEPTED = status.HTTP_200_OK, status.HTTP_201_CREATED, status.HTTP_202_ACCEPTED
CONFLICT, NOT_FOUND = status.HTTP_409_CONFLICT, status.HTTP_404_NOT_FOUND
SUCCESS, INFO, WARNING, ERROR = messages.SUCCESS, messages.INFO, messages.WARNING, messages.ERROR

ANSWERS: dict[Outcome, Answer] = {
    Outcome.CONFIRMED: Answer(
        "You're going!", SUCCESS, CREATED, (SUCCESS, "{who} now has a seat; they are emailed.")
    ),
    Outcome.ALREADY_GOING: Answer(
        "You're already going.", INFO, CONFLICT, (WARNING, "{who} is already going.")
    ),
    Outcome.FULL: Answer(
        "Event is full",
        ERROR,
        CONFLICT,
        (ERROR, "No seat is free: raise the capacity or remove someone first."),
    ),
    Outcome.UNKNOWN_EVENT: Answer(
        "Event not found",
        ERROR,
        NOT_FOUND,
        (
            ERROR,
            "Nobody can be seated at a draft (publish it first) or at an event with no ledger.",
        ),
    ),
    Outcome.EVENT_PAST: Answer(
        "This event has already started, so RSVPs are closed.", ERROR, CONFLICT
    ),
    Outcome.RSVPS_CLOSED: Answer("RSVPs for this event have closed.", ERROR, CONFLICT),
    Outcome.EVENT_CANCELLED: Answer("This event has been cancelled.", ERROR, CONFLICT),
    Outcome.CANCELLED: Answer(
        "Your RSVP is cancelled and your seat is free for someone else.", SUCCESS, OK
    ),
    Outcome.NOT_GOING: Answer("You have no RSVP for this event.", INFO, NOT_FOUND),
    Outcome.WAITLISTED: Answer(
        "You're #{position} on the waiting list. We'll email you if a seat frees up.",
        SUCCESS,
        ACCEPTED,
    ),
    Outcome.ALREADY_WAITING: Answer(
        "You're already #{position} on the waiting list.",
        INFO,
        CONFLICT,
        (WARNING, "{who} is on the waiting list: they get the next free seat."),
    ),
    Outcome.WAITLIST_CLOSED: Answer(
        "The waiting list for this event is closed or full.", ERROR, CONFLICT
    ),
    Outcome.LEFT_WAITLIST: Answer("You have left the waiting list.", SUCCESS, OK),
    Outcome.NOT_WAITING: Answer("You're not on the waiting list for this event.", INFO, NOT_FOUND),
    Outcome.REQUESTED: Answer(
        "Request sent: the organiser will email you when they decide.", SUCCESS, ACCEPTED
    ),
    Outcome.ALREADY_REQUESTED: Answer(
        "You have already asked for a seat: the organiser will email you.", INFO, CONFLICT
    ),
    Outcome.REQUEST_WITHDRAWN: Answer("Your request is withdrawn.", SUCCESS, OK),
    Outcome.NOT_REQUESTED: Answer(
        "You have no request for this event.",
        INFO,
        NOT_FOUND,
        (WARNING, "{who} has no request waiting."),
    ),
    Outcome.ENTERED: Answer(
        "You're in the draw: we'll email you whether you got a seat.", SUCCESS, ACCEPTED
    ),
    Outcome.ALREADY_ENTERED: Answer(
        "You're already in the draw: we'll email you the result.", INFO, CONFLICT
    ),
    Outcome.ENTRY_WITHDRAWN: Answer("Your entry in the draw is withdrawn.", SUCCESS, OK),
    # The draw's own steps, run by a task: the emails say each person's result.
    Outcome.DRAWN: Answer(),
    Outcome.ALREADY_DRAWN: Answer(),
    Outcome.NOT_DRAWN: Answer(),
    # Told to organisers (the approval's admin action); the person hears by email.
    Outcome.APPROVED: Answer(organiser=(SUCCESS, "{who} is approved and has a seat; emailed.")),
    Outcome.DECLINED: Answer(organiser=(SUCCESS, "{who}'s request is declined; emailed.")),
    Outcome.PARTY_CHANGED: Answer("Saved: your RSVP is now for {party}.", SUCCESS, OK),
    Outcome.SEAT_KEPT: Answer("Thanks! Your seat is kept: see you there.", SUCCESS, OK),
    # Only a proving ground's seat strategies answer it (events.ledger.strategies):
    # nothing changed, and the same request may succeed when tried again.
    Outcome.BUSY: Answer(
        "Many people are taking seats right now: nothing was changed, try again.",
        WARNING,
        CONFLICT,
    ),
    # Told to nobody: the admin's capacity form and check_ledger say these their own way.
    Outcome.CAPACITY_SET: Answer(),
    Outcome.CAPACITY_BELOW_GOING: Answer(),
    Outcome.REPAIRED: Answer(),
    Outcome.LEFT_AS_IS: Answer(),
    # The reconfirmation's own steps, run by tasks: the emails they send say it.
    Outcome.ASKED: Answer(),
    Outcome.ALREADY_ASKED: Answer(),
    Outcome.RELEASED: Answer(),
    Outcome.NOT_ASKED: Answer(),
}


# A party refused though seats are left: it is bigger than what is free.
NOT_ENOUGH_SEATS = "Not enough seats left for your party: {left} left."


def party_text(guests: int) -> str:
    """Who a party is, as pages and emails say it: "you", "you + 1 guest", "you + 2 guests"."""
    if guests == 0:
        return gettext("you")
    return ngettext("you + %(n)d guest", "you + %(n)d guests", guests) % {"n": guests}


def sentence(result: Result) -> str:
    """The sentence a person is shown for a result."""
    if result.outcome is Outcome.FULL and result.seats is not None and result.seats.left:
        return NOT_ENOUGH_SEATS.format(left=result.seats.left)
    text = ANSWERS[result.outcome].sentence
    return text.format(position=result.position, party=party_text(result.guests))


def level(result: Result) -> int:
    """The level of the page message that says it."""
    return ANSWERS[result.outcome].level


def api_status(outcome: Outcome) -> int:
    return ANSWERS[outcome].api_status


def refused(outcome: Outcome) -> bool:
    """Whether the API answers the outcome as a refusal (a 4xx with its code)."""
    return ANSWERS[outcome].refused


def organiser_answer(result: Result, who: str) -> tuple[int, str]:
    """What an organiser is told after asking for a seat for ``who``: level and text."""
    answer = ANSWERS[result.outcome]
    level, text = answer.organiser or (ERROR, sentence(result))
    return level, text.format(who=who)
