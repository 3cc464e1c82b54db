"""Approval on the real embedded server: requests hold no seats; approvals seat only what fits.

An approval is one guarded write, so organisers approving at once never
seat more than the capacity; the same race with the guard broken is shown
overbooking, and the checks catching it.
"""

from __future__ import annotations

import pytest

from events import ledger
from events.ledger import Outcome, audit, pipelines
from events.ledger.connection import collection
from events.ledger.documents import now_ms, write
from tests.helpers import fire_together

EVENT = 800_000_201


@pytest.fixture
def event():
    def open_event(capacity: int, requests=()) -> int:
        ledger.create_event(EVENT, capacity)
        for user_id, guests in requests:
            assert ledger.request_seat(EVENT, user_id, guests=guests).outcome is Outcome.REQUESTED
        return EVENT

    yield open_event
    ledger.delete_events([EVENT])


def document(event_id: int) -> dict:
    return collection().find_one({"_id": event_id})


def test_a_request_holds_no_seat_and_asking_again_changes_nothing(event):
    event_id = event(2)
    first = ledger.request_seat(event_id, 1, guests=1)
    assert (first.outcome, first.requested, first.going, first.seats.taken) == (
        Outcome.REQUESTED,
        True,
        False,
        0,
    )
    assert first.seats.requested == 1 and first.party == 2
    assert ledger.request_seat(event_id, 1).outcome is Outcome.ALREADY_REQUESTED
    assert ledger.standing(event_id, 1)[1].requested
    doc = document(event_id)
    assert (doc["requests"], doc["request_guests"], doc["requested"]) == ([1], [1], 1)
    assert audit.findings(doc) == []


def test_an_approval_seats_requests_in_order_while_they_fit_and_leaves_the_rest(event):
    event_id = event(4, requests=[(1, 2), (2, 2), (3, 0)])
    decision = ledger.approve(event_id, [3, 2, 1])  # the order they asked in decides
    assert decision.result.outcome is Outcome.APPROVED
    assert decision.approved == (1, 3), "1's party of 3, then 3 alone; 2's party of 3 is left"
    roster = ledger.roster(event_id)
    assert [(a.user_id, a.guests) for a in roster.attendees] == [(1, 2), (3, 0)]
    assert roster.requests == (2,) and roster.request_guests == (2,)
    again = ledger.approve(event_id, [2])
    assert (again.result.outcome, again.approved) == (Outcome.FULL, ())


def test_an_approval_may_put_what_does_not_fit_on_the_waiting_list(event):
    event_id = event(1, requests=[(1, 0), (2, 0)])
    decision = ledger.approve(event_id, [1, 2], or_wait=True)
    assert (decision.approved, decision.queued) == ((1,), (2,))
    assert ledger.waitlist(event_id) == [2] and ledger.roster(event_id).requests == ()
    freed = ledger.give_up_seat(event_id, 1)
    assert freed.promoted == (2,)
    assert "requests" not in document(event_id), "no request left: the plain shape again"


def test_a_refusal_and_a_withdrawal_remove_only_the_request(event):
    event_id = event(3, requests=[(1, 1), (2, 0), (3, 0)])
    declined = ledger.decline(event_id, [2, 9])
    assert (declined.result.outcome, declined.declined) == (Outcome.DECLINED, (2,))
    assert ledger.decline(event_id, [2]).result.outcome is Outcome.NOT_REQUESTED
    withdrawn = ledger.withdraw(event_id, 3)
    assert withdrawn.outcome is Outcome.REQUEST_WITHDRAWN
    roster = ledger.roster(event_id)
    assert roster.requests == (1,) and roster.request_guests == (1,)
    assert ledger.approve(event_id, [2, 3]).result.outcome is Outcome.NOT_REQUESTED


def test_a_plain_cancel_leaves_requests_and_their_count_as_they_are(event):
    event_id = event(3, requests=[(2, 1)])
    ledger.approve(event_id, [2])
    ledger.request_seat(event_id, 3)
    assert ledger.give_up_seat(event_id, 3).outcome is Outcome.NOT_GOING, "only a seat is given up"
    cancelled = ledger.give_up_seat(event_id, 2)
    assert (cancelled.outcome, cancelled.seats.requested) == (Outcome.CANCELLED, 1)
    assert ledger.roster(event_id).requests == (3,)


def test_organisers_approving_at_once_seat_exactly_the_capacity(event):
    requests = [(user_id, user_id % 3) for user_id in range(1, 31)]  # 60 seats asked
    event_id = event(20, requests=requests)
    calls = [lambda u=u: ledger.approve(event_id, [u]) for u, _ in requests]
    decisions = fire_together(calls)
    approved = [u for d in decisions for u in d.approved]
    assert len(approved) == len(set(approved)), "nobody approved twice"
    guests = dict(requests)
    seats = ledger.seats([event_id])[event_id]
    assert seats.taken == sum(1 + guests[u] for u in approved) <= 20
    left = ledger.roster(event_id).requests
    assert set(left) | set(approved) == set(guests)
    assert all(1 + guests[u] > seats.left for u in left), "a request left that would fit"
    assert audit.findings(document(event_id)) == []


def _approve_unguarded(user_id: int, now: float) -> list[dict]:
    """An approval whose guard was forgotten: the request moves to the seats, fitting or not."""
    move = {
        "$set": {
            "attendees": {"$concatArrays": ["$attendees", [user_id]]},
            "requests": {"$filter": {"input": "$requests", "cond": {"$ne": ["$$this", user_id]}}},
        }
    }
    return pipelines.guarded("approved", [move], now)


def test_the_checks_catch_an_approval_without_its_guard(event):
    event_id = event(5, requests=[(u, 0) for u in range(1, 11)])
    fire_together(
        [lambda u=u: write(event_id, _approve_unguarded(u, now_ms())) for u in range(1, 11)]
    )
    doc = document(event_id)
    assert doc["taken"] == 10 > doc["capacity"]
    assert audit.Damage.ABOVE_CAPACITY in {f.damage for f in audit.findings(doc)}
