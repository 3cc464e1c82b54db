"""The cost of one operation at a time, by how many people are already listed.

For each level N (10, 1,000, 10,000), ``make bench`` measures three
operations, raw (``events.ledger`` through pymongo) and over HTTP (the event
page's form through gunicorn), ``LEVEL_SAMPLES`` times each, one at a time:

- **RSVP** on an event of huge capacity that already has N attendees; every
  RSVP must be confirmed.
- **join** the waiting list of a full event whose list already holds N
  people; every join must be waitlisted at the end of the list, promoting
  nobody.
- **cancel with promotion**: a seat holder of a full event whose list holds N
  people cancels, and the head of the list takes the seat in the same write;
  the raw result must name exactly that head as promoted. Over HTTP the heads
  are real accounts, so the request also sends their "a seat freed up" email
  (Django's immediate task backend; console mail).

Full events have ``LEVEL_SAMPLES`` seats, so their document holds N + 10
user ids (by default): about what the RSVP's holds. Each of the six series
(three operations, raw and HTTP) has its own event, all prepared first; then
the samples are taken in turn (sample i of each series, then sample i + 1),
so that a machine busy with something else slows all six alike and the
ratios stay fair. Every sample's outcome is checked, and at the end each
event's ledger must hold exactly the seats and the waiting list, in order,
that the samples should have left.
"""

from __future__ import annotations

from functools import partial

from events import ledger
from events.ledger import Outcome
from loadtests.bench.clicks import primed
from loadtests.bench.context import HUGE, LEVEL_SAMPLES
from loadtests.bench.supplies import Bench
from loadtests.measure import Level, timed

USERS_PER_SAMPLE = 4  # logged-in users a level takes per sample: RSVP, join, cancel + its head


class Series:
    """Samples of one operation on one event of its own, and the ledger it must leave."""

    def __init__(self, bench: Bench, what: str, event_id: int, going: list, waiting: list):
        self.bench, self.what, self.event_id = bench, what, event_id
        self.going_after, self.waiting_after = going, waiting  # once every sample is taken
        self.ms: list[float] = []

    def take_sample(self, i: int) -> None:
        ms, problem = self.sample(i)
        self.ms.append(ms)
        if problem:
            self.bench.problem(f"{self.what}, sample {i + 1}: {problem}")

    def sample(self, i: int) -> tuple[float, str | None]:
        """Time the i-th operation: (ms, what was wrong with its answer, if anything)."""
        raise NotImplementedError

    def finish(self) -> None:
        self.bench.check_lists(self.event_id, self.going_after, self.waiting_after, self.what)


class Clicks(Series):
    """Logged-in users click one of the event page's forms, one after the other."""

    def __init__(self, *args, clickers: list[tuple[int, str]], action: str, expected: str):
        super().__init__(*args)
        self.clickers, self.action, self.expected = clickers, action, expected
        (self.client,) = primed(self.bench.site.url, self.event_id, [clickers[0][1]])

    def sample(self, i: int) -> tuple[float, str | None]:
        user_id, key = self.clickers[i]
        ms, response = timed(partial(self.client.click, self.action, key))
        said = self.client.outcome(response)
        if said == self.expected:
            return ms, None
        return (
            ms,
            f"user {user_id}: {said or f'status {response.status_code}'}, not {self.expected}",
        )


class RawRsvp(Series):
    def __init__(self, *args, joiners: list[int]):
        super().__init__(*args)
        self.joiners = joiners

    def sample(self, i: int) -> tuple[float, str | None]:
        ms, result = timed(partial(ledger.take_seat, self.event_id, self.joiners[i]))
        return ms, None if result.outcome is Outcome.CONFIRMED else str(result.outcome)


class RawJoin(Series):
    def __init__(self, *args, joiners: list[int], waiting_before: int):
        super().__init__(*args)
        self.joiners, self.waiting_before = joiners, waiting_before

    def sample(self, i: int) -> tuple[float, str | None]:
        ms, result = timed(partial(ledger.join_waitlist, self.event_id, self.joiners[i]))
        expected = (Outcome.WAITLISTED, self.waiting_before + i + 1, ())
        if (result.outcome, result.position, result.promoted) == expected:
            return ms, None
        return ms, (
            f"{result.outcome} at position {result.position}, promoted "
            f"{list(result.promoted)}; expected waitlisted at {expected[1]}, nobody promoted"
        )


class RawCancel(Series):
    def __init__(self, *args, holders: list[int], heads: list[int]):
        super().__init__(*args)
        self.holders, self.heads = holders, heads

    def sample(self, i: int) -> tuple[float, str | None]:
        ms, result = timed(partial(ledger.give_up_seat, self.event_id, self.holders[i]))
        if (result.outcome, result.promoted) == (Outcome.CANCELLED, (self.heads[i],)):
            return ms, None
        promoted = list(result.promoted)
        return ms, f"{result.outcome}, promoted {promoted}; expected [{self.heads[i]}]"


# --------------------------------------------------------------------------- the series


def rsvp_series(bench: Bench, level: int, samples: int) -> tuple[Series, Series]:
    """RSVPs on events of huge capacity that already have ``level`` attendees."""
    going, joiners = bench.fresh_ids(level), bench.fresh_ids(samples)
    event_id = bench.listed_event(f"bench raw {level}", going, [], capacity=HUGE)
    raw = RawRsvp(bench, f"raw RSVP at {level:,}", event_id, going + joiners, [], joiners=joiners)
    going, clickers = bench.fresh_ids(level), bench.take(samples)
    event_id = bench.listed_event(f"bench http {level}", going, [], capacity=HUGE)
    after = going + [user_id for user_id, _ in clickers]
    what = f"HTTP RSVP at {level:,}"
    http = Clicks(
        bench,
        what,
        event_id,
        after,
        [],
        clickers=clickers,
        action="rsvp",
        expected=Outcome.CONFIRMED,
    )
    return raw, http


def join_series(bench: Bench, level: int, samples: int) -> tuple[Series, Series]:
    """Joins of the list of full events (``samples`` seats) where ``level`` wait."""
    holders, line = bench.fresh_ids(samples), bench.fresh_ids(level)
    joiners = bench.fresh_ids(samples)
    event_id = bench.listed_event(f"bench join raw {level}", holders, line)
    what = f"raw join at {level:,} waiting"
    raw = RawJoin(
        bench, what, event_id, holders, line + joiners, joiners=joiners, waiting_before=level
    )
    holders, line, clickers = bench.fresh_ids(samples), bench.fresh_ids(level), bench.take(samples)
    event_id = bench.listed_event(f"bench join http {level}", holders, line)
    after = line + [user_id for user_id, _ in clickers]
    what = f"HTTP join at {level:,} waiting"
    http = Clicks(
        bench,
        what,
        event_id,
        holders,
        after,
        clickers=clickers,
        action="waitlist",
        expected=Outcome.WAITLISTED,
    )
    return raw, http


def cancel_series(bench: Bench, level: int, samples: int) -> tuple[Series, Series]:
    """Cancels on full events (``samples`` seats) where ``level`` wait: the head is seated."""
    waiting = max(level, samples)  # one head to promote per sample
    holders, line = bench.fresh_ids(samples), bench.fresh_ids(waiting)
    event_id = bench.listed_event(f"bench cancel raw {level}", holders, line)
    what = f"raw cancel at {level:,} waiting"
    heads, rest = line[:samples], line[samples:]
    raw = RawCancel(bench, what, event_id, heads, rest, holders=holders, heads=heads)
    clickers = bench.take(samples)
    # The first in line are real accounts, so each promotion sends its email.
    heads = [user_id for user_id, _ in bench.take(samples)]
    rest = bench.fresh_ids(waiting - samples)
    holders = [user_id for user_id, _ in clickers]
    event_id = bench.listed_event(f"bench cancel http {level}", holders, heads + rest)
    what = f"HTTP cancel at {level:,} waiting"
    http = Clicks(
        bench,
        what,
        event_id,
        heads,
        rest,
        clickers=clickers,
        action="cancel",
        expected=Outcome.CANCELLED,
    )
    return raw, http


def measure_level(
    bench: Bench, level: int, samples: int = LEVEL_SAMPLES
) -> tuple[Level, Level, Level]:
    """RSVP, join and cancel with promotion at ``level``: six series, sampled in turn."""
    ops = [f(bench, level, samples) for f in (rsvp_series, join_series, cancel_series)]
    series = [s for raw, http in ops for s in (raw, http)]
    for i in range(samples):
        turn = i % len(series)  # who goes first rotates, so no series always follows another
        for s in series[turn:] + series[:turn]:
            s.take_sample(i)
    for s in series:
        s.finish()
    rsvp, join, cancel = (Level(level, raw.ms, http.ms) for raw, http in ops)
    return rsvp, join, cancel
