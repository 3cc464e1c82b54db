"""A draw for the rush on the real embedded server: entries, then one write that seats the drawn.

Entries hold no seats; the draw seats parties in ticket order while they
fit and puts the rest on the waiting list in ticket order; it runs once,
however many callers race it, and a SIGKILL of the server in the middle of
it leaves either no draw or the whole draw.
"""

from __future__ import annotations

import random

import pytest

from events import ledger
from events.ledger import Outcome, audit
from events.ledger.connection import collection
from tests.helpers import fire_together, wait_for

EVENT = 800_000_301


@pytest.fixture
def event():
    def open_event(capacity: int, entries: dict[int, tuple[float, int]] = {}) -> int:  # noqa: B006
        ledger.create_event(EVENT, capacity)
        for user_id, (ticket, guests) in entries.items():
            entered = ledger.enter_draw(EVENT, user_id, ticket=ticket, guests=guests)
            assert entered.outcome is Outcome.ENTERED
        return EVENT

    yield open_event
    ledger.delete_events([EVENT])


def expected_draw(capacity: int, entries: dict[int, tuple[float, int]]) -> tuple[list, list]:
    """The draw worked out by hand: ticket order, each party seated if it still fits."""
    free, seated, rest = capacity, [], []
    for user_id in sorted(entries, key=lambda u: entries[u][0]):
        party = 1 + entries[user_id][1]
        if party <= free:
            free -= party
            seated.append(user_id)
        else:
            rest.append(user_id)
    return seated, rest


def test_an_entry_holds_no_seat_and_can_be_withdrawn(event):
    event_id = event(3)
    entered = ledger.enter_draw(event_id, 1, ticket=0.5, guests=1)
    assert (entered.outcome, entered.entered, entered.going, entered.party) == (
        Outcome.ENTERED,
        True,
        False,
        2,
    )
    assert entered.seats.taken == 0 and entered.seats.entered == 1
    assert ledger.enter_draw(event_id, 1, ticket=0.1).outcome is Outcome.ALREADY_ENTERED
    assert ledger.withdraw(event_id, 1).outcome is Outcome.ENTRY_WITHDRAWN
    doc = collection().find_one({"_id": event_id})
    assert "entries" not in doc and "tickets" not in doc
    assert audit.findings(doc) == []


def test_the_draw_seats_in_ticket_order_while_parties_fit_and_the_rest_wait_in_order(event):
    entries = {1: (0.9, 0), 2: (0.1, 2), 3: (0.5, 2), 4: (0.3, 0), 5: (0.7, 1)}
    event_id = event(5, entries)
    drawn = ledger.draw(event_id)
    assert drawn.result.outcome is Outcome.DRAWN
    seated, rest = expected_draw(5, entries)
    # 2's party of 3 and 4 alone; 3's party of 3 and 5's of 2 no longer fit; 1 alone does.
    assert list(drawn.drawn_in) == seated == [2, 4, 1]
    assert list(drawn.drawn_waiting) == rest == [3, 5]
    roster = ledger.roster(event_id)
    assert [(a.user_id, a.guests) for a in roster.attendees] == [(2, 2), (4, 0), (1, 0)]
    assert roster.waitlist == [3, 5] and roster.waiting_guests == (2, 1)
    doc = collection().find_one({"_id": event_id})
    assert doc["drawn"] is True and "entries" not in doc and doc["taken"] == 5
    assert audit.findings(doc) == []

    again = ledger.draw(event_id)
    assert (again.result.outcome, again.drawn_in) == (Outcome.ALREADY_DRAWN, ())
    late = ledger.enter_draw(event_id, 9, ticket=0.01)
    assert late.outcome is Outcome.ALREADY_DRAWN, "after the draw, seats go first come"
    after = ledger.roster(event_id)
    assert (after.attendees, after.waitlist) == (roster.attendees, roster.waitlist), "unchanged"


def test_the_losers_may_be_let_go_instead_of_waiting(event):
    event_id = event(1, {1: (0.2, 0), 2: (0.4, 0)})
    drawn = ledger.draw(event_id, losers_wait=False)
    assert (drawn.drawn_in, drawn.drawn_waiting, drawn.drawn_out) == ((1,), (), (2,))
    assert ledger.waitlist(event_id) == []


def test_a_draw_raced_by_many_callers_runs_once(event):
    rng = random.Random(5)
    entries = {u: (rng.random(), rng.choice([0, 0, 1, 2])) for u in range(1, 61)}
    event_id = event(20, entries)
    draws = fire_together([lambda: ledger.draw(event_id) for _ in range(10)])
    ran = [d for d in draws if d.result.outcome is Outcome.DRAWN]
    assert len(ran) == 1 and all(
        d.result.outcome is Outcome.ALREADY_DRAWN for d in draws if d is not ran[0]
    )
    seated, rest = expected_draw(20, entries)
    assert [a.user_id for a in ledger.attendees(event_id)] == seated
    assert ledger.waitlist(event_id) == rest
    assert audit.findings(collection().find_one({"_id": event_id})) == []


KILLED_EVENT = 800_000_302


def test_a_sigkill_in_the_middle_of_the_draw_leaves_no_draw_or_the_whole_draw(
    spare_mongo, settings
):
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    rng = random.Random(11)
    entries = {u: (rng.random(), rng.choice([0, 1])) for u in range(1, 1201)}
    ledger.create_event(KILLED_EVENT, 300)
    # The entries as 1,200 enter_draw writes would leave them, in one write (setup only).
    lists = {
        "entries": list(entries),
        "tickets": [t for t, _ in entries.values()],
        "entry_guests": [g for _, g in entries.values()],
        "entered": len(entries),
    }
    collection().update_one({"_id": KILLED_EVENT}, {"$set": lists})
    started = []

    def draw_once():
        started.append(True)
        try:
            return ledger.draw(KILLED_EVENT)
        except ledger.LedgerUnavailable:
            return None  # cut off by the kill: landed or not, unknown

    def kill() -> None:
        assert wait_for(lambda: started, 10)
        spare_mongo.process.kill()  # SIGKILL while the draw's write is in flight
        spare_mongo.process.wait()

    first, _ = fire_together([draw_once, kill])
    spare_mongo.process = None
    spare_mongo.start()
    doc = wait_for(lambda: _document(KILLED_EVENT), 15)
    if doc.get("drawn"):  # the whole draw landed before the kill
        assert len(doc["attendees"]) + len(doc["waitlist"]) == len(entries)
    else:  # none of it: every entry is still there, nobody seated
        assert doc["attendees"] == [] and len(doc["entries"]) == len(entries)
    after = wait_for(lambda: _draw_or_none(KILLED_EVENT), 15)  # as the task would run again
    assert after is not None, "the restarted server never answered"
    seated, rest = expected_draw(300, entries)
    assert len(seated) < len(entries) and rest, "a draw with winners and losers"
    doc = collection().find_one({"_id": KILLED_EVENT})
    assert doc["attendees"] == seated and doc["waitlist"] == rest, "the one draw, whole"
    assert audit.findings(doc) == []
    assert first is None or first.result.outcome is Outcome.DRAWN


def _document(event_id: int) -> dict | None:
    try:
        return collection().find_one({"_id": event_id})
    except Exception:  # the server is still starting
        return None


def _draw_or_none(event_id: int):
    try:
        return ledger.draw(event_id)
    except ledger.LedgerUnavailable:
        return None
