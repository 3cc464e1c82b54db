"""The load tests' end check: what every user was told, held against the ledger.

Pure functions over the answers a load tool collected (``Click``) and the
ledger after the run (``Ledger``); no I/O, no locust, so a test can feed them
a broken ledger or made-up answers. ``make loadtest`` (the locustfile) and
``make chaos`` (``loadtests.chaos``) both judge with them.

In the locustfile each wave's clicks are answered before anyone cancels, and
cancels are done before the next wave, so a wave's answers are exact: at most
``capacity`` seats told, places on the list told 1..n each once, nobody turned
away while a seat was free, and each cancel between waves seats the head of
the list (``check_wave``, ``check_promotion``). The chaos run's answers
interleave with cancels and faults, so it uses the checks that hold at any
moment: the ledger's own invariants, and each user's last answer against it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

SEATED = {"confirmed", "already_going"}  # the user holds a seat
WAITING = {"waitlisted", "already_waiting"}  # the user holds a place on the list
# The user holds nothing here ("busy": a seat strategy other than the site's
# gave up, events.ledger.strategies; it must have changed nothing).
REFUSED = {"full", "waitlist_closed", "busy"}
# The user asked for seats at an event that requires approval: no seat yet.
REQUESTING = {"requested", "already_requested", "entered", "already_entered"}
# The answers a user may be given; anything else is a failure ("error").
EXPECTED = SEATED | WAITING | REFUSED | REQUESTING | {"cancelled", "not_going"}


@dataclass
class Click:
    username: str
    wave: int
    action: str  # rsvp | join (the wave's click) | cancel (after the wave)
    outcome: str  # one of EXPECTED, or error (or, in the chaos run, why to retry)
    at: float  # when the request was sent: one clock for every process of a run
    status: int  # 0: no answer (refused, reset, timed out)
    done: float = 0.0  # when the answer arrived, on the same clock
    position: int | None = None  # the place on the list the user was told


@dataclass
class Ledger:
    """The event as the API reports it after the run: the ledger's own counts."""

    capacity: int
    taken: int  # seats_taken: attendees as the ledger counts them, not clamped
    waiting: int
    going: set[str] = field(default_factory=set)  # users whose own view says going
    positions: dict[str, int] = field(default_factory=dict)  # users waiting, and where
    parties: dict[str, int] = field(default_factory=dict)  # users with guests: how many
    requested: set[str] = field(default_factory=set)  # users whose request awaits approval

    def party(self, user: str) -> int:
        return 1 + self.parties.get(user, 0)

    @classmethod
    def from_lists(cls, capacity: int, attendees: list[str], waitlist: list[str]) -> Ledger:
        """The ledger as its document stores it; anyone listed twice counts twice."""
        positions: dict[str, int] = {}
        for place, user in enumerate(waitlist, 1):
            positions.setdefault(user, place)
        return cls(capacity, len(attendees), len(waitlist), set(attendees), positions)

    @property
    def overbooked(self) -> int:
        return max(self.taken - self.capacity, 0)

    @property
    def idle_seats_while_waiting(self) -> int:
        """Free seats while someone waits whose party fits in them (skipped parties do not)."""
        free = max(self.capacity - self.taken, 0)
        if not self.positions:  # the counts alone (a ledger read without views)
            return min(free, self.waiting)
        return min(free, sum(self.party(u) <= free for u in self.positions))

    @property
    def seats_held(self) -> int:
        return sum(self.party(u) for u in self.going)

    @property
    def holders(self) -> set[str]:
        return self.going | set(self.positions)


def api_outcome(status: int, body: dict, done: str) -> str:
    """What an API answer told its user: ``done`` on 200/201, else the body's ``code``.

    ``error`` for any answer the API does not give to a seat request.
    """
    outcome = done if status in (200, 201) else str(body.get("code", ""))
    return outcome if status in (200, 201, 202, 404, 409) and outcome in EXPECTED else "error"


def answers(clicks: list[Click], wave: int) -> dict[str, Click]:
    """Each user's click of one wave (cancels left out)."""
    return {c.username: c for c in clicks if c.wave == wave and c.action != "cancel"}


def one_each(places: list[int | None], unknown: int = 0) -> bool:
    """Whether the places are 1..n, each once (n up to ``unknown`` more, for lost answers)."""
    told = [p or 0 for p in places]
    return len(set(told)) == len(told) and all(1 <= p <= len(told) + unknown for p in told)


def check_ledger(ledger: Ledger) -> list[str]:
    """Invariants of the ledger itself, from its counts and every user's view."""
    taken, capacity, waiting = ledger.taken, ledger.capacity, ledger.waiting
    violations = []
    if ledger.overbooked:
        violations.append(f"overbooked: {taken} attendees for {capacity} seats")
    if ledger.idle_seats_while_waiting:
        violations.append(
            f"idle seats while waiting: {taken} of {capacity} seats taken while {waiting} wait"
        )
    if both := ledger.going & set(ledger.positions):
        violations.append(f"both going and waiting: {sorted(both)}")
    if taken != ledger.seats_held:
        violations.append(
            f"ledger holds {taken} seats but the {len(ledger.going)} users going hold "
            f"{ledger.seats_held}"
        )
    if waiting != len(ledger.positions):
        violations.append(f"ledger has {waiting} waiting but {len(ledger.positions)} users wait")
    if not one_each(list(ledger.positions.values())):
        violations.append(f"places on the list are not 1..{len(ledger.positions)} each held once")
    # Seats and places by the ledger's counts against the users' own views.
    if taken + waiting != ledger.seats_held + len(set(ledger.positions) - ledger.going):
        violations.append(
            f"{taken} seats taken + {waiting} waiting, but {len(ledger.holders)} users hold "
            f"{ledger.seats_held} seats and places"
        )
    return violations


def check_lists(attendees: list, waitlist: list) -> list[str]:
    """Nobody twice on either list (read from the document: a user's own view shows one)."""
    violations = []
    for name, entries in (("attendees", attendees), ("waiting list", waitlist)):
        if twice := sorted(user for user, count in Counter(entries).items() if count > 1):
            violations.append(f"listed twice in the {name}: {twice}")
    return violations


def check_cancelled(ledger: Ledger, cancelled: set[str]) -> list[str]:
    """Users told their seat was given back hold nothing, unless they asked again since."""
    if holding := cancelled & ledger.holders:
        return [f"told 'cancelled' but still holding a seat or place: {sorted(holding)}"]
    return []


def check_told(ledger: Ledger, last: dict[str, Click]) -> list[str]:
    """Each user's answer in the last wave against where the ledger has them now."""
    violations = []
    seated = {u for u, c in last.items() if c.outcome in SEATED}
    if lost := seated - ledger.going:
        violations.append(f"told 'going' but not in the ledger: {sorted(lost)}")
    # Promoted, or still waiting no further back than told: the list only moves up.
    behind = sorted(
        u
        for u, c in last.items()
        if c.outcome in WAITING
        and u not in ledger.going
        and ledger.positions.get(u, float("inf")) > (c.position or 0)
    )
    if behind:
        violations.append(f"told a place on the list but not going nor waiting there: {behind}")
    refused = {u for u, c in last.items() if c.outcome in REFUSED}
    if holding := refused & ledger.holders:
        violations.append(f"told 'full' or 'closed' but holding a seat or place: {sorted(holding)}")
    return violations


def check_wave(
    clicks: list[Click], wave: int, capacity: int, party: Callable[[str], int] = lambda u: 1
) -> list[str]:
    """One wave's answers alone: no cancel ran while they were given.

    An answer lost to an error may have been a seat or a place: the checks
    allow for that many, no more. ``party``: the seats each user asked for.
    """
    told = answers(clicks, wave).values()
    unknown = sum(party(c.username) for c in told if c.outcome == "error")
    seated = sum(party(c.username) for c in told if c.outcome in SEATED)
    places = [c.position for c in told if c.outcome in WAITING]
    away = [c.username for c in told if c.outcome in WAITING or c.outcome == "full"]
    turned_away = sum(party(u) <= capacity - seated - unknown for u in away)
    violations = []
    if seated > capacity:
        users = sum(c.outcome in SEATED for c in told)
        held = "one" if users == seated else f"{seated} seats in all"
        violations.append(f"wave {wave}: {users} users told they hold {held} of {capacity} seats")
    if turned_away:
        violations.append(
            f"wave {wave}: {turned_away} turned away while {seated} of {capacity} seats were taken"
        )
    if not one_each(places, unknown):
        violations.append(
            f"wave {wave}: places told on the list are not 1..{len(places)} each once"
        )
    return violations


def check_promotion(clicks: list[Click], wave: int) -> tuple[int, list[str]]:
    """Between ``wave`` and the next, each cancel must have seated the head of the list.

    Returns how many were promoted, and the violations. A cancel or a next
    answer lost to an error leaves that much leeway, no more.
    """
    before, after = answers(clicks, wave), answers(clicks, wave + 1)
    cancels = [c for c in clicks if c.wave == wave and c.action == "cancel"]
    violations = []
    if failed := sorted(c.username for c in cancels if c.outcome not in {"cancelled", "error"}):
        violations.append(f"wave {wave}: told a seat, but the cancel found none: {failed}")
    waited = {u for u, c in before.items() if c.outcome in WAITING}
    queue = [u for _, u in sorted((before[u].position or 0, u) for u in waited)]
    freed = sum(c.outcome == "cancelled" for c in cancels)
    maybe_freed = freed + sum(c.outcome == "error" for c in cancels)
    promoted = {u for u, c in after.items() if c.outcome in SEATED and u in waited}
    unknown = {u for u in waited if u not in after or after[u].outcome == "error"}
    skipped = set(queue[:freed]) - promoted - unknown
    if skipped or promoted - set(queue[:maybe_freed]):
        violations.append(
            f"after wave {wave}: {freed} cancels should have seated the first "
            f"{min(freed, len(queue))} waiting; {len(promoted)} were seated, "
            f"{len(skipped)} of those first were not"
        )
    return len(promoted), violations


def check_parties(ledger: Ledger, last: dict[str, Click], asked: Callable[[str], int]) -> list[str]:
    """Parties: each user going brings the guests they asked for, and no refused party fits."""
    violations = []
    if wrong := sorted(u for u in ledger.going if ledger.parties.get(u, 0) != asked(u)):
        violations.append(f"going with another number of guests than asked: {wrong}")
    left = ledger.capacity - ledger.taken
    refused = sorted(u for u, c in last.items() if c.outcome == "full" and 1 + asked(u) <= left)
    if refused:
        violations.append(f"told 'full' though {left} seats are left for their party: {refused}")
    return violations


def check_approvals(ledger: Ledger, requesters: set[str], approved: list[str]) -> list[str]:
    """Approvals raced: each approved once, the going exactly them, no request left that fits."""
    violations = []
    if twice := sorted(u for u, n in Counter(approved).items() if n > 1):
        violations.append(f"approved twice: {twice}")
    if ledger.going != set(approved):
        violations.append(
            f"{len(ledger.going)} users going but {len(set(approved))} requests approved"
        )
    if lost := requesters - ledger.going - ledger.requested - set(ledger.positions):
        violations.append(
            f"asked for a seat, then neither going, waiting nor requested: {sorted(lost)}"
        )
    left = ledger.capacity - ledger.taken
    if fits := sorted(u for u in ledger.requested if ledger.party(u) <= left):
        violations.append(f"still requested though {left} seats fit their party: {fits}")
    return violations


def check_draw(ledger: Ledger, entrants: set[str]) -> list[str]:
    """After the draw: min(capacity, entrants) seated, each entrant once, the rest waiting.

    (Entrants alone, as the lottery mode's are: with parties the drawn may
    leave seats no waiting party fits in.)
    """
    violations = []
    expected = min(ledger.capacity, len(entrants))
    if not ledger.parties and len(ledger.going) != expected:
        violations.append(f"{len(ledger.going)} seated after the draw; {expected} expected")
    if both := ledger.going & set(ledger.positions):
        violations.append(f"both seated and waiting after the draw: {sorted(both)}")
    if lost := entrants - ledger.going - set(ledger.positions):
        violations.append(f"entered, then neither seated nor waiting: {sorted(lost)}")
    if still := ledger.requested & entrants:
        violations.append(f"still entered after the draw: {sorted(still)}")
    return violations


def burst_timing(clicks: list[Click], waves: int) -> tuple[list[float], list[float | None]]:
    """Per wave: spread of the clicks sent (ms), and answers per second."""
    spreads, rates = [], []
    for wave in range(1, waves + 1):
        told = list(answers(clicks, wave).values())
        if told:
            first, last_sent = min(c.at for c in told), max(c.at for c in told)
            spreads.append(round((last_sent - first) * 1000, 1))
            burst = max(c.done for c in told) - first
            rates.append(round(len(told) / burst, 1) if burst > 0 else None)
    return spreads, rates


def judge(
    clicks: list[Click], ledger: Ledger, waves: int, party: Callable[[str], int] = lambda u: 1
) -> dict:
    """Every check, and the counts of the summary (``party``: the seats each user asked for)."""
    last = answers(clicks, waves)
    violations = check_ledger(ledger) + check_told(ledger, last)
    promoted = 0
    for wave in range(1, waves + 1):
        violations += check_wave(clicks, wave, ledger.capacity, party)
        if wave < waves:
            moved, broken = check_promotion(clicks, wave)
            promoted, violations = promoted + moved, violations + broken
    errors = [c for c in clicks if c.outcome == "error"]
    if server_errors := sum(c.status >= 500 for c in errors):
        violations.append(f"{server_errors} server errors (5xx)")
    spreads, rates = burst_timing(clicks, waves)
    told = (*sorted(SEATED), *sorted(WAITING), *sorted(REFUSED), *sorted(REQUESTING))
    return {
        "capacity": ledger.capacity,
        "clicks": len(clicks),
        "waves": waves,
        # The last wave's answers; earlier waves are checked above.
        **{o: sum(c.outcome == o for c in last.values()) for o in told},
        "errors": len(errors),
        "cancelled": sum(c.outcome == "cancelled" for c in clicks),
        "promoted": promoted,
        "attendees": ledger.taken,
        "going": len(ledger.going),
        "waiting": ledger.waiting,
        "overbooked": ledger.overbooked,
        "idle_seats_while_waiting": ledger.idle_seats_while_waiting,
        "click_spread_ms": max(spreads) if spreads else None,
        "click_spread_ms_per_wave": spreads,
        # Clicks answered per second, from the first click to the last answer.
        "rsvps_per_s": rates[-1] if rates else None,
        "violations": violations,
    }
