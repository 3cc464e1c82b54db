"""(f) One RSVP, one cancel, one "My RSVPs" and the home page as the site's history grows.

A site's history is its past events: each past event has a ledger document
full with its 10 attendees, their 10 SQL RSVP records and, for the old form,
their 10 documents in ``rsvp_times``. The levels are 1, 1,000 and 10,000 past
events (10, 10,000 and 100,000 past RSVPs), grown in place from one level to
the next. The history is loaded in bulk, not through HTTP: SQL rows with
``bulk_create``, MongoDB documents with ``ledger_benchmark.load_history_for_benchmark``
(in-process on the embedded server's file, whose wire inserts are quadratic).

At each level, ``LEVEL_SAMPLES`` times each, one at a time, on upcoming events
of their own (one per form):

- **RSVP** then **cancel** of the same user: over HTTP (the event page's forms,
  a logged-in session), raw today (``ledger.take_seat``,
  ``ledger.give_up_seat``) and raw as before the history fix
  (``ledger_benchmark.legacy_rsvp_for_benchmark``: guard in the filter plus an upsert
  into ``rsvp_times``; ``legacy_cancel_for_benchmark``);
- **My RSVPs** of a user who holds seats at 3 upcoming events: over HTTP
  (``GET /api/me/rsvps/`` with a Bearer token), raw today
  (``selectors.upcoming_rsvps``: the SQL record, then one ledger key lookup per
  event) and raw as before (``ledger_benchmark.legacy_events_of_for_benchmark``:
  ``find({"attendees": user})``);
- the **home page** (``GET /``, anonymous: the first 20 upcoming events and
  their seats): over HTTP as served (seats through the seat cache), raw
  today (``ledger.seats`` of those events: a key lookup each, no cache) and
  raw as before (``ledger_benchmark.legacy_seats_for_benchmark``: one
  aggregation with ``$in`` on ``_id``).

Samples are taken in turn (sample i of each form, the first form rotating), so
a busy machine slows the forms alike. Every answer is checked, and each
level's events must end with nobody seated. The old form runs on the same
ledger collection as the site, so both see the same history.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial

import requests
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.tokens import issue_access_token
from events import ledger, selectors, services
from events.ledger import Outcome
from events.models import Event, Rsvp
from events.views import PAGE_SIZE
from eventsite.embedded_mongo import DATA_FILE
from loadtests import ledger_benchmark
from loadtests.bench.clicks import IDLE_S, primed
from loadtests.bench.context import LEVEL_SAMPLES, log
from loadtests.bench.history_report import (
    FORMS,
    MY_EVENTS,
    OPS,
    RSVPS_PER_PAST_EVENT,
    HistoryLevel,
    HistoryResult,
)
from loadtests.bench.supplies import Bench
from loadtests.fixtures import make_users
from loadtests.measure import timed

HISTORY_LEVELS = (1, 1_000, 10_000)  # past events on the site
HISTORY_USERS = 1_000  # the accounts those past RSVPs belong to
WARM_SAMPLES = 2  # one unreported round at the first level


def users_needed() -> int:
    """Logged-in users (f) takes: the clickers of each level and of the warm-up, and one reader."""
    return LEVEL_SAMPLES * len(HISTORY_LEVELS) + WARM_SAMPLES + 1


# --------------------------------------------------------------------------- the history


class History:
    """The site's past: events, their RSVP records, ledgers and (for (f)) old seat times.

    ``legacy_times=False`` leaves out the old form's ``rsvp_times``: the site
    as it is today, for ``make bench``'s scaling step (``loadtests.bench.scaling``).
    """

    def __init__(self, bench: Bench, *, legacy_times: bool = True) -> None:
        self.bench = bench
        self.legacy_times = legacy_times
        self.users = [u.pk for u in make_users(HISTORY_USERS, prefix="history")]
        self.events = 0
        self.data_file = None
        if bench.site.mongo is not None:
            self.data_file = str(bench.site.var_dir / "mongo" / DATA_FILE)
        if legacy_times:
            ledger_benchmark.legacy_prepare_for_benchmark()

    @property
    def past_rsvps(self) -> int:
        return self.events * RSVPS_PER_PAST_EVENT

    def grow_to(self, events: int) -> None:
        began, now, first = time.monotonic(), timezone.now(), self.events
        made = Event.objects.bulk_create(
            (
                Event(
                    title=f"Past event {n}",
                    venue="History hall",
                    organiser=self.bench.organiser,
                    starts_at=now - timedelta(days=1, minutes=n),
                )
                for n in range(first, events)
            ),
            batch_size=1_000,
        )
        seated = {event.pk: self._attendees(first + i) for i, event in enumerate(made)}
        records = (
            Rsvp(event_id=event_id, user_id=user_id, status=Rsvp.Status.GOING)
            for event_id, users in seated.items()
            for user_id in users
        )
        Rsvp.objects.bulk_create(records, batch_size=2_000)
        ledger_benchmark.load_history_for_benchmark(
            seated, legacy_times=self.legacy_times, data_file=self.data_file
        )
        self.events = events
        self._check(seated)
        log(f"history: {events:,} past events in {time.monotonic() - began:.1f} s")

    def _attendees(self, n: int) -> list[int]:
        start = n * RSVPS_PER_PAST_EVENT
        return [self.users[(start + k) % len(self.users)] for k in range(RSVPS_PER_PAST_EVENT)]

    def _check(self, seated: dict[int, list[int]]) -> None:
        """The server sees what was loaded: full ledgers by key, every old seat time."""
        ids = list(seated)
        sampled = sorted({ids[0], ids[len(ids) // 2], ids[-1]})
        looked = ledger.seats(sampled)
        full = [i for i in sampled if i in looked and looked[i].taken == RSVPS_PER_PAST_EVENT]
        times = self.past_rsvps  # unless the old form's were written: then they are counted
        if self.legacy_times:
            times = ledger_benchmark.count_for_benchmark(legacy_times=True)
        if len(full) != len(sampled) or times != self.past_rsvps:
            self.bench.problem(
                f"history of {self.events:,} events: the server sees {len(full)} of"
                f" {len(sampled)} sampled ledgers full, and {times:,} old seat times,"
                f" not {self.past_rsvps:,}"
            )


# --------------------------------------------------------------------------- one level


class Reader:
    """The "My RSVPs" user: seats at ``MY_EVENTS`` upcoming events, a token, a session."""

    def __init__(self, bench: Bench, user_id: int) -> None:
        self.user = get_user_model().objects.get(pk=user_id)
        self.expected = sorted(bench.new_event(f"my rsvps {i}") for i in range(MY_EVENTS))
        for event_id in self.expected:
            services.rsvp(event_id=event_id, user_id=user_id)
        self.url = f"{bench.site.url}/api/me/rsvps/"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {issue_access_token(self.user)}"
        self.last = 0.0

    def check(self, ids: list[int]) -> str | None:
        return None if sorted(ids) == self.expected else f"events {sorted(ids)}"

    def over_http(self) -> tuple[float, str | None]:
        if time.monotonic() - self.last > IDLE_S:
            self.http.close()  # as Browserish: never a connection gunicorn may be closing
        ms, response = timed(partial(self.http.get, self.url, timeout=120))
        self.last = time.monotonic()
        if response.status_code != 200:
            return ms, f"status {response.status_code}"
        return ms, self.check([card["id"] for card in response.json()])

    def today(self) -> tuple[float, str | None]:
        ms, cards = timed(partial(selectors.upcoming_rsvps, self.user))
        return ms, self.check([c.event.pk for c in cards if c.going])

    def before(self) -> tuple[float, str | None]:
        ms, ids = timed(partial(ledger_benchmark.legacy_events_of_for_benchmark, self.user.pk))
        return ms, self.check(ids)


class HomePage:
    """An anonymous visitor of ``GET /``, and the seat reads behind it."""

    def __init__(self, bench: Bench) -> None:
        self.url = f"{bench.site.url}/"
        self.http = requests.Session()
        self.last = 0.0

    def _listed(self) -> list[int]:
        return list(Event.objects.upcoming().values_list("pk", flat=True)[:PAGE_SIZE])

    def over_http(self) -> tuple[float, str | None]:
        if time.monotonic() - self.last > IDLE_S:
            self.http.close()
        ms, response = timed(partial(self.http.get, self.url, timeout=120))
        self.last = time.monotonic()
        return ms, None if response.status_code == 200 else f"status {response.status_code}"

    def _seats(self, read) -> tuple[float, str | None]:
        ids = self._listed()
        ms, seats = timed(partial(read, ids))
        return ms, None if sorted(seats) == sorted(ids) else f"seats of {sorted(seats)}"

    def today(self) -> tuple[float, str | None]:
        return self._seats(ledger.seats)

    def before(self) -> tuple[float, str | None]:
        return self._seats(ledger_benchmark.legacy_seats_for_benchmark)


class LevelRun:
    """One level's series: each operation over HTTP, raw today and raw before."""

    def __init__(self, bench: Bench, reader: Reader, samples: int) -> None:
        self.bench, self.reader, self.home = bench, reader, HomePage(bench)
        self.events = {form: bench.new_event(f"history {form}") for form in FORMS}
        self.ids = {form: bench.fresh_ids(samples) for form in ("raw", "legacy")}
        self.clickers = bench.take(samples)
        (self.client,) = primed(bench.site.url, self.events["http"], [self.clickers[0][1]])
        self.ms = {op: {form: [] for form in FORMS} for op in OPS}

    def click(self, action: str, expected: str, i: int) -> tuple[float, str | None]:
        user_id, key = self.clickers[i]
        ms, response = timed(partial(self.client.click, action, key))
        said = self.client.outcome(response)
        return ms, None if said == expected else f"user {user_id}: {said or response.status_code}"

    def raw(self, write, expected, i: int) -> tuple[float, str | None]:
        ms, result = timed(partial(write, self.events["raw"], self.ids["raw"][i]))
        return ms, None if result.outcome is expected else str(result.outcome)

    def legacy(self, write, i: int) -> tuple[float, str | None]:
        ms, done = timed(partial(write, self.events["legacy"], self.ids["legacy"][i]))
        return ms, None if done else "refused"

    def sample(self, op: str, form: str, i: int) -> tuple[float, str | None]:
        """Time the i-th ``op`` in ``form``: (ms, what was wrong with its answer, if anything)."""
        rsvp = op == "rsvp"
        if op in ("my_rsvps", "home"):
            reader = self.reader if op == "my_rsvps" else self.home
            read = {"http": reader.over_http, "raw": reader.today}
            return read.get(form, reader.before)()
        if form == "http":
            return self.click(*(("rsvp", "confirmed") if rsvp else ("cancel", "cancelled")), i)
        if form == "raw":
            if rsvp:
                return self.raw(ledger.take_seat, Outcome.CONFIRMED, i)
            return self.raw(ledger.give_up_seat, Outcome.CANCELLED, i)
        if rsvp:
            return self.legacy(ledger_benchmark.legacy_rsvp_for_benchmark, i)
        return self.legacy(ledger_benchmark.legacy_cancel_for_benchmark, i)

    def run(self, samples: int, label: str) -> dict[str, dict[str, list[float]]]:
        forms = list(FORMS)
        for i in range(samples):
            turn = forms[i % len(forms) :] + forms[: i % len(forms)]
            for op in OPS:  # the RSVP first: the cancel gives back its seat
                for form in turn:
                    ms, problem = self.sample(op, form, i)
                    self.ms[op][form].append(ms)
                    if problem:
                        self.bench.problem(
                            f"{FORMS[form]} {OPS[op]} at {label}, sample {i}: {problem}"
                        )
        for form, event_id in self.events.items():
            try:
                self.bench.check_lists(event_id, [], [], f"{FORMS[form]} at {label}")
            except ValueError as exc:  # the old form left attendees without times
                self.bench.problem(f"{FORMS[form]} at {label}: {exc}")
        return self.ms


def fill_the_home_page(bench: Bench) -> None:
    """A full first page of events sooner than any other, the same at every level.

    Each level adds upcoming events of its own; without these the home page
    would list more events at each level, and grow for that reason alone.
    """
    for i in range(PAGE_SIZE):
        bench.new_event(f"home page {i}", days=1)


def measure_history(bench: Bench) -> HistoryResult:
    """Grow the history level by level; at each, time every series."""
    history = History(bench)
    reader = Reader(bench, bench.take(1)[0][0])
    fill_the_home_page(bench)
    result = HistoryResult()
    for n, level in enumerate(HISTORY_LEVELS):
        history.grow_to(level)
        if n == 0:
            log("(f) warming up: not reported")
            LevelRun(bench, reader, WARM_SAMPLES).run(WARM_SAMPLES, "warm-up")
        log(
            f"(f) RSVP, cancel, My RSVPs, home page with {level:,} past events,"
            f" {history.past_rsvps:,} RSVPs"
        )
        label = f"{level:,} past events"
        ms = LevelRun(bench, reader, LEVEL_SAMPLES).run(LEVEL_SAMPLES, label)
        result.levels.append(HistoryLevel(level, history.past_rsvps, ms))
    return result
