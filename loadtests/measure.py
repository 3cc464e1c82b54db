"""How the load tools time things: many clients at once, one at a time, and CPU.

No Django here; ``make bench`` (``loadtests.bench``), ``make compare`` and
``make chaos``'s report use these.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from loadtests import stack
from loadtests.crowd import fire_together

STOP = threading.Event()  # set on an interrupt: clients stop after their current task


def interrupted(signum, frame) -> None:
    """A signal handler for the bench's processes: clients stop, then Ctrl-C's exit."""
    STOP.set()
    raise KeyboardInterrupt


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def timed[T](operation: Callable[[], T]) -> tuple[float, T]:
    """Run it once: (milliseconds it took, what it returned)."""
    began = time.perf_counter()
    value = operation()
    return (time.perf_counter() - began) * 1000, value


@dataclass
class Level:
    """One kind of operation, one at a time, with ``people`` already on the list it grows.

    For an RSVP, ``people`` are the attendees already going; for joining the
    waiting list or cancelling with a promotion, the people already waiting.
    """

    people: int
    raw_ms: list[float]
    http_ms: list[float]

    @property
    def raw(self) -> float:
        return statistics.median(self.raw_ms)

    @property
    def http(self) -> float:
        return statistics.median(self.http_ms)


@dataclass(frozen=True)
class Told:
    """One task of a crowd: when its answer came, how long it took, what it returned."""

    done_s: float  # since the crowd was released
    ms: float
    value: object  # what the task returned; None if it raised
    error: str = ""  # the exception's name, if it raised


@dataclass(frozen=True)
class CrowdRun:
    clients: int
    released: float  # time.perf_counter() at the instant the clients were released
    wall_s: float  # from the release to the last answer
    told: list[Told]  # every task's answer, client by client, in each client's order


def crowd(work: list[list[Callable[[], object]]]) -> CrowdRun:
    """Run each client's tasks one after another in a thread of its own, all starting together.

    A task that raises is recorded with its exception's name and the client
    goes on with its next task; after an interrupt (``STOP``) clients stop
    after their current task.
    """
    began: list[float] = []

    def client(tasks: list[Callable[[], object]]) -> list[Told]:
        mine: list[Told] = []
        for task in tasks:
            if STOP.is_set():
                break
            start = time.perf_counter()
            try:
                value, error = task(), ""
            except Exception as exc:  # counted and reported, the run goes on
                value, error = None, type(exc).__name__
            now = time.perf_counter()
            mine.append(Told(now - began[0], (now - start) * 1000, value, error))
        return mine

    clients = [partial(client, tasks) for tasks in work]
    answers = fire_together(
        clients, timeout=120, released=lambda: began.append(time.perf_counter())
    )
    wall = time.perf_counter() - began[0]
    return CrowdRun(len(work), began[0], wall, [told for mine in answers for told in mine])


def hammer(work: list[list[Callable[[], bool]]]) -> tuple[list[float], float, list[str]]:
    """``crowd``, for tasks that say whether they were answered as expected.

    Returns the latency of every task that answered as expected (ms), the wall
    time from the start signal to the last answer (s), and the failures.
    """
    run = crowd(work)
    latencies = [t.ms for t in run.told if t.value]
    failures = [t.error or "unexpected answer" for t in run.told if not t.value]
    return latencies, run.wall_s, failures


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time of each part of the stack, read from /proc."""

    def __init__(self, site: stack.Stack) -> None:
        self.parts: dict[str, Callable[[], list[int]]] = {
            "gunicorn": site.gunicorn_pids,
            "bench clients": lambda: [os.getpid()],
        }
        if site.mongo is not None:
            self.parts = {"mongodb": lambda: [site.mongo.pid], **self.parts}

    def read(self) -> dict[str, float]:
        return {name: sum(map(_cpu_seconds, pids())) for name, pids in self.parts.items()}


def spread(items: list, clients: int) -> list[list]:
    """Deal items round-robin to ``clients`` hands."""
    return [items[i::clients] for i in range(clients) if items[i::clients]]
