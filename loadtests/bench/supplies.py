"""One stack's run of ``make bench``: its supplies (events, users, ids) and its problems.

``Bench`` hands out what the measuring steps need, so that no two steps ever
share an event or a user: new events (empty, pre-filled with attendees, or
full with a waiting list), ledger-only user ids (no account: the writes
without HTTP and the fills), users with API tokens (the rush over the JSON
API) and logged-in users (the extras' clicks on the pages' forms). It also
keeps the run's problems: any operation that did not answer as expected, any
ledger that does not hold exactly what was confirmed. One problem makes the
run exit 1.

It makes its supplies with Django's models, so it (and every step that takes
a ``Bench``) is imported only once ``stack.running`` has set Django up
(``loadtests.bench.stack_run``).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.tokens import issue_access_tokens
from events import ledger, services
from events.models import Rsvp
from loadtests import ledger_benchmark, stack
from loadtests.bench.context import HUGE, LEDGER_ONLY_IDS
from loadtests.fixtures import login_sessions, make_users
from loadtests.measure import CpuMeter


class Bench:
    """One run's supplies (events, ids, logged-in users) and its problems."""

    def __init__(self, site: stack.Stack, problems: list[str]) -> None:
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
        services.delete_events(event_ids=self.events)
        self.events = []

    def _fill(self, event_id: int, user_ids: list[int], *, waiting: bool = False) -> None:
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
        going = [a.user_id for a in ledger.attendees(event_id)]
        if len(going) != len(set(going)) or len(going) != confirmed or set(going) - clickers:
            self.problem(
                f"{what}: ledger holds {len(going)} attendees ({len(set(going))} distinct, "
                f"{len(set(going) - clickers)} who never clicked); {confirmed} were confirmed"
            )
        return len(going)

    def check_lists(self, event_id: int, going: list[int], waiting: list[int], what: str) -> None:
        """The ledger holds exactly these seats and this waiting list, in this order."""
        held = [a.user_id for a in ledger.attendees(event_id)]
        line = ledger.waitlist(event_id)
        if held != going or line != waiting:
            self.problem(
                f"{what}: ledger holds {len(held)} going and {len(line)} waiting; expected "
                f"exactly {len(going)} and {len(waiting)} (same people, same order): "
                f"{'seats differ' if held != going else 'seats match'}, "
                f"{'list differs' if line != waiting else 'list matches'}"
            )
