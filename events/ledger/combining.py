"""Combined writes: concurrent requests for one document decided by one atomic write.

Part of ``events.ledger``. The embedded server applies writes one at a time
and each costs mostly its fixed part (re-encoding the whole document, its
change-stream copy), so a rush queues on that part: 150 RSVPs for one event
are 150 writes of the whole document. Combined, the requests for one event
that arrive in this process while a write for it is in flight wait for the
next write, which decides all of them at once (group commit).

- **No timer.** A request that finds nothing in flight writes at once, alone:
  a quiet site pays nothing. Only requests that would have queued on the
  server anyway queue here instead, and one write serves them all.
- **Fair.** Each write takes the waiting requests in arrival order, at most
  ``max_batch``; the writer then hands the next write to the first request
  still waiting and returns, so no request writes for others more than once.
- **All or nothing.** A batch is one write: it lands whole or not at all, and
  an error (the server down, a damaged document) is every request's answer.
- **One process each.** Processes and hosts combine their own requests; the
  server's atomic write keeps them apart, so nothing here is shared.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Request[T, R]:
    item: T
    woken: threading.Event = field(default_factory=threading.Event)
    writes: bool = False  # this request's thread runs the next write
    result: R | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Queue:
    waiting: deque = field(default_factory=deque)
    in_flight: bool = False


class Combiner[K: Hashable, T, R]:
    """Runs ``write(key, items)`` for batches of concurrent ``submit(key, item)`` calls.

    ``write`` returns one result per item, in their order.
    """

    def __init__(self, write: Callable[[K, list[T]], list[R]], max_batch: int) -> None:
        self._write = write
        self.max_batch = max_batch
        # A condition, not a plain lock: ``wait_until_waiting`` is woken by arrivals.
        self._lock = threading.Condition()
        self._queues: dict[K, _Queue] = {}

    def submit(self, key: K, item: T) -> R:
        request = _Request(item)
        with self._lock:
            queue = self._queues.setdefault(key, _Queue())
            queue.waiting.append(request)
            if not queue.in_flight:
                queue.in_flight = request.writes = True
            self._lock.notify_all()
        if not request.writes:
            request.woken.wait()  # for its result, or to write the next batch
        if request.writes:
            self._write_next(key, queue)
        if request.error is not None:
            raise request.error
        return request.result

    def before_batch(self, key: K) -> None:
        """Called by a batch's writer just before it takes the batch; a subclass may wait here.

        The site's combiner waits for nothing (no timer: see the module's
        docstring); a load tool's control may wait for its batch to gather.
        """

    def wait_until_waiting(self, key: K, count: int, timeout: float) -> int:
        """Wait until ``count`` requests for ``key`` wait, or ``timeout`` seconds; how many wait."""
        with self._lock:
            self._lock.wait_for(lambda: self._waiting(key) >= count, timeout)
            return self._waiting(key)

    def _waiting(self, key: K) -> int:
        queue = self._queues.get(key)
        return len(queue.waiting) if queue is not None else 0

    def _write_next(self, key: K, queue: _Queue) -> None:
        self.before_batch(key)
        with self._lock:
            count = min(self.max_batch, len(queue.waiting))
            batch = [queue.waiting.popleft() for _ in range(count)]
        try:
            results = self._write(key, [request.item for request in batch])
            for request, result in zip(batch, results, strict=True):
                request.result = result
        except BaseException as exc:  # every request of the batch gets the write's error
            for request in batch:
                request.error = exc
        finally:
            self._hand_on(key, queue, batch)

    def _hand_on(self, key: K, queue: _Queue, batch: list[_Request]) -> None:
        """Wake the batch with its results, and the first request still waiting to write."""
        with self._lock:
            writer = queue.waiting[0] if queue.waiting else None
            if writer is not None:
                writer.writes = True
            else:
                queue.in_flight = False
                del self._queues[key]  # the next request for it starts a fresh queue
        for request in batch:
            request.woken.set()
        if writer is not None:
            writer.woken.set()
