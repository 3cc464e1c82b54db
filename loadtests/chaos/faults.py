"""The chaos run's faults, and the time the site takes to come back from each.

Each fault is timed to three moments: its replacement in place; the site
serving again (``Probe.serving``: an API read answered from the ledger, which
each gunicorn worker finds again with its next probe, every 0.5 s); and
``/healthz`` 200. The last is watched in the background (``HealthWatch``):
``/healthz`` wants a ping answered within 0.5 s, which a ledger swamped by
the crowd may not give for a while even though it serves, and the next fault
need not wait for it.

- **The MongoDB server** is SIGKILLed (its pid is in ``mongo.json``). The
  supervisor's standby takes the lock and the same port.
- **A gunicorn worker** is SIGKILLed (a child of the master); the master forks
  another.
- **MongoDB held down**: the standby is stopped (SIGSTOP) before the server is
  killed, so nothing takes over. The supervisor reaps the dead server and,
  still having a standby, starts no other: it only waits. SIGCONT at the end
  lets the standby take the lock and the port as after any crash, and the
  supervisor promotes it and starts the next standby, so the hold leaves
  nothing behind that an ordinary crash would not. (Stopping the supervisor
  instead would not do: the standby does not wait for it.)

Every wait polls its condition against a deadline.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from eventsite import embedded_mongo
from loadtests import stack

BACK_S = 30.0  # longest wait for a replacement, for serving again, for /healthz 200
POLL_S = 0.02
STANDBY_WARM_S = 3.0  # a standby this old has imported mongoeco: its takeover is the usual one


class ChaosError(RuntimeError):
    """The run could not do what it set out to (not a broken promise of the site)."""


@dataclass
class Fault:
    what: str
    pid: int
    at: float  # time.monotonic() when the SIGKILL was sent
    # Seconds from the kill (for a hold: from its end) to a replacement in
    # place (a server on the address, a worker forked), to an answer from
    # the ledger, and to /healthz 200. None: not within BACK_S (or, for
    # /healthz, not before the next fault: ``health_cut`` says so).
    replaced_s: float | None = None
    serving_s: float | None = None
    healthy_s: float | None = None
    health_cut: str = ""
    held_s: float = 0.0  # a hold only: from the kill to SIGCONT
    came_back_early: bool = False  # a hold only: a server answered before its end


@dataclass(frozen=True)
class Probe:
    """How the run asks whether the site is back: as a user would, and as a load balancer."""

    url: str
    event_id: int
    token: str

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def serving(self) -> bool:
        """An API read with a token, which only the ledger answers (no seat cache)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            answer = requests.get(
                f"{self.url}/api/events/{self.event_id}/", headers=headers, timeout=10
            )
        except requests.RequestException:
            return False
        return answer.status_code == 200


def _seconds_until(start: float, condition: Callable[[], object]) -> float | None:
    return time.monotonic() - start if stack.wait_for(condition, BACK_S) else None


class HealthWatch:
    """Polls /healthz in the background until 200 (``fault.healthy_s``), BACK_S, or ``stop``.

    Started once the replacement is in place (no 200 can mean "back" before
    that), it times from ``since``: the kill, or the end of a hold.
    """

    def __init__(self, probe: Probe, fault: Fault, since: float) -> None:
        self.fault, self.since = fault, since
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, args=(probe,), daemon=True)
        self.thread.start()

    def _watch(self, probe: Probe) -> None:
        while not self.stopped.is_set() and time.monotonic() < self.since + BACK_S:
            if probe.healthy():
                self.fault.healthy_s = time.monotonic() - self.since
                return
            self.stopped.wait(POLL_S)

    def stop(self, wait_s: float = 0.0) -> None:
        """Give it up to ``wait_s`` more to see a 200, then stop it."""
        self.thread.join(wait_s)
        self.stopped.set()
        self.thread.join()
        if self.fault.healthy_s is None and time.monotonic() < self.since + BACK_S:
            self.fault.health_cut = "not before the next fault"


def _sigkill(pid: int) -> float:
    os.kill(pid, signal.SIGKILL)  # no flush, no close: a crash
    return time.monotonic()


def serving_pid(site: stack.Stack) -> int:
    """The pid of the server answering on the stack's MongoDB address now."""
    serving = stack.wait_for(lambda: embedded_mongo.running_uri(site.mongo_dir), BACK_S)
    record = embedded_mongo.read_record(site.mongo_dir)
    if not serving or record is None:
        raise ChaosError(f"no MongoDB server answers for {site.mongo_dir}")
    return record["pid"]


def _serving_again(site: stack.Stack, dead: int) -> bool:
    record = embedded_mongo.read_record(site.mongo_dir)
    return bool(record and record["pid"] != dead and embedded_mongo.running_uri(site.mongo_dir))


def kill_server(site: stack.Stack, probe: Probe) -> tuple[Fault, HealthWatch]:
    """SIGKILL the MongoDB server; returns once the site serves again, /healthz watched."""
    pid = serving_pid(site)
    fault = Fault("SIGKILL MongoDB server", pid, _sigkill(pid))
    fault.replaced_s = _seconds_until(fault.at, lambda: _serving_again(site, pid))
    watch = HealthWatch(probe, fault, since=fault.at)
    fault.serving_s = _seconds_until(fault.at, probe.serving)
    return fault, watch


def kill_worker(site: stack.Stack, probe: Probe) -> tuple[Fault, HealthWatch]:
    """SIGKILL a gunicorn worker; returns once the master has forked another, /healthz watched."""
    master = site.gunicorn.pid
    workers = stack.children(master)
    if not workers:
        raise ChaosError("gunicorn has no worker to kill")
    victim = workers[0]
    fault = Fault("SIGKILL gunicorn worker", victim, _sigkill(victim))

    def replaced() -> bool:
        now = stack.children(master)
        return victim not in now and len(now) >= len(workers)

    fault.replaced_s = _seconds_until(fault.at, replaced)
    watch = HealthWatch(probe, fault, since=fault.at)
    fault.serving_s = _seconds_until(fault.at, probe.serving)
    return fault, watch


def _age_s(pid: int) -> float:
    """How long the process has lived; 0 when it is gone or a zombie."""
    try:
        after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        uptime_s = float(Path("/proc/uptime").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return 0.0
    state, started_ticks = after_name[0], int(after_name[19])  # fields 3 and 22 of stat
    return 0.0 if state == "Z" else uptime_s - started_ticks / os.sysconf("SC_CLK_TCK")


def _warm_standby(site: stack.Stack, server: int) -> int:
    """The supervisor's standby, once it is ready to take over as fast as usual."""
    if site.mongo is None or not site.supervised:
        raise ChaosError("MongoDB is not supervised: there is no standby to hold back")

    def standby() -> int | None:
        others = [pid for pid in stack.children(site.mongo.pid) if pid != server]
        return next((pid for pid in others if _age_s(pid) >= STANDBY_WARM_S), None)

    pid = stack.wait_for(standby, STANDBY_WARM_S + BACK_S)
    if pid is None:
        raise ChaosError("the MongoDB supervisor has no standby")
    return pid


@contextmanager
def mongo_held_down(site: stack.Stack, probe: Probe) -> Iterator[Fault]:
    """MongoDB down for as long as the block runs; then its way back is timed.

    The standby is continued whatever happens (an interrupt, an error): a
    standby left stopped would hold the supervisor's own stop up for ten
    seconds, and a site left without MongoDB.
    """
    server = serving_pid(site)
    standby = _warm_standby(site, server)
    fault = Fault("MongoDB held down (standby SIGSTOPped, server SIGKILLed)", server, 0.0)
    try:
        os.kill(standby, signal.SIGSTOP)
        fault.at = _sigkill(server)
        if (
            stack.wait_for(lambda: embedded_mongo.running_uri(site.mongo_dir) is None, BACK_S)
            is None
        ):
            raise ChaosError(f"MongoDB still answers after SIGKILL of pid {server}")
        yield fault
        fault.came_back_early = embedded_mongo.running_uri(site.mongo_dir) is not None
    finally:
        resumed = time.monotonic()
        os.kill(standby, signal.SIGCONT)
    fault.held_s = resumed - fault.at
    fault.replaced_s = _seconds_until(resumed, lambda: _serving_again(site, server))
    watch = HealthWatch(probe, fault, since=resumed)
    fault.serving_s = _seconds_until(resumed, probe.serving)
    watch.stop(wait_s=BACK_S)
