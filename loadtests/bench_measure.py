"""How ``make bench`` times things: many clients at once, one at a time, and CPU.

No Django here; ``loadtests.bench`` and ``loadtests.bench_levels`` use these.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from loadtests import stack
from loadtests.crowd import fire_together, stopwatch

STOP = threading.Event()  # set on an interrupt: clients stop after their current task


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
class Phase:
    """Many clients doing one kind of operation at once."""

    name: str
    clients: int
    latencies_ms: list[float]
    wall_s: float
    errors: list[str]
    cpu_cores: dict[str, float]  # busy cores per component, averaged over the phase
    attendees_after: int = 0

    @property
    def ops(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.ops / self.wall_s if self.wall_s else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "clients": self.clients,
            "ops": self.ops,
            "errors": len(self.errors),
            "error_kinds": dict(Counter(self.errors).most_common(5)),
            "wall_s": round(self.wall_s, 3),
            "throughput_ops_s": round(self.throughput, 2),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms or [float("nan")]), 2),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 2),
            "cpu_cores": {k: round(v, 2) for k, v in self.cpu_cores.items()},
            "attendees_after": self.attendees_after,
        }


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


def hammer(work: list[list[Callable[[], bool]]]) -> tuple[list[float], float, list[str]]:
    """Run each client's tasks in its own thread, all starting together.

    Returns the latency of every task that answered as expected (ms), the wall
    time from the start signal to the last answer (s), and the failures.
    """

    def client(tasks: list[Callable[[], bool]]) -> tuple[list[float], list[str]]:
        mine: list[float] = []
        failed: list[str] = []
        for task in tasks:
            if STOP.is_set():
                break
            began = time.perf_counter()
            try:
                ok = task()
            except Exception as exc:  # counted and reported, the run goes on
                failed.append(type(exc).__name__)
                continue
            if ok:
                mine.append((time.perf_counter() - began) * 1000)
            else:
                failed.append("unexpected answer")
        return mine, failed

    start, elapsed = stopwatch()
    clients = [partial(client, tasks) for tasks in work]
    answers = fire_together(clients, timeout=120, released=start)
    wall = elapsed()
    latencies = [ms for mine, _ in answers for ms in mine]
    return latencies, wall, [error for _, failed in answers for error in failed]


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


def measured(name: str, meter: CpuMeter, work: list[list[Callable[[], bool]]]) -> Phase:
    before = meter.read()
    latencies, wall, errors = hammer(work)
    after = meter.read()
    cores = {k: (after[k] - before[k]) / wall for k in after}
    return Phase(name, len(work), latencies, wall, errors, cores)


def spread(items: list, clients: int) -> list[list]:
    """Deal items round-robin to ``clients`` hands."""
    return [items[i::clients] for i in range(clients) if items[i::clients]]
