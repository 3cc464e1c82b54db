"""Combined RSVPs: one atomic write decides every request that queued behind the last.

The combiner's own rules first (a lone request writes at once, queued ones
share the next write, in order, capped, and share its error), with a write
that holds the door open until the test has queued what it wants. Then the
ledger's combined write on the real embedded server: each request's outcome
as the returned document says, and a SIGKILL of the server while batches are
in flight, after which every seat answered as taken is in the ledger, once,
within capacity.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from events import ledger
from events.ledger import Outcome
from events.ledger import writes as ledger_writes
from events.ledger.combining import Combiner
from tests.helpers import fire_together, wait_for

EVENT = 800_000_001


class HeldWrite:
    """A write that records its batches; the first one waits until ``release``."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.opened = threading.Event()
        self.fail_with: Exception | None = None

    def __call__(self, key: str, items: list[int]) -> list[str]:
        self.batches.append(items)
        if len(self.batches) == 1:
            assert self.opened.wait(10), "the test never released the first write"
        if self.fail_with is not None:
            raise self.fail_with
        return [f"{key}:{item}" for item in items]


def submit_in_background(
    combiner: Combiner, write: HeldWrite, key: str, items: list[int]
) -> tuple[list, list[threading.Thread]]:
    """Submit each item on a thread of its own, in order; the answers fill in as they come."""
    answers: list = [None] * len(items)

    def run(n: int, item: int) -> None:
        try:
            answers[n] = combiner.submit(key, item)
        except Exception as exc:
            answers[n] = exc

    threads = []
    for n, item in enumerate(items):
        threads.append(threading.Thread(target=run, args=(n, item)))
        threads[-1].start()
        if n == 0:  # the first is in its write before the others arrive
            assert wait_for(lambda: write.batches, 5)
    return answers, threads


def queued(combiner: Combiner, key: str, count: int) -> bool:
    queue = combiner._queues.get(key)
    return queue is not None and len(queue.waiting) == count


def test_a_lone_request_is_written_at_once_on_its_own_thread():
    writes: list[tuple[str, list[int], str]] = []

    def write(key, items):
        writes.append((key, items, threading.current_thread().name))
        return [item * 10 for item in items]

    combiner = Combiner(write, max_batch=8)
    assert combiner.submit("a", 1) == 10
    assert combiner.submit("a", 2) == 20
    me = threading.current_thread().name
    assert writes == [("a", [1], me), ("a", [2], me)]
    assert combiner._queues == {}  # nothing kept for a quiet event


def test_requests_queued_behind_a_write_share_the_next_one_in_order_up_to_the_cap():
    write = HeldWrite()
    combiner = Combiner(write, max_batch=3)
    answers, threads = submit_in_background(combiner, write, "e", [1, 2, 3, 4, 5, 6])
    assert wait_for(lambda: queued(combiner, "e", 5), 5)
    write.opened.set()
    for thread in threads:
        thread.join(10)
    assert write.batches == [[1], [2, 3, 4], [5, 6]]
    assert answers == [f"e:{n}" for n in range(1, 7)]
    assert combiner._queues == {}


def test_other_events_never_wait_for_this_one():
    write = HeldWrite()
    combiner = Combiner(write, max_batch=8)
    answers, threads = submit_in_background(combiner, write, "busy", [1])
    assert combiner.submit("quiet", 7) == "quiet:7"  # while "busy" is held
    write.opened.set()
    threads[0].join(10)
    assert answers == ["busy:1"]


def test_a_failed_write_is_the_answer_of_its_whole_batch_and_the_next_batch_still_runs():
    write = HeldWrite()
    write.fail_with = ledger.LedgerUnavailable("server gone")
    combiner = Combiner(write, max_batch=2)
    answers, threads = submit_in_background(combiner, write, "e", [1, 2, 3, 4])
    assert wait_for(lambda: queued(combiner, "e", 3), 5)
    write.opened.set()
    for thread in threads:
        thread.join(10)
    assert [type(a) for a in answers] == [ledger.LedgerUnavailable] * 4
    assert write.batches == [[1], [2, 3], [4]]  # every batch tried, none left hanging
    assert combiner._queues == {}


# --- The ledger's combined write, on the real server -------------------------------


@pytest.fixture
def event():
    def open_event(capacity: int, going=(), waiting=()) -> int:
        ledger.create_event(EVENT, capacity)
        for user_id in going:
            assert ledger.take_seat(EVENT, user_id).outcome is Outcome.CONFIRMED
        if waiting:
            ledger.set_seats(EVENT, capacity=len(going))
            for user_id in waiting:
                assert ledger.join_waitlist(EVENT, user_id).outcome is Outcome.WAITLISTED
            ledger.set_seats(EVENT, capacity=capacity)  # a raise seats the first waiting
        return EVENT

    yield open_event
    ledger.delete_events([EVENT])


def alone(*user_ids: int) -> list[tuple[int, int]]:
    """RSVPs of one person each (no guests), as a combined batch takes them."""
    return [(user_id, 0) for user_id in user_ids]


def answers_of(results: list[ledger.Result]) -> list[tuple[Outcome, bool]]:
    return [(r.outcome, r.going) for r in results]


def test_one_write_decides_each_request_of_a_batch(event):
    event_id = event(3, going=[1])
    before = ledger.roster(event_id).version

    results = ledger_writes.take_seats(event_id, alone(2, 1, 3, 2, 4, 5))

    assert answers_of(results) == [
        (Outcome.CONFIRMED, True),
        (Outcome.ALREADY_GOING, True),
        (Outcome.CONFIRMED, True),
        (Outcome.ALREADY_GOING, True),  # the same user twice: seated once
        (Outcome.FULL, False),
        (Outcome.FULL, False),
    ]
    assert {r.version for r in results} == {before + 1}, "one write for all six"
    assert {r.seats.taken for r in results} == {3}
    roster = ledger.roster(event_id)
    assert [a.user_id for a in roster.attendees] == [1, 2, 3]
    assert all(a.at is not None for a in roster.attendees)


def test_a_batch_never_takes_a_seat_someone_is_waiting_for(event):
    event_id = event(2, going=[1], waiting=[7, 8])  # the raise seated 7; 8 still waits
    assert ledger.waitlist(event_id) == [8]

    results = ledger_writes.take_seats(event_id, alone(8, 9, 1))

    assert [(r.outcome, r.position) for r in results] == [
        (Outcome.ALREADY_WAITING, 1),
        (Outcome.FULL, None),
        (Outcome.ALREADY_GOING, None),
    ]
    assert [a.user_id for a in ledger.attendees(event_id)] == [1, 7]


def test_a_cancelled_event_refuses_the_whole_batch(event):
    event_id = event(5)
    ledger.cancel(event_id)
    results = ledger_writes.take_seats(event_id, alone(1, 2))
    assert answers_of(results) == [(Outcome.EVENT_CANCELLED, False)] * 2
    assert ledger.attendees(event_id) == []


def test_many_clients_at_once_fill_the_event_exactly_with_fewer_writes(event):
    event_id = event(25)
    before = ledger.roster(event_id).version

    results = fire_together([lambda u=u: ledger.take_seat(event_id, u) for u in range(1, 121)])

    going = [a.user_id for a in ledger.attendees(event_id)]
    assert len(going) == len(set(going)) == 25
    confirmed = {u for u, r in zip(range(1, 121), results, strict=True) if r.going}
    assert confirmed == set(going)
    assert Counter(r.outcome for r in results) == {Outcome.CONFIRMED: 25, Outcome.FULL: 95}
    assert ledger.roster(event_id).version - before < 120, "nothing was combined"


# --- A SIGKILL of the server while batches are in flight ---------------------------

CAPACITY = 60
CLIENTS = 48
RSVPS_EACH = 4  # 192 RSVPs for 60 seats: the rush outlasts the kill
KILL_AFTER_SEATS = 10


def test_a_server_killed_mid_batch_keeps_every_seat_it_answered(spare_mongo, settings):
    """Every request answered "confirmed" is seated once; the others hold nothing or retry."""
    settings.MONGODB_URI = spare_mongo.uri
    settings.MONGODB_TIMEOUT_MS = 500
    ledger.create_event(EVENT, CAPACITY)
    confirmed: list[int] = []
    failed: list[int] = []

    def client(first: int) -> None:
        for user_id in range(first, first + RSVPS_EACH):
            try:
                if ledger.take_seat(EVENT, user_id).outcome is Outcome.CONFIRMED:
                    confirmed.append(user_id)
            except ledger.LedgerUnavailable:
                failed.append(user_id)  # its batch was cut off: seated or not, unknown

    def kill_once_seated() -> None:
        assert wait_for(lambda: len(confirmed) >= KILL_AFTER_SEATS, 30), "no seat before the kill"
        spare_mongo.process.kill()  # SIGKILL: no flush, no close
        spare_mongo.process.wait()

    calls = [lambda f=f: client(f) for f in range(1000, 1000 + CLIENTS * RSVPS_EACH, RSVPS_EACH)]
    fire_together([*calls, kill_once_seated])
    spare_mongo.process = None
    spare_mongo.start()
    assert wait_for(lambda: _answers(), 10), "the restarted server never answered"

    going = [a.user_id for a in ledger.attendees(EVENT)]
    assert len(going) == len(set(going)) <= CAPACITY
    assert set(confirmed) <= set(going), "a seat answered as taken was lost"
    assert set(going) <= set(confirmed) | set(failed), "a seat nobody asked for"
    assert failed, "the kill cut off no batch: it came after the rush"
    print(
        f"killed mid-rush: {len(confirmed)} confirmed, {len(failed)} cut off, {len(going)} seated"
    )


def _answers() -> bool:
    try:
        ledger.seats([EVENT], skip_damaged=False)
    except ledger.LedgerUnavailable:
        return False
    return True


def test_a_full_event_refuses_a_batch_by_reading_and_writes_again_once_a_seat_frees(event):
    event_id = event(2, going=[1])
    assert answers_of(ledger_writes.take_seats(event_id, alone(2, 3))) == [
        (Outcome.CONFIRMED, True),
        (Outcome.FULL, False),
    ]
    full_at = ledger.roster(event_id).version

    refused = ledger_writes.take_seats(event_id, alone(4, 1, 2))

    assert answers_of(refused) == [
        (Outcome.FULL, False),
        (Outcome.ALREADY_GOING, True),
        (Outcome.ALREADY_GOING, True),
    ]
    assert ledger.roster(event_id).version == full_at, "a refusal wrote to the ledger"
    assert {r.version for r in refused} == {full_at} and refused[0].seats.left == 0
    ledger.give_up_seat(event_id, 1)  # a seat frees: the next batch writes
    assert answers_of(ledger_writes.take_seats(event_id, alone(4, 5))) == [
        (Outcome.CONFIRMED, True),
        (Outcome.FULL, False),
    ]
    assert [a.user_id for a in ledger.attendees(event_id)] == [2, 4]
