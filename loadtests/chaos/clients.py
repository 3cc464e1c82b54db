"""The chaos run's clients: processes of threads, each thread one person with a token.

One Python process is bound by its GIL, so the clients are spread over
several processes, started with ``spawn`` (a fork would copy the parent's
Django and pymongo threads mid-flight). Every request becomes an
``endcheck.Click`` stamped with ``time.monotonic()``, which on Linux is one
clock for every process, so the parent can line answers up with its faults.

- A **crowd** person RSVPs or joins the waiting list once, at a planned
  moment, and asks again after a 503, a refused or reset connection or no
  answer, until the site answers for good; some of those seated cancel a
  little later, retrying the same way. Retries back off as a polite client's
  do: a random pause between half and all of 0.25 s, 0.5 s, 1 s, ... up to
  the answer's ``Retry-After`` (5 s). Retrying at once would time the
  site's recovery from a storm of our own making.
- An **outage** client keeps asking (the event anonymously or with its
  token, or an RSVP) about once a second until told to stop.

Nothing here imports Django.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess

import requests

from loadtests.endcheck import Click, api_outcome

NO_ANSWER = 0  # Click.status of a request that got no HTTP answer
RETRY = {"unavailable", "no_answer", "timeout"}  # outcomes a client asks again after
IDLE_S = 1.0  # a connection idle this long is not reused: gunicorn drops them at 2 s
FIRST_RETRY_S = 0.25  # then twice as long each time, up to Retry-After
RETRY_AFTER_S = 5.0  # when the answer says nothing (no answer at all)
GIVE_UP_S = 120.0  # a crowd person with no definitive answer by then is a failure
STOP_S = 10.0  # how long the processes get to hand their answers back

# action: method, path under /api/events/<id>/, outcome of a 200 or 201
ROUTES = {
    "rsvp": ("POST", "rsvp", "confirmed"),
    "join": ("POST", "waitlist", "confirmed"),
    "cancel": ("DELETE", "rsvp", "cancelled"),
    "standing": ("GET", "", "read"),  # with the token: the ledger, exactly
    "read": ("GET", "", "read"),  # anonymous: seat counts, from the seat cache when fresh
}


@dataclass(frozen=True)
class Person:
    username: str
    token: str
    action: str  # rsvp | join: the crowd's click
    start_s: float  # after the crowd's start
    cancel_after_s: float | None = None  # if seated: give the seat back this long after


@dataclass(frozen=True)
class Asker:
    username: str
    token: str
    action: str  # read | standing | rsvp: what it keeps asking during the outage
    pause_s: float = 1.0  # about this long between an answer and the next request


@dataclass
class Gate:
    """What the parent and its client processes share: made by ``Clients``."""

    ready: object  # multiprocessing.Value: processes whose threads are waiting at the gate
    answered: object  # multiprocessing.Value: clients that have had a first answer
    go: object  # multiprocessing.Event: start (the crowd's plan counts from ``t0``)
    t0: object  # multiprocessing.Value("d"): the crowd's start, time.monotonic()
    stop: object  # multiprocessing.Event: outage clients finish their request and return


class Http:
    """One person's connection to the site; every request is recorded."""

    def __init__(self, site_url: str, event_id: int, user: str, token: str, timeout: float):
        self.url = f"{site_url}/api/events/{event_id}/"
        self.user, self.token, self.timeout = user, token, timeout
        self.session = requests.Session()
        self.last = 0.0
        self.retry_after = RETRY_AFTER_S  # what the last answer asked for
        self.clicks: list[Click] = []

    def ask(self, action: str) -> Click:
        method, path, done = ROUTES[action]
        headers = {} if action == "read" else {"Authorization": f"Bearer {self.token}"}
        if time.monotonic() - self.last > IDLE_S:
            self.session.close()  # a fresh connection rather than one gunicorn may be closing
        sent = time.monotonic()
        try:
            response = self.session.request(
                method, self.url + path, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            outcome, status, body = "timeout", NO_ANSWER, {}
        except requests.RequestException:
            outcome, status, body = "no_answer", NO_ANSWER, {}
        else:
            status, body = response.status_code, _json(response)
            outcome = _outcome(action, status, body, done)
            self.retry_after = _seconds(response.headers.get("Retry-After"))
        self.last = time.monotonic()
        click = Click(self.user, 1, action, outcome, sent, status, self.last, body.get("position"))
        self.clicks.append(click)
        return click

    def settle(self, action: str) -> Click:
        """Ask until the answer is definitive (or GIVE_UP_S has passed: then the last one)."""
        deadline = time.monotonic() + GIVE_UP_S
        tries = 0
        while (click := self.ask(action)).outcome in RETRY and time.monotonic() < deadline:
            ceiling = min(FIRST_RETRY_S * 2**tries, self.retry_after)
            time.sleep(random.uniform(ceiling / 2, ceiling))
            tries += 1
        return click


def _outcome(action: str, status: int, body: dict, done: str) -> str:
    if status == 503:
        return "unavailable"
    if action in ("read", "standing"):
        return "read" if status == 200 else "error"
    return api_outcome(status, body, done)


def _seconds(retry_after: str | None) -> float:
    """Retry-After in seconds (the site sends seconds, never a date)."""
    try:
        return float(retry_after) if retry_after else RETRY_AFTER_S
    except ValueError:
        return RETRY_AFTER_S


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _increment(counter) -> None:
    with counter.get_lock():
        counter.value += 1


def crowd_person(person: Person, http: Http, gate: Gate) -> None:
    """One crowd person: wait for their moment, click, maybe cancel later."""
    gate.go.wait()
    time.sleep(max(gate.t0.value + person.start_s - time.monotonic(), 0))
    said = http.settle(person.action)
    if person.cancel_after_s is not None and said.outcome in ("confirmed", "already_going"):
        time.sleep(person.cancel_after_s)
        http.settle("cancel")


def outage_client(asker: Asker, http: Http, gate: Gate) -> None:
    """One outage client: ask, pause, ask again, until the parent says stop."""
    gate.go.wait()
    http.ask(asker.action)
    _increment(gate.answered)
    while not gate.stop.wait(random.uniform(0.5, 1.5) * asker.pause_s):
        http.ask(asker.action)


def _process(act, site_url: str, event_id: int, people: list, gate: Gate, timeout: float, out):
    """A client process: ``act`` on a thread per person; their clicks handed back on ``out``."""
    # Ctrl-C reaches the whole process group; the parent stops this process
    # itself, after it has stopped faulting the site.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    https = [Http(site_url, event_id, p.username, p.token, timeout) for p in people]
    threads = [
        threading.Thread(target=act, args=(person, http, gate), daemon=True)
        for person, http in zip(people, https, strict=True)
    ]
    for thread in threads:
        thread.start()
    _increment(gate.ready)
    for thread in threads:
        thread.join()
    out.put([click for http in https for click in http.clicks])


class Clients:
    """Client processes for one phase; ``stop()`` ends them whatever state they are in."""

    def __init__(self, processes: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.count = processes
        self.out = self.context.Queue()
        self.processes: list[SpawnProcess] = []
        c = self.context
        self.gate = Gate(c.Value("i", 0), c.Value("i", 0), c.Event(), c.Value("d", 0.0), c.Event())

    def start(self, act, site_url: str, event_id: int, people: list, timeout: float) -> None:
        """Start the processes, each with its share of ``people``, waiting at the gate.

        ``act`` (``crowd_person`` or ``outage_client``) runs on a thread per
        person; each request gives up after ``timeout`` seconds.
        """
        shares = [people[n :: self.count] for n in range(self.count)]
        for share in filter(None, shares):
            process = self.context.Process(
                target=_process,
                args=(act, site_url, event_id, share, self.gate, timeout, self.out),
                daemon=True,
            )
            process.start()
            self.processes.append(process)

    def ready(self) -> bool:
        """Whether every process has its threads waiting at the gate."""
        return self.gate.ready.value >= len(self.processes)

    def answered(self) -> int:
        """How many outage clients have had their first answer."""
        return self.gate.answered.value

    def go(self) -> float:
        """Open the gate; returns the start the crowd's plan counts from."""
        self.gate.t0.value = time.monotonic()
        self.gate.go.set()
        return self.gate.t0.value

    def collect(self, deadline_s: float) -> list[Click]:
        """Every process's clicks (they end by themselves, or after ``gate.stop``)."""
        clicks: list[Click] = []
        deadline = time.monotonic() + deadline_s
        for _ in self.processes:
            try:
                clicks += self.out.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                raise TimeoutError(f"clients still busy after {deadline_s:.0f}s") from None
        for process in self.processes:
            process.join(STOP_S)
        return clicks

    def stop(self) -> None:
        """Terminate what still runs (an interrupt, a failure): nothing outlives the run."""
        self.gate.stop.set()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(STOP_S)
            if process.is_alive():
                process.kill()
                process.join()


@contextmanager
def running(processes: int) -> Iterator[Clients]:
    """Client processes for one phase, stopped on the way out whatever happens."""
    clients = Clients(processes)
    try:
        yield clients
    finally:
        clients.stop()
