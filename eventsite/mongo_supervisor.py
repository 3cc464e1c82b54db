"""Keeps the embedded MongoDB of one var/ directory up, on one address, for `make run`.

``manage.py serve`` starts this supervisor, a process of its own, instead of a
bare server. It holds an exclusive lock on ``var/mongo.supervisor`` (its pid
inside, for people) and runs two server processes (``embedded_mongo``): the
one serving, and a standby that has already imported mongoeco and waits for
the serving one's lock on ``var/mongo.lock``. When the server dies, the
kernel frees its lock and the standby takes over at once, on the same
host:port and data file; the supervisor reaps the dead one and starts the
next standby. gunicorn's workers keep their MONGODB_URI: pymongo's monitor
finds the server again by itself.

- Why a standby: a new interpreter spends about a second importing mongoeco,
  and a restart should not. Why not fork a warm process instead: mongoeco
  names its change-stream consumer with a uuid made at import, so a forked
  server shares it with the dead one and waits out the dead one's 30 s lease
  on it before its first write.
- Why a lock of its own: while no server holds ``var/mongo.lock``, a
  ``manage.py`` command would start a second server on another port;
  ``embedded_mongo.ensure`` sees this lock and waits for the supervised one.
- A server a command started before ``make run`` is used as it is; the
  standby takes its address over when it stops with its command.
- A crash loop (CRASH_LOOP_RUNS processes in a row each exiting within
  SHORT_RUN_S of starting or taking over) makes it give up rather than spin:
  it says so and exits 1, and ``serve`` then stops the site.
- It stops both and exits on SIGTERM, SIGINT or SIGHUP, and, with
  ``--exit-with-parent``, when its stdin closes (``serve`` is gone). They
  watch their stdin from it the same way, so none outlives it.

Run directly: ``python -m eventsite.mongo_supervisor --var-dir var``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from eventsite import embedded_mongo
from eventsite.embedded_mongo import SUPERVISOR_FILE

SHORT_RUN_S = 5.0
CRASH_LOOP_RUNS = 5
POLL_S = 0.05  # how often it looks at its children
ALREADY_SUPERVISED = 3  # exit code: another supervisor holds the lock
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(Exception):
    """A signal, or the parent leaving, asks the supervisor to stop."""


class _CrashLoop(Exception):
    pass


def _stop_on_signal(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _log(message: str) -> None:
    print(f"embedded MongoDB supervisor: {message}", file=sys.stderr, flush=True)


def _describe(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def spawn(var_dir: Path) -> subprocess.Popen:
    """Start a supervisor that stops, with its servers, when the handle's stdin closes.

    It gets a process group of its own, so that Ctrl-C in a terminal reaches
    ``serve`` and gunicorn but not the database: ``serve`` stops gunicorn
    first, then the supervisor, and no request loses MongoDB on the way out.
    """
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "eventsite.mongo_supervisor"),
            *("--var-dir", str(var_dir), "--exit-with-parent"),
        ],
        stdin=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
        process_group=0,
    )


def supervisor_pid(var_dir: Path) -> int | None:
    """The pid of the supervisor of ``var_dir``, if one runs."""
    if not embedded_mongo.lock_is_held(var_dir, SUPERVISOR_FILE):
        return None
    try:
        return int((var_dir / SUPERVISOR_FILE).read_text())
    except (FileNotFoundError, ValueError):  # between its lock and its pid
        return None


class Supervisor:
    """The serving process and its standby for ``var_dir``, replaced as they exit."""

    def __init__(self, var_dir: Path, port: int, exit_with_parent: bool) -> None:
        self.var_dir = var_dir
        self.port = port  # 0 until a server has bound one; then the address for good
        self.exit_with_parent = exit_with_parent
        self.server: subprocess.Popen | None = None  # None: a command's server, or none yet
        self.standby: subprocess.Popen | None = None
        self.started: dict[int, float] = {}  # pid: when it was started or took over
        self.crashes = 0  # processes in a row that exited soon after starting
        self.server_lost_at: float | None = None

    def run(self) -> None:
        """Until a stop (raises _Stop) or a crash loop (raises _CrashLoop)."""
        while True:
            self._step()
            self._pause(POLL_S)

    def stop(self) -> None:
        """The standby first, so that it does not take over from the server."""
        for process in (self.standby, self.server):
            if process is not None:
                embedded_mongo.stop(process)

    def _step(self) -> None:
        """Reap what exited, promote a standby that took over, start a new standby."""
        if self.server is not None and self.server.poll() is not None:
            self._exited(self.server, "the server")
            self.server, self.server_lost_at = None, time.monotonic()
        if self.standby is not None and self.standby.poll() is not None:
            self._exited(self.standby, "the standby")
            self.standby = None
        held = embedded_mongo.lock_is_held(self.var_dir)
        record = embedded_mongo.read_record(self.var_dir) if held else None
        if record is not None:
            self.port = self.port or record["port"]
            if self.standby is not None and record["pid"] == self.standby.pid:
                self._promote()
        # A standby on port 0 would come up on a port nobody knows, so one is
        # started only once the address is known, or as the very first server.
        if self.standby is None and (self.port or not held):
            self.standby = embedded_mongo.spawn(self.var_dir, self.port, standby=True)
            self.started[self.standby.pid] = time.monotonic()

    def _promote(self) -> None:
        self.server, self.standby = self.standby, None
        self.started[self.server.pid] = time.monotonic()
        if self.server_lost_at is not None:
            elapsed = time.monotonic() - self.server_lost_at
            _log(
                f"pid {self.server.pid} took over 127.0.0.1:{self.port}, "
                f"{elapsed:.2f}s after the exit was seen"
            )

    def _exited(self, process: subprocess.Popen, role: str) -> None:
        """Log an exit (the process is reaped: no zombie); count it if it came soon."""
        lived = time.monotonic() - self.started.pop(process.pid)
        self.crashes = self.crashes + 1 if lived < SHORT_RUN_S else 0
        _log(f"{role} (pid {process.pid}) exited: {_describe(process.returncode)}")
        if self.crashes >= CRASH_LOOP_RUNS:
            raise _CrashLoop(
                f"{self.crashes} processes in a row exited within {SHORT_RUN_S:.0f}s of "
                f"starting (the last: {_describe(process.returncode)}; its error is above)"
            )

    def _pause(self, seconds: float) -> None:
        """Sleep, but stop at once if the parent is gone (stdin at EOF)."""
        if not self.exit_with_parent:
            time.sleep(seconds)
            return
        readable, _, _ = select.select([0], [], [], seconds)
        if readable and not os.read(0, 4096):
            raise _Stop("parent gone")


def _take_lock(var_dir: Path) -> int | None:
    fd = os.open(var_dir / SUPERVISOR_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def supervise(var_dir: Path, port: int = 0, exit_with_parent: bool = False) -> int:
    """Keep a server for ``var_dir`` up until told to stop (0); 1 after a crash loop."""
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    if _take_lock(var_dir) is None:
        _log(f"{var_dir} already has a supervisor (pid {supervisor_pid(var_dir)})")
        return ALREADY_SUPERVISED
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop_on_signal)
    supervisor = Supervisor(var_dir, port, exit_with_parent)
    try:
        supervisor.run()
    except _Stop:
        return 0
    except _CrashLoop as crash_loop:
        _log(f"{crash_loop}: giving up. MongoDB stays down until `make run` starts again.")
        return 1
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        supervisor.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=Path("var"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args(argv)
    return supervise(args.var_dir, args.port, args.exit_with_parent)


if __name__ == "__main__":
    sys.exit(main())
