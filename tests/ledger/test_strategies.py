"""The seat strategies side by side, and proof that our checks catch an overbooking.

The controls (``naive``, and ``unguarded_batch``: the combined write with a
broken guard) must overbook a 200-users-for-5-seats race over HTTP, and the
checks must say so: the ledger holds more than 5, more than 5 were told
"going", and ``loadtests.endcheck.judge`` (the rule of locust's end check,
whose ``check_ledger`` ``make chaos`` applies too) reports "overbooked: N".
The same race against the site's ``combined`` is tests/live/test_concurrency.py's
and tests/live/test_api_concurrency.py's. The other strategies are raced at the
ledger level, threads released together, without HTTP.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from pymongo import MongoClient

from accounts.tokens import issue_access_tokens
from events import ledger
from events.ledger import Outcome
from events.ledger import strategies as ledger_strategies
from eventsite.env import PROVING_GROUND, seat_strategy
from loadtests.endcheck import Click, Ledger, api_outcome, judge
from loadtests.run import summary_lines, verdict
from tests.helpers import (
    ROOT,
    fire_together,
    live_gunicorn,
    make_event,
    make_users,
    session_database_url,
)

# Ledger-only events: ids no SQL event of this session reaches.
FIRST_ID = 900_000_000
_ids = itertools.count(FIRST_ID + 1)


@pytest.fixture
def event_ids():
    """Fresh ledger ids for the test; their documents are deleted afterwards."""
    made: list[int] = []

    def new(capacity: int) -> int:
        event_id = next(_ids)
        ledger.create_event(event_id, capacity)
        made.append(event_id)
        return event_id

    yield new
    ledger.delete_events(made)


def rsvp_call(url: str, token: str, method: str = "POST"):
    """One API request on a connection closed after it: gunicorn then stops without waiting."""
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    return lambda: requests.request(method, url, json={}, headers=headers, timeout=60)


def race(strategy, event_id: int, users: range) -> list[ledger.Result]:
    return fire_together([lambda u=u: strategy.take_seat(event_id, u) for u in users])


def assert_never_overbooked(event_id: int, results: list[ledger.Result]) -> list[int]:
    """The document's lists and counts agree, within capacity; who got a seat was told so."""
    seats = ledger.seats([event_id], skip_damaged=False)[event_id]
    going = [a.user_id for a in ledger.attendees(event_id)]
    assert len(going) == len(set(going)) == seats.taken <= seats.capacity
    assert sum(r.outcome is Outcome.CONFIRMED for r in results) == len(going)
    return going


# --- The control over HTTP: the checks must see it overbook ------------------


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("control", ["naive", "unguarded_batch"])
def test_the_control_overbooks_and_every_check_catches_it(control, django_user_model):
    organiser = django_user_model.objects.create_user(f"{control}-org", password="x")
    event = make_event(organiser, 5)
    users = make_users(200, prefix=f"{control}-racer")
    tokens = issue_access_tokens(users)

    with live_gunicorn(session_database_url(), STRATEGY=control) as site:
        url = f"{site.url}/api/events/{event.pk}/rsvp"
        # Every thread of both workers warmed (Django, token checks, a MongoDB
        # connection each): cold first requests would trickle in one by one.
        warm = [rsvp_call(url.removesuffix("rsvp"), tokens[u.pk], "GET") for u in users[:48]]
        assert {r.status_code for r in fire_together(warm)} == {200}
        calls = [rsvp_call(url, tokens[u.pk]) for u in users]
        sent = time.time()
        answers = fire_together(calls)
        done = time.time()

    going = [a.user_id for a in ledger.attendees(event.pk)]
    told_going = sum(a.status_code == 201 for a in answers)
    assert len(going) > 5, f"the control did not overbook: {len(going)} seated"
    assert told_going > 5 and told_going == len(going)
    assert {a.status_code for a in answers} <= {201, 409}

    names = {u.pk: u.username for u in users}
    clicks = [
        Click(u.username, 1, "rsvp", api_outcome(a.status_code, a.json(), "confirmed"), sent,
              a.status_code, done)
        for u, a in zip(users, answers, strict=True)
    ]  # fmt: skip
    found = Ledger.from_lists(5, [names[u] for u in going], [])
    summary = judge(clicks, found, waves=1)
    overbooked = len(going) - 5
    assert summary["overbooked"] == overbooked
    assert f"overbooked: {len(going)} attendees for 5 seats" in summary["violations"]
    assert f"wave 1: {told_going} users told they hold one of 5 seats" in summary["violations"]
    assert not verdict(summary, server_errors=0, locust_code=0)
    assert f"- overbooked: {overbooked}; idle seats while waiting: 0" in summary_lines(summary, 0)
    print(f"{control}: {len(going)} seated of 5, {told_going} told going; {summary['violations']}")


# --- Ledger-level races, no HTTP ---------------------------------------------


def test_every_strategy_keeps_the_document_as_readers_expect(event_ids, redis_url):
    for name in ledger_strategies.NAMES:
        strategy = ledger_strategies.get(
            name, **({"url": redis_url} if name == "redis_lock" else {})
        )
        event_id = event_ids(1)
        first = strategy.take_seat(event_id, 1)
        assert (first.outcome, first.going, first.seats.taken) == (Outcome.CONFIRMED, True, 1)
        assert strategy.take_seat(event_id, 1).outcome is Outcome.ALREADY_GOING, name
        assert strategy.take_seat(event_id, 2).outcome is Outcome.FULL, name
        roster = ledger.roster(event_id)
        assert [a.user_id for a in roster.attendees] == [1] and roster.attendees[0].at, name
        back = strategy.give_up_seat(event_id, 1)
        assert (back.outcome, back.going, back.seats.taken) == (Outcome.CANCELLED, False, 0)
        assert strategy.give_up_seat(event_id, 1).outcome is Outcome.NOT_GOING, name
        assert ledger.seats([event_id])[event_id].taken == 0
        assert back.version > first.version > 1, f"{name}: a new version on every change"
        assert ledger.roster(event_id).version >= back.version, name  # atomic counts refusals
    assert ledger_strategies.get("naive").take_seat(FIRST_ID - 1, 1).outcome is (
        Outcome.UNKNOWN_EVENT
    )


def test_combined_never_overbooks_and_decides_many_per_write(event_ids):
    event_id = event_ids(10)
    before = ledger.roster(event_id).version
    results = race(ledger_strategies.get("combined"), event_id, range(1, 61))
    going = assert_never_overbooked(event_id, results)
    assert len(going) == 10
    assert Counter(r.outcome for r in results) == {Outcome.CONFIRMED: 10, Outcome.FULL: 50}
    writes = ledger.roster(event_id).version - before
    assert writes < 60, "every RSVP wrote alone: nothing was combined"
    print(f"combined: 60 RSVPs decided by {writes} writes")


def test_the_broken_batch_guard_overbooks_where_the_combined_write_does_not(event_ids):
    event_id = event_ids(10)
    # All 60 threads of this process are in one combiner: its first batch waits
    # for a full batch (32, above the 10 seats). Waiting for 8 only, as over
    # HTTP, a first batch of exactly 10 (or 8 then 2) fills the event without
    # overbooking, and the rest are refused by the read of a full event.
    control = ledger_strategies.get("unguarded_batch", gather=ledger.MAX_BATCH)
    results = race(control, event_id, range(1, 61))
    going = [a.user_id for a in ledger.attendees(event_id)]
    assert len(going) > 10, f"the control did not overbook: {len(going)} seated"
    assert sum(r.outcome is Outcome.CONFIRMED for r in results) == len(going)


def test_optimistic_never_overbooks(event_ids):
    event_id = event_ids(10)
    results = race(ledger_strategies.get("optimistic", tries=50), event_id, range(1, 61))
    going = assert_never_overbooked(event_id, results)
    assert len(going) == 10
    assert Counter(r.outcome for r in results) == {Outcome.CONFIRMED: 10, Outcome.FULL: 50}


def test_optimistic_answers_busy_when_out_of_tries(event_ids):
    event_id = event_ids(30)
    results = race(ledger_strategies.get("optimistic", tries=1), event_id, range(1, 61))
    assert_never_overbooked(event_id, results)
    tally = Counter(r.outcome for r in results)
    assert set(tally) <= {Outcome.CONFIRMED, Outcome.BUSY}
    assert tally[Outcome.BUSY] > 0, f"60 at once, one try each, nobody lost a race: {tally}"
    assert all(r.seats is not None and not r.going for r in results if r.outcome is Outcome.BUSY)


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis; no skipping: CI runs where one answers."""
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}): the redis_lock tests need it")
    return url


def test_redis_lock_never_overbooks(event_ids, redis_url):
    event_id = event_ids(10)
    results = race(ledger_strategies.get("redis_lock", url=redis_url), event_id, range(1, 61))
    going = assert_never_overbooked(event_id, results)
    assert len(going) == 10
    assert Counter(r.outcome for r in results) == {Outcome.CONFIRMED: 10, Outcome.FULL: 50}


def test_transaction_on_the_embedded_server_never_overbooks_and_refuses_some(spare_mongo, settings):
    """On its own throwaway server: one open transaction refuses every other session."""
    settings.MONGODB_URI = spare_mongo.uri
    event_id = FIRST_ID
    ledger.create_event(event_id, 10)
    results = race(ledger_strategies.get("transaction"), event_id, range(1, 61))
    going = assert_never_overbooked(event_id, results)
    tally = Counter(r.outcome for r in results)
    assert set(tally) <= {Outcome.CONFIRMED, Outcome.FULL, Outcome.BUSY}
    assert 1 <= len(going) <= 10
    # What the embedded server does, observed: refused outright while another
    # session's transaction is open, so some of 60 at once are refused.
    assert tally[Outcome.BUSY] > 0, tally
    print(f"transaction on the embedded server: {dict(tally)}")


# --- The gate: another strategy only on a proving ground ----------------------


def test_strategy_is_honoured_only_on_a_proving_ground(monkeypatch):
    monkeypatch.delenv(PROVING_GROUND, raising=False)
    monkeypatch.delenv("STRATEGY", raising=False)
    assert seat_strategy() == "combined" == django_settings.SEAT_STRATEGY
    monkeypatch.setenv("STRATEGY", "atomic")
    assert seat_strategy() == "atomic"  # one write per request: safe, may serve
    monkeypatch.setenv("STRATEGY", "naive")
    with pytest.raises(ImproperlyConfigured, match="STRATEGY=naive is for load tests"):
        seat_strategy()
    monkeypatch.setenv(PROVING_GROUND, "1")
    assert seat_strategy() == "naive"
    monkeypatch.setenv("STRATEGY", "nave")
    with pytest.raises(ImproperlyConfigured, match="STRATEGY must be one of combined, atomic, "):
        seat_strategy()
    monkeypatch.setattr("eventsite.env.IS_PRODUCTION", True)
    monkeypatch.setenv("STRATEGY", "optimistic")
    with pytest.raises(ImproperlyConfigured, match="production takes seats with combined or"):
        seat_strategy()


def test_naive_without_the_marker_refuses_to_start(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "EVENTSITE_VAR_DIR": str(tmp_path),
        "MONGODB_URI": "mongodb://127.0.0.1:1",
        "STRATEGY": "naive",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ImproperlyConfigured: STRATEGY=naive is for load tests" in result.stderr


def test_while_a_transaction_holds_the_embedded_server_the_ledger_is_busy_not_broken(
    spare_mongo, settings
):
    """Reads and writes of other sessions are refused: LedgerUnavailable (a 503), not a 500."""
    settings.MONGODB_URI = spare_mongo.uri
    ledger.create_event(FIRST_ID, 3)
    client = MongoClient(spare_mongo.uri, serverSelectionTimeoutMS=2000)
    documents = client[settings.MONGODB_DB][ledger.COLLECTION]
    try:
        with client.start_session() as session, session.start_transaction():
            documents.find_one({"_id": FIRST_ID}, session=session)  # the transaction holds it
            with pytest.raises(ledger.LedgerUnavailable, match="busy"):
                ledger.roster(FIRST_ID)
            with pytest.raises(ledger.LedgerUnavailable, match="busy"):
                ledger.take_seat(FIRST_ID, 7)
            session.abort_transaction()
    finally:
        client.close()
    assert ledger.take_seat(FIRST_ID, 7).outcome is Outcome.CONFIRMED  # free again
