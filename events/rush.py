"""The rush: how an event's seats filled over time, for the organiser's admin page.

Every ledger write's result is copied here as a ``SeatSample`` (``record_sample``,
called by ``events.services`` after the write, like the SQL record). The
figures are read back from those samples by ``rush_of`` (a selector); the
chart is drawn from it by ``events.admin.rush``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from django.utils import timezone

from events import selectors
from events.ledger import Outcome, Result, Seats
from events.models import CheckIn, Event, SeatSample

# Writes that can change the counts; a refusal (full, already going) cannot,
# and in a rush most writes are refusals.
CHANGES = {
    Outcome.CONFIRMED,
    Outcome.CANCELLED,
    Outcome.WAITLISTED,
    Outcome.LEFT_WAITLIST,
    Outcome.CAPACITY_SET,
}


def record_sample(event_id: int, result: Result) -> None:
    """Keep the seats a write left, once per ledger version.

    Inside the caller's transaction (``events.services`` writes it with the
    record): a failure raises, and the caller logs it. It only loses a point.
    """
    record_samples(event_id, [result])


def record_samples(event_id: int, results: list[Result]) -> None:
    """``record_sample`` for several writes of one event, in one statement."""
    now = timezone.now()
    samples = {
        result.version: SeatSample(
            event_id=event_id,
            version=result.version,
            at=now,
            capacity=result.seats.capacity,
            taken=result.seats.taken,
            waiting=result.seats.waiting,
        )
        for result in results
        if result.seats is not None and result.version and result.outcome in CHANGES
    }
    if samples:
        SeatSample.objects.bulk_create(samples.values(), ignore_conflicts=True)


# --- Reading the rush back -------------------------------------------------------

# At most this many samples are drawn: enough for a chart 640 points wide.
MAX_POINTS = 400


@dataclass(frozen=True)
class Sample:
    version: int
    at: datetime
    capacity: int
    taken: int
    waiting: int


@dataclass(frozen=True)
class Rush:
    """How an event filled, from its samples, and the figures the organiser reads."""

    samples: list[Sample]  # by version, at most MAX_POINTS (downsampled keeping every peak)
    recorded: int  # samples in all
    capacity: int  # now
    taken: int  # now
    time_to_fill: timedelta | None  # first sample to the first full one; None if never full
    peak_waiting: int
    checked_in: int | None = None  # once the event has started
    started: bool = False

    @property
    def fill_rate(self) -> float | None:
        return self.taken / self.capacity if self.capacity else None

    @property
    def check_in_rate(self) -> float | None:
        if self.checked_in is None or not self.taken:
            return None
        return self.checked_in / self.taken


def rush_of(event: Event) -> Rush:
    """The event's rush: its samples, seats now (the ledger's), and check-ins once started."""
    fields = ("version", "at", "capacity", "taken", "waiting")
    rows = SeatSample.objects.filter(event=event).order_by("version").values_list(*fields)
    samples = [Sample(*row) for row in rows]
    seats = selectors.seats_of([event.pk]).get(event.pk)
    if seats is None and samples:  # no readable ledger: its last known state
        seats = Seats(samples[-1].capacity, samples[-1].taken, samples[-1].waiting)
    seats = seats or selectors.NO_LEDGER
    started = event.starts_at <= timezone.now()
    return Rush(
        samples=downsampled(samples),
        recorded=len(samples),
        capacity=seats.capacity,
        taken=seats.taken,
        time_to_fill=_time_to_fill(samples),
        peak_waiting=max((s.waiting for s in samples), default=0),
        checked_in=CheckIn.objects.filter(event=event).count() if started else None,
        started=started,
    )


def _time_to_fill(samples: list[Sample]) -> timedelta | None:
    full = next((s for s in samples if s.capacity and s.taken >= s.capacity), None)
    return None if full is None else full.at - samples[0].at


def downsampled(samples: list[Sample], limit: int = MAX_POINTS) -> list[Sample]:
    """At most ``limit`` samples: the first, the last, and each stretch's highest points.

    The middle is cut into (limit - 2) / 2 stretches, each keeping its sample
    with the most seats taken and its one with the longest waiting list, so
    every peak of either line is still drawn.
    """
    if len(samples) <= limit:
        return samples
    middle = samples[1:-1]
    stretches = (limit - 2) // 2
    size = len(middle) / stretches
    kept = [samples[0]]
    for i in range(stretches):
        stretch = middle[round(i * size) : round((i + 1) * size)]
        if stretch:
            peaks = {max(stretch, key=attrgetter("taken")), max(stretch, key=attrgetter("waiting"))}
            kept.extend(sorted(peaks, key=attrgetter("version")))
    kept.append(samples[-1])
    return kept
