"""The embedded MongoDB-compatible server used when MONGODB_URI is unset.

It is mongoeco's wire-protocol server over its SQLite engine, run as one
process per ``var/`` directory so that every gunicorn worker and every
``manage.py`` command shares the same data through ordinary pymongo. The
process holds an exclusive lock on ``var/mongo.lock`` while it serves and
records its address in ``var/mongo.json``; whoever needs MongoDB either finds
that record or starts a server of its own, which lives as long as its parent.
``make run`` keeps its server up under a supervisor
(``eventsite.mongo_supervisor``), which holds ``var/mongo.supervisor``: while
that lock is held, a command waits for the supervised server to come back
rather than start a second one on another port.

Run directly: ``python -m eventsite.embedded_mongo --var-dir var``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

LOCK_FILE = "mongo.lock"
ADDRESS_FILE = "mongo.json"
SUPERVISOR_FILE = "mongo.supervisor"
DATA_FILE = "ledger.sqlite3"
START_TIMEOUT_S = 30.0
# How long a command waits for a supervised server to come back. A restart
# takes a fraction of a second; a supervisor that gives up lets go of its
# lock, and the command then starts a server of its own.
SUPERVISED_WAIT_S = 15.0
STANDBY_POLL_S = 0.02

# The SQLite engine's options. mongoeco 4.11's SQLiteEngine takes a path, a
# codec, executor_workers, aggregation_materialization_limit,
# simulate_search_index_latency, change_outbox_max_entries and
# aggregation_spill_threshold; none of them touches durability, which the
# engine sets itself on every connection (WAL, synchronous=NORMAL, one commit
# per write before the reply: an acknowledged write survives a SIGKILL of this
# process, tests/ledger/test_embedded_durability.py; a power cut may lose the last
# ones, and there is no switch for synchronous=FULL short of patching it).
#
# executor_workers=1: the engine runs every command on its own thread pool,
# by default shared and of max(4, cores + 4) threads (6 here). It runs one
# command at a time anyway (with 6 threads too, a read waited for every write
# queued before it), so more threads only fight over the GIL. Measured with
# loadtests/probe_embedded.py (2 cores, the site's take_seat pipeline, 7
# interleaved rounds per setting, another workload running beside it, so the
# spread is wide; median (min-max)):
#
#   setting         100 clients x 2 RSVPs, RSVP/s   1 RSVP, 10 att.   1 RSVP, 1,000 att.
#   default (6)     37.2 (36.5-48.3)                8.5 ms            198 ms
#   workers=1       45.7 (42.3-49.1)  1.23x         7.8 ms            145 ms
#   workers=2       38.3 (29.4-43.4)                7.8 ms            173 ms
#
# A read by _id issued during a rush waits behind the queued writes (about
# 0.5-1.5 s in that rush) with any worker count: reads never ran beside a
# write here, so one worker costs them nothing. Also tried, not kept:
# change_outbox_max_entries=16 (the outbox of change events, which the site
# does not consume; no gain even after 12,000 writes), a raised gc threshold
# with gc.freeze() (no gain beyond the noise). The other options concern
# aggregation limits, search indexes and the codec (the document encoding,
# internal), not a write; the wire server's own (dialect, users,
# diagnostics, off by default) do not bear on speed.
ENGINE_OPTIONS: dict[str, object] = {"executor_workers": 1}


class EmbeddedMongoError(RuntimeError):
    pass


def lock_is_held(var_dir: Path, name: str = LOCK_FILE) -> bool:
    try:
        fd = os.open(var_dir / name, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _answers(uri_host: str, port: int) -> bool:
    try:
        with socket.create_connection((uri_host, port), timeout=1):
            return True
    except OSError:
        return False


def read_record(var_dir: Path) -> dict | None:
    """The address file: the last server's pid, host, port and uri (it may be gone)."""
    try:
        return json.loads((var_dir / ADDRESS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None


def running_uri(var_dir: Path) -> str | None:
    """The URI of the server serving ``var_dir``, if one is up and answering."""
    if not lock_is_held(var_dir) or (record := read_record(var_dir)) is None:
        return None
    return record["uri"] if _answers(record["host"], record["port"]) else None


def spawn(var_dir: Path, port: int = 0, standby: bool = False) -> subprocess.Popen:
    """Start a server process that stops when the returned handle's stdin closes.

    A ``standby`` waits for the serving one's lock instead of giving up on it
    (see ``serve``).
    """
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eventsite.embedded_mongo",
            "--var-dir",
            str(var_dir),
            "--port",
            str(port),
            "--exit-with-parent",
            *(["--standby"] if standby else []),
        ],
        stdin=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )


def wait_until_up(var_dir: Path, process: subprocess.Popen | None = None) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if uri := running_uri(var_dir):
            return uri
        if process is not None and process.poll() is not None and not lock_is_held(var_dir):
            raise EmbeddedMongoError(f"embedded MongoDB exited with code {process.returncode}")
        time.sleep(0.05)
    raise EmbeddedMongoError(f"embedded MongoDB did not start within {START_TIMEOUT_S:.0f}s")


def _wait_for_supervised(var_dir: Path) -> str | None:
    """The URI once a supervised server is back; None if no supervisor runs (any more)."""
    if not lock_is_held(var_dir, SUPERVISOR_FILE):
        return None
    print(f"embedded MongoDB for {var_dir} is restarting; waiting for it", file=sys.stderr)
    deadline = time.monotonic() + SUPERVISED_WAIT_S
    while time.monotonic() < deadline:
        if uri := running_uri(var_dir):
            return uri
        if not lock_is_held(var_dir, SUPERVISOR_FILE):
            return None
        time.sleep(0.05)
    raise EmbeddedMongoError(
        f"the supervised embedded MongoDB for {var_dir} did not come back "
        f"within {SUPERVISED_WAIT_S:.0f}s"
    )


def ensure(var_dir: Path) -> tuple[str, subprocess.Popen | None]:
    """Reuse the server running for ``var_dir`` or start one owned by this process.

    While the site's supervisor restarts its server, wait for it: a server of
    our own would take the data file on another port, and the site, whose
    address does not change, would stay down.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    if uri := running_uri(var_dir) or _wait_for_supervised(var_dir):
        return uri, None
    process = spawn(var_dir)
    return wait_until_up(var_dir, process), process


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a child politely, then firmly (used for gunicorn by the load tools too)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _serve(
    var_dir: Path, port: int, exit_with_parent: bool, engine_options: dict[str, object]
) -> None:
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire import AsyncMongoEcoProxyServer

    engine = SQLiteEngine(str(var_dir / DATA_FILE), **engine_options)
    server = AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=port)
    address = await server.start()
    record = {"pid": os.getpid(), "host": address.host, "port": address.port, "uri": address.uri}
    tmp = var_dir / f"{ADDRESS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(record))
    tmp.replace(var_dir / ADDRESS_FILE)
    print(f"embedded MongoDB serving {address.uri} (data: {var_dir / DATA_FILE})", file=sys.stderr)

    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    if exit_with_parent:

        def watch_parent() -> None:
            while os.read(0, 4096):  # b"" at EOF: the parent is gone
                pass
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=watch_parent, daemon=True).start()
    try:
        await done.wait()
    finally:
        (var_dir / ADDRESS_FILE).unlink(missing_ok=True)
        await server.close()


def _wait_for_lock(lock_fd: int, exit_with_parent: bool) -> bool:
    """A standby's wait for the serving process's lock; False if the parent left first.

    It polls (a blocking flock could not also notice the parent leaving), and
    takes over within STANDBY_POLL_S of the lock coming free.
    """
    while True:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        if not exit_with_parent:
            time.sleep(STANDBY_POLL_S)
            continue
        readable, _, _ = select.select([0], [], [], STANDBY_POLL_S)
        if readable and not os.read(0, 4096):
            return False


def serve(
    var_dir: Path,
    port: int = 0,
    exit_with_parent: bool = False,
    engine_options: dict[str, object] | None = None,
    standby: bool = False,
) -> int:
    """Serve ``var_dir`` in this process until SIGTERM/SIGINT (or the parent leaves).

    If another process serves ``var_dir`` already, return at once; a
    ``standby`` instead imports the server's code and waits to take over the
    moment that process is gone (``eventsite.mongo_supervisor``).
    ``engine_options`` replaces ENGINE_OPTIONS; only loadtests/probe_embedded.py
    passes it, to compare settings.
    """
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(var_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    if standby:
        # Imported before the wait: importing mongoeco takes about a second,
        # taking over should only open the data file and bind the port.
        from mongoeco.engines.sqlite import SQLiteEngine  # noqa: F401
        from mongoeco.wire import AsyncMongoEcoProxyServer  # noqa: F401

        if not _wait_for_lock(lock_fd, exit_with_parent):
            return 0
    else:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"embedded MongoDB already running for {var_dir}", file=sys.stderr)
            return 0
    # Ctrl-C in a terminal reaches the whole process group; the handlers set
    # in _serve turn it into an orderly stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    options = ENGINE_OPTIONS if engine_options is None else engine_options
    asyncio.run(_serve(var_dir, port, exit_with_parent, options))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=Path("var"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    parser.add_argument("--standby", action="store_true", help="wait to take over var/")
    args = parser.parse_args(argv)
    return serve(args.var_dir, args.port, args.exit_with_parent, standby=args.standby)


if __name__ == "__main__":
    sys.exit(main())
