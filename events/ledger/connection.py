"""The ledger's connection to MongoDB: one client per process, and fast answers in an outage.

Part of ``events.ledger`` (the only code that talks to MongoDB), kept apart
so that module reads as the ledger's operations.

**Failing fast.** pymongo waits up to ``MONGODB_TIMEOUT_MS`` to find a server
before it gives up, and a request that waits holds one of gunicorn's
threads: in an outage every request would take that long to get its 503, and
the queue behind them longer still. So the first connection failure a
process sees (a request's, or a failed heartbeat of pymongo's own monitor)
marks MongoDB down *for that process*: from then on every
operation is refused at once (``LedgerUnavailable``, a 503 with
``Retry-After``) without touching the network, while one caller at a time, at
most every ``PROBE_EVERY_S``, asks the server with a short ping
(``PROBE_TIMEOUT_S``). The first ping that is answered ends the outage, so the
site recovers by itself within about ``PROBE_EVERY_S`` of the server coming
back. A server that answers slowly (a ping queued behind a rush of writes)
is up, not down: only a refused or lost connection starts or prolongs an
outage. Nothing is decided from this state but "do not try now".
"""

from __future__ import annotations

import functools
import threading
import time

import pymongo
from django.conf import settings
from pymongo import MongoClient, monitoring
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure, NetworkTimeout, OperationFailure, PyMongoError

COLLECTION = "rsvp_ledger"
PROBE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 0.5


class LedgerUnavailable(Exception):
    """MongoDB cannot be reached; callers answer 503 and retry later."""


class _Outage:
    """This process's view of whether MongoDB is down, and who may probe it."""

    def __init__(self) -> None:
        self.probe_at = 0.0  # 0: up; else when the next probe may run (monotonic)
        self.probing = threading.Lock()

    def begin(self) -> None:
        self.probe_at = time.monotonic() + PROBE_EVERY_S

    def end(self) -> None:
        self.probe_at = 0.0

    def check(self, client: MongoClient) -> None:
        """Return if MongoDB may be asked; raise at once while it is known to be down."""
        if not self.probe_at:
            return
        if time.monotonic() < self.probe_at or not self.probing.acquire(blocking=False):
            raise LedgerUnavailable("MongoDB was unreachable a moment ago")
        try:
            with pymongo.timeout(PROBE_TIMEOUT_S):
                client.admin.command("ping")
        except PyMongoError as exc:
            if _unreachable(exc):
                self.begin()
                raise LedgerUnavailable(f"MongoDB is still unreachable: {exc}") from exc
            # Reached but slow to answer (a rush queues the ping behind the
            # writes): that is up; requests wait their own timeouts again.
        finally:
            self.probing.release()
        self.end()


def _unreachable(exc: BaseException) -> bool:
    """MongoDB refused us or is not there, as opposed to answering slowly."""
    return isinstance(exc, ConnectionFailure) and not isinstance(exc, NetworkTimeout)


class _OutageOnFailedHeartbeat(monitoring.ServerHeartbeatListener):
    """pymongo's monitor finds a dead server before any request does: answer 503 from then on.

    Without it, every request that starts before this process's first failed
    call waits the whole server selection timeout for its 503.
    """

    def started(self, event: monitoring.ServerHeartbeatStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.ServerHeartbeatSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.ServerHeartbeatFailedEvent) -> None:
        if _unreachable(event.reply):
            _outage.begin()


_client: MongoClient | None = None
_client_uri: str = ""
_client_lock = threading.Lock()
_outage = _Outage()


def _connect(uri: str) -> MongoClient:
    global _client, _client_uri, _outage
    with _client_lock:
        if _client is None or _client_uri != uri:
            if not uri:
                raise LedgerUnavailable("MONGODB_URI is not set")
            if _client is not None:
                _client.close()
            timeout = settings.MONGODB_TIMEOUT_MS
            _client = MongoClient(
                uri,
                tz_aware=True,
                serverSelectionTimeoutMS=timeout,
                connectTimeoutMS=timeout,
                socketTimeoutMS=max(timeout * 5, 10_000),
                event_listeners=[_OutageOnFailedHeartbeat()],
            )
            _client_uri, _outage = uri, _Outage()
    return _client


def disconnect() -> None:
    """Close this process's client and forget any outage it saw: the next use connects afresh.

    For a server that is gone for good (a test's own, stopped): another one
    may later listen on the same address, and must not inherit the old one's
    outage or its pooled connections.
    """
    global _client, _client_uri, _outage
    with _client_lock:
        if _client is not None:
            _client.close()
        _client, _client_uri, _outage = None, "", _Outage()


def collection(name: str = COLLECTION) -> Collection:
    """A collection of the process-wide client, made on first use (after gunicorn forks).

    Raises ``LedgerUnavailable`` at once while this process knows MongoDB is down.
    """
    uri = settings.MONGODB_URI
    client = _client if _client is not None and _client_uri == uri else _connect(uri)
    _outage.check(client)
    return client[settings.MONGODB_DB][name]


# WriteConflict, LockTimeout, NoSuchTransaction, ExceededTimeLimit: a real
# server's codes for a write that another transaction's locks kept out.
HELD_BY_A_TRANSACTION = {112, 24, 251, 262}


def held_by_a_transaction(exc: OperationFailure) -> bool:
    """Refused because another session's transaction holds what this one needs.

    A real MongoDB labels such a conflict ``TransientTransactionError``; the
    embedded server refuses every other session outright while one
    transaction is open (only ``make compare``'s ``transaction`` strategy
    opens one), with no label. Either way: busy for now, not damaged.
    """
    return (
        exc.has_error_label("TransientTransactionError")
        or exc.code in HELD_BY_A_TRANSACTION
        or "active transaction bound to another session" in str(exc)
    )


def translate_errors(fn):
    """Turn any pymongo connection problem into LedgerUnavailable, and remember the outage.

    A refusal because another session's transaction holds the data is
    LedgerUnavailable too (a 503: try again), without an outage.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConnectionFailure as exc:
            if _unreachable(exc):
                _outage.begin()
            raise LedgerUnavailable(str(exc)) from exc
        except OperationFailure as exc:
            if held_by_a_transaction(exc):
                raise LedgerUnavailable(f"busy with another transaction: {exc}") from exc
            raise

    return wrapper


def ping() -> None:
    """Raise ``LedgerUnavailable`` unless MongoDB answers within ``PROBE_TIMEOUT_S``.

    For ``/healthz``, which must answer within its own short budget, also the
    first time it finds the server gone.
    """
    try:
        with pymongo.timeout(PROBE_TIMEOUT_S):
            collection().database.command("ping")
    except ConnectionFailure as exc:
        _outage.begin()
        raise LedgerUnavailable(str(exc)) from exc
    except PyMongoError as exc:  # the budget ran out on the server's side
        raise LedgerUnavailable(str(exc)) from exc
