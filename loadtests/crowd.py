"""The one way the load tools and the tests fire many calls at the same instant."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def fire_together[T](
    calls: list[Callable[[], T]],
    timeout: float = 60,
    released: Callable[[], None] | None = None,
) -> list[T]:
    """Run every call on a thread of its own, all released at the same instant.

    Each thread waits at a barrier until all are ready, so the calls reach the
    server together; the answers come back in the order of ``calls``.
    ``released`` runs once, at the instant the barrier opens (to start a clock).
    """
    barrier = threading.Barrier(len(calls), action=released)

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=timeout)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
