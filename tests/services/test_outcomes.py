"""The one table of what each Outcome means to pages, API and admin: total, and read by each."""

from __future__ import annotations

import pytest

from events import outcomes
from events.ledger import Outcome, Result, Seats

# What a person can be told: these need a sentence, a page level and an API status.
TOLD = set(Outcome) - {
    Outcome.CAPACITY_SET,
    Outcome.CAPACITY_BELOW_GOING,
    Outcome.REPAIRED,
    Outcome.LEFT_AS_IS,
    # the reconfirmation's steps, run by tasks: their emails say them
    Outcome.ASKED,
    Outcome.ALREADY_ASKED,
    Outcome.RELEASED,
    Outcome.NOT_ASKED,
    # an organiser's decision: the admin says it to them, the email to the person
    Outcome.APPROVED,
    Outcome.DECLINED,
    # the draw, run by a task: its emails say each person's result
    Outcome.DRAWN,
    Outcome.ALREADY_DRAWN,
    Outcome.NOT_DRAWN,
}


def test_every_outcome_has_its_row():
    assert set(outcomes.ANSWERS) == set(Outcome)


@pytest.mark.parametrize("outcome", sorted(TOLD))
def test_every_outcome_a_person_meets_is_said_on_the_page_and_in_the_api(outcome):
    answer = outcomes.ANSWERS[outcome]
    assert answer.sentence and answer.level is not None
    assert answer.api_status in {200, 201, 202, 404, 409}
    assert outcomes.sentence(Result(outcome, position=3))  # a place on the list fills in


def test_the_api_refuses_exactly_the_outcomes_that_change_nothing():
    refused = {o for o in TOLD if outcomes.refused(o)}
    assert refused == TOLD - {
        Outcome.CONFIRMED,
        Outcome.CANCELLED,
        Outcome.WAITLISTED,
        Outcome.LEFT_WAITLIST,
        Outcome.SEAT_KEPT,
        Outcome.PARTY_CHANGED,
        Outcome.REQUESTED,
        Outcome.REQUEST_WITHDRAWN,
        Outcome.ENTERED,
        Outcome.ENTRY_WITHDRAWN,
    }


def test_a_party_is_said_as_who_comes_and_a_party_too_big_hears_the_seats_left():
    assert outcomes.party_text(0) == "you"
    assert outcomes.party_text(1) == "you + 1 guest"
    assert outcomes.sentence(Result(Outcome.PARTY_CHANGED, guests=2)) == (
        "Saved: your RSVP is now for you + 2 guests."
    )
    too_big = Result(Outcome.FULL, Seats(capacity=5, taken=3))
    assert outcomes.sentence(too_big) == "Not enough seats left for your party: 2 left."
    assert outcomes.sentence(Result(Outcome.FULL, Seats(5, 5))) == "Event is full"


def test_an_organiser_hears_of_a_person_by_name_or_the_persons_own_sentence():
    seated = outcomes.organiser_answer(Result(Outcome.CONFIRMED), "alice")
    closed = outcomes.organiser_answer(Result(Outcome.RSVPS_CLOSED), "alice")
    assert seated[1] == "alice now has a seat; they are emailed."
    assert closed[1] == "RSVPs for this event have closed."
