"""``make bench``'s settings (from the environment) and the state one stack's run shares.

``Bench`` hands out what the measuring steps need, so that no two steps ever
share an event or a user: new events (empty, pre-filled with attendees, or
full with a waiting list), ledger-only user ids (no account: the writes
without HTTP and the fills), users with API tokens (the rush over the JSON
API) and logged-in users (the extras' clicks on the pages' forms). It also
keeps the run's problems: any operation that did not answer as expected, any
ledger that does not hold exactly what was confirmed. One problem makes the
run exit 1.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from loadtests import stack
from loadtests.measure import CpuMeter

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "var" / "bench"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))

# The rush, the same shape on every path (loadtests.bench.crowds).
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "150"))
USERS = int(os.environ.get("BENCH_USERS", "600"))  # distinct users, dealt to the clients
CAPACITY = int(os.environ.get("BENCH_CAPACITY", "500"))
READERS = int(os.environ.get("BENCH_READERS", "20"))
ALONE_S = float(os.environ.get("BENCH_ALONE_S", "10"))  # the readers' phase before the rush
OTHER_EVENTS = int(os.environ.get("BENCH_OTHER_EVENTS", "5000"))  # 0: no scaling step
SCALING_SAMPLES = int(os.environ.get("BENCH_SCALING_SAMPLES", "9"))

# The old parts, opt-in (loadtests.bench.extras).
LEVELS_ON = os.environ.get("BENCH_LEVELS", "0") == "1"  # (c)-(e), and the profile
HISTORY_ON = os.environ.get("BENCH_HISTORY", "0") == "1"  # (f)
LEVELS = (10, 1_000, 10_000)
LEVEL_SAMPLES = int(os.environ.get("BENCH_LEVEL_SAMPLES", "10"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"

HUGE = 10_000_000  # capacity: nobody is ever turned away
LEDGER_ONLY_IDS = 1_000_000_000  # user ids for raw ops and fills, far from real accounts

# The story's targets (loadtests.bench.report): reported, never asserted.
TARGET_HTTP_VS_PLAIN = 1.0  # HTTP seats/s over the engine's plain write
TARGET_PAGE_SLOWDOWN = 2.0  # a page's p99 during the rush over its p99 with readers alone
TARGET_RSVP_P99_MS = 1000.0  # RSVP p99 at CLIENTS clients
TARGET_SCALING = 1.5  # one RSVP / one home page with OTHER_EVENTS other events over with none
# The extras' (loadtests.bench.extras_report, history_report).
TARGET_GROWTH = 2.0  # cost at 10,000 attendees / cost at 10
TARGET_HISTORY_GROWTH = 1.5  # (f): the largest cost over the history levels / the smallest


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def target(name: str, goal: str, value: float, met: bool, shown: str, miss: str) -> dict:
    """One row of the targets table (reported, never asserted)."""
    return {
        "target": name,
        "goal": goal,
        "value": round(value, 3),
        "measured": shown,
        "met": met,
        "miss": "" if met else miss,
    }


class Bench:
    """One run's supplies (events, ids, logged-in users) and its problems."""

    def __init__(self, site: stack.Stack, problems: list[str]) -> None:
        from django.contrib.auth import get_user_model

        self.site = site
        self.problems = problems
        self.meter = CpuMeter(site)
        self.organiser = get_user_model().objects.create_user("bench-organiser", is_staff=True)
        self._next_id = LEDGER_ONLY_IDS
        self._pool: list[tuple[int, str]] = []  # (user id, session key); each clicks once
        self._batches = 0  # of API users, each under a name prefix of its own
        self.events: list[int] = []  # every event this run made, for ``clear_events``

    # ---------------------------------------------------------------- users and ids

    def log_in_users(self, count: int) -> None:
        """Make ``count`` users, each with a logged-in session, for ``take``."""
        from loadtests.fixtures import login_sessions, make_users

        users = make_users(count, prefix="bench")
        self._pool = list(zip((u.pk for u in users), login_sessions(users), strict=True))

    def take(self, count: int) -> list[tuple[int, str]]:
        """``count`` logged-in users nobody has used yet: (user id, session key)."""
        if count > len(self._pool):
            raise RuntimeError(f"bench: {count} users wanted, {len(self._pool)} left")
        taken, self._pool[:count] = self._pool[:count], []
        return taken

    def api_users(self, count: int) -> list[tuple[int, str]]:
        """``count`` new users, each with an API access token: (user id, token).

        The tokens are the ones ``POST /_allauth/app/v1/auth/login`` hands out
        (``accounts.tokens``), without a password check each.
        """
        from accounts.tokens import issue_access_tokens
        from loadtests.fixtures import make_users

        self._batches += 1
        users = make_users(count, prefix=f"api{self._batches}-")
        tokens = issue_access_tokens(users)
        return [(user.pk, tokens[user.pk]) for user in users]

    def fresh_ids(self, count: int) -> list[int]:
        """``count`` user ids never used before (an account is made only if filled)."""
        self._next_id += count
        return list(range(self._next_id - count, self._next_id))

    # ---------------------------------------------------------------- events

    def _create(self, title: str, capacity: int, days: float = 30) -> int:
        from django.utils import timezone

        from events import services

        event = services.create_event(
            capacity=capacity,
            title=title,
            venue="Benchmark hall",
            organiser=self.organiser,
            starts_at=timezone.now() + timedelta(days=days),
        )
        self.events.append(event.pk)
        return event.pk

    def clear_events(self) -> None:
        """Delete every event made so far (SQL rows, records and ledgers), once checked."""
        from events import services

        services.delete_events(event_ids=self.events)
        self.events = []

    def _fill(self, event_id: int, user_ids: list[int], *, waiting: bool = False) -> None:
        from loadtests import ledger_benchmark

        seats = ledger_benchmark.fill_for_benchmark(event_id, user_ids, waiting=waiting)
        held = None if seats is None else seats.waiting if waiting else seats.taken
        if held != len(user_ids):
            where = "waiting list" if waiting else "seats"
            raise RuntimeError(f"could not fill event {event_id}'s {where} with {len(user_ids)}")
        self._record_fill(event_id, user_ids, waiting=waiting)

    @staticmethod
    def _record_fill(event_id: int, user_ids: list[int], *, waiting: bool) -> None:
        """Accounts and SQL record rows for a fill, as RSVPs through the site leave them.

        Without them the record is short of the ledger by the whole fill, and
        every write on the event over HTTP would find the counts apart and
        repair it (once a second): a cost a real site never pays.
        """
        from django.contrib.auth import get_user_model

        from events.models import Rsvp

        User = get_user_model()
        User.objects.bulk_create(
            (User(pk=u, username=f"fill{u}") for u in user_ids),
            batch_size=1_000,
            ignore_conflicts=True,
        )
        status = Rsvp.Status.WAITING if waiting else Rsvp.Status.GOING
        Rsvp.objects.bulk_create(
            (Rsvp(event_id=event_id, user_id=u, status=status) for u in user_ids),
            batch_size=1_000,
        )

    def new_event(
        self, title: str, fill: int = 0, *, days: float = 30, capacity: int = HUGE
    ) -> int:
        """An upcoming event (nobody turned away unless a capacity is given), ``fill`` going."""
        event_id = self._create(title, capacity, days)
        if fill:
            self._fill(event_id, self.fresh_ids(fill))
        return event_id

    def listed_event(
        self, title: str, going: list[int], waiting: list[int], capacity: int | None = None
    ) -> int:
        """``going`` in its seats, ``waiting`` in line; full unless a capacity is given."""
        event_id = self._create(title, len(going) if capacity is None else capacity)
        if going:
            self._fill(event_id, going)
        if waiting:
            self._fill(event_id, waiting, waiting=True)
        return event_id

    # ---------------------------------------------------------------- checks

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def check(self, event_id: int, clickers: set[int], confirmed: int, what: str) -> int:
        """Every confirmation is one seat, held by one of those who clicked, once."""
        from events import ledger

        going = [a.user_id for a in ledger.attendees(event_id)]
        if len(going) != len(set(going)) or len(going) != confirmed or set(going) - clickers:
            self.problem(
                f"{what}: ledger holds {len(going)} attendees ({len(set(going))} distinct, "
                f"{len(set(going) - clickers)} who never clicked); {confirmed} were confirmed"
            )
        return len(going)

    def check_lists(self, event_id: int, going: list[int], waiting: list[int], what: str) -> None:
        """The ledger holds exactly these seats and this waiting list, in this order."""
        from events import ledger

        held = [a.user_id for a in ledger.attendees(event_id)]
        line = ledger.waitlist(event_id)
        if held != going or line != waiting:
            self.problem(
                f"{what}: ledger holds {len(held)} going and {len(line)} waiting; expected "
                f"exactly {len(going)} and {len(waiting)} (same people, same order): "
                f"{'seats differ' if held != going else 'seats match'}, "
                f"{'list differs' if line != waiting else 'list matches'}"
            )
