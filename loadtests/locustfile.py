"""Simultaneous RSVP clicks, then a check that nothing was overbooked.

Every simulated user gets ready first (an API user holds its Bearer token; a
browser user logs in through the real login form and opens the event page),
then waits at a rendezvous. When every user of the run is ready, all of them
click RSVP within a few milliseconds. At the end the ledger is read back
through the API and compared with what each user was told.

Input: the JSON written by ``manage.py make_loadtest_fixture`` at
``$LOADTEST_FIXTURE`` (default ``var/loadtest/fixture.json``). Options (env):
``LOADTEST_WAVES`` (default 1: fire once; more: confirmed users cancel and
everyone fires again), ``LOADTEST_SUMMARY`` (where to write the JSON summary),
``LOADTEST_READY_TIMEOUT`` (seconds to wait for stragglers, default 300).

    locust -f loadtests/locustfile.py --headless -u 500 -r 500 --host http://127.0.0.1:8000
    locust -f loadtests/locustfile.py --processes 2 ...   # one master, two workers

409 "Event is full" and "already going" are expected answers, not failures.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import gevent
import requests
from gevent.event import Event as GeventEvent
from locust import HttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

FIXTURE = Path(os.environ.get("LOADTEST_FIXTURE", "var/loadtest/fixture.json"))
WAVES = int(os.environ.get("LOADTEST_WAVES", "1"))
SUMMARY = os.environ.get("LOADTEST_SUMMARY", "")
READY_TIMEOUT_S = float(os.environ.get("LOADTEST_READY_TIMEOUT", "300"))
OUTCOME = re.compile(r'data-outcome="outcome-([a-z_]+)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Click:
    username: str
    wave: int
    outcome: str  # confirmed | full | already_going | error
    at: float  # wall-clock time the request was sent
    status: int
    done: float = 0.0  # wall-clock time the answer arrived


class Rendezvous:
    """A reusable barrier across every user of the run, in one or many processes.

    The process that owns the run (the local runner, or the master) counts the
    users ready for each wave and opens the gate once spawning is complete and
    every user has arrived; workers report each arrival to the master and wait
    for its "go".
    """

    def __init__(self) -> None:
        self.environment: Environment | None = None
        self.ready: dict[int, int] = {}
        self.gates: dict[int, GeventEvent] = {}
        self.spawned = False

    def gate(self, wave: int) -> GeventEvent:
        return self.gates.setdefault(wave, GeventEvent())

    def arrive(self, wave: int) -> None:
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message("rsvp_ready", {"wave": wave})
        else:
            self.count(wave)
        if not self.gate(wave).wait(READY_TIMEOUT_S):
            logging.warning(
                "wave %s: not every user got ready in %ss; firing anyway", wave, READY_TIMEOUT_S
            )

    def count(self, wave: int) -> None:
        self.ready[wave] = self.ready.get(wave, 0) + 1
        self.check(wave)

    def check(self, wave: int) -> None:
        runner = self.environment.runner
        if not self.spawned or self.ready.get(wave, 0) < runner.target_user_count:
            return
        if isinstance(runner, MasterRunner):
            runner.send_message("rsvp_go", {"wave": wave})
        self.gate(wave).set()

    def on_spawned(self) -> None:
        self.spawned = True
        for wave in list(self.ready):
            self.check(wave)

    def on_ready_message(self, environment: Environment, msg, **_kwargs) -> None:
        self.count(msg.data["wave"])

    def on_go_message(self, environment: Environment, msg, **_kwargs) -> None:
        self.gate(msg.data["wave"]).set()


RENDEZVOUS = Rendezvous()
CLICKS: list[Click] = []
_next_user = 0


def fixture() -> dict:
    return json.loads(FIXTURE.read_text())


def claim_credentials(environment: Environment) -> dict:
    """Hand each simulated user a distinct fixture account, across workers too."""
    global _next_user
    runner = environment.runner
    workers = max(getattr(environment.parsed_options, "processes", 0) or 0, 1)
    if isinstance(runner, WorkerRunner):
        workers = int(os.environ.get("LOADTEST_WORKERS", workers))
        index = _next_user * workers + runner.worker_index
    else:
        index = _next_user
    _next_user += 1
    users = environment.fixture["users"]
    if index >= len(users):
        raise StopUser(f"the fixture has {len(users)} users; run with at most that many")
    return users[index]


class RsvpUser(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.account = claim_credentials(self.environment)
        self.event_id = self.environment.fixture["event_id"]
        self.prepare()

    @task
    def click_together(self) -> None:
        for wave in range(1, WAVES + 1):
            RENDEZVOUS.arrive(wave)
            sent = time.time()
            outcome, status = self.rsvp()
            click = Click(self.account["username"], wave, outcome, sent, status, time.time())
            record(self.environment, click)
            if wave < WAVES and outcome == "confirmed":
                self.cancel()
        raise StopUser()

    def prepare(self) -> None: ...

    def rsvp(self) -> tuple[str, int]: ...

    def cancel(self) -> None: ...


class ApiUser(RsvpUser):
    """A script holding a Bearer token, as in the reference note."""

    weight = 4

    def prepare(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {self.account['token']}"

    def rsvp(self) -> tuple[str, int]:
        url = f"/api/events/{self.event_id}/rsvp"
        with self.client.post(url, name="API RSVP", catch_response=True) as response:
            message = _message(response)
            if response.status_code == 201:
                return "confirmed", 201
            if response.status_code == 409:
                response.success()  # an expected answer, not a failure
                return ("full" if "full" in message.lower() else "already_going"), 409
            response.failure(f"{response.status_code}: {message}")
            return "error", response.status_code

    def cancel(self) -> None:
        self.client.delete(f"/api/events/{self.event_id}/rsvp", name="API cancel")


class BrowserUser(RsvpUser):
    """A person in a browser: login form, event page, RSVP form.

    Fewer of these by default: each login hashes a password on purpose slowly.
    """

    weight = 1

    def prepare(self) -> None:
        login = self.client.get("/accounts/login/", name="login page")
        self.client.post(
            "/accounts/login/",
            name="login",
            data={
                "login": self.account["username"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": _csrf(login.text),
            },
            headers={"Referer": login.url},
        )
        page = self.client.get(f"/events/{self.event_id}/", name="event page")
        self.page_url = page.url
        self.token = _csrf(page.text)

    def _seat_form(self, action: str, name: str):
        return self.client.post(
            f"/events/{self.event_id}/{action}/",
            name=name,
            data={"csrfmiddlewaretoken": self.token},
            headers={"Referer": self.page_url},
            catch_response=True,
        )

    def rsvp(self) -> tuple[str, int]:
        with self._seat_form("rsvp", "page RSVP") as response:
            found = OUTCOME.findall(response.text) if response.status_code == 200 else []
            if len(found) == 1:
                return found[0], response.status_code
            response.failure(f"{response.status_code}: no RSVP outcome on the page")
            return "error", response.status_code

    def cancel(self) -> None:
        with self._seat_form("cancel", "page cancel"):
            pass


def _message(response) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return ""


def _csrf(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


@events.init.add_listener
def on_init(environment: Environment, **_kwargs) -> None:
    RENDEZVOUS.environment = environment
    environment.fixture = fixture()
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message("rsvp_ready", RENDEZVOUS.on_ready_message)
        runner.register_message("rsvp_click", _on_click_message)
    elif isinstance(runner, WorkerRunner):
        runner.register_message("rsvp_go", RENDEZVOUS.on_go_message)


@events.spawning_complete.add_listener
def on_spawning_complete(user_count: int, **_kwargs) -> None:
    """Fires in the local runner or the master once every user exists."""
    RENDEZVOUS.on_spawned()


def record(environment: Environment, click: Click) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.send_message("rsvp_click", asdict(click))
    else:
        _collect(environment, click)


def _on_click_message(environment: Environment, msg, **_kwargs) -> None:
    _collect(environment, Click(**msg.data))


def _collect(environment: Environment, click: Click) -> None:
    """Keep every answer; end the run once each user has had its last one."""
    CLICKS.append(click)
    runner = environment.runner
    done = sum(c.wave == WAVES for c in CLICKS)
    if click.wave == WAVES and done == runner.target_user_count:
        headless = getattr(environment.parsed_options, "headless", False)
        gevent.spawn(runner.quit if headless else runner.stop)


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner) or not CLICKS:
        return
    summary = verify(environment)
    print(json.dumps(summary, indent=2))
    if SUMMARY:
        Path(SUMMARY).write_text(json.dumps(summary, indent=2))
    if summary["violations"]:
        environment.process_exit_code = 1


def verify(environment: Environment) -> dict:
    """Read the ledger back through the API and hold it against every answer."""
    data = environment.fixture
    host = environment.host or data["api_url"].removesuffix("/api")
    api = f"{host}/api"
    tokens = {u["username"]: u["token"] for u in data["users"]}
    last = [c for c in CLICKS if c.wave == WAVES]
    event = requests.get(
        f"{api}/events/{data['event_id']}/",
        headers={"Authorization": f"Bearer {data['users'][0]['token']}"},
        timeout=30,
    ).json()
    capacity = event["capacity"]
    taken = capacity - event["seats_left"]
    going = set()
    for click in {c.username for c in last}:
        answer = requests.get(
            f"{api}/events/{data['event_id']}/",
            headers={"Authorization": f"Bearer {tokens[click]}"},
            timeout=30,
        )
        if answer.json().get("going"):
            going.add(click)
    confirmed = {c.username for c in last if c.outcome == "confirmed"}
    full = {c.username for c in last if c.outcome == "full"}
    violations = []
    if taken > capacity:
        violations.append(f"overbooked: {taken} attendees for {capacity} seats")
    if taken != len(going):
        violations.append(f"ledger holds {taken} attendees but {len(going)} users are going")
    if confirmed - going:
        violations.append(f"told 'going' but not in the ledger: {sorted(confirmed - going)}")
    if full & going:
        violations.append(f"told 'full' but in the ledger: {sorted(full & going)}")
    errors = [c for c in CLICKS if c.outcome == "error"]
    if any(c.status >= 500 for c in errors):
        violations.append(f"{sum(c.status >= 500 for c in errors)} server errors (5xx)")
    spreads, rates = [], []
    for wave in range(1, WAVES + 1):
        clicks = [c for c in CLICKS if c.wave == wave]
        if clicks:
            first, last_sent = min(c.at for c in clicks), max(c.at for c in clicks)
            spreads.append(round((last_sent - first) * 1000, 1))
            burst = max(c.done for c in clicks) - first
            rates.append(round(len(clicks) / burst, 1) if burst > 0 else None)
    return {
        "event_id": data["event_id"],
        "capacity": capacity,
        "clicks": len(CLICKS),
        "waves": WAVES,
        "confirmed": len(confirmed),
        "full": len(full),
        "already_going": sum(c.outcome == "already_going" for c in last),
        "errors": len(errors),
        "attendees": taken,
        "overbooked": max(taken - capacity, 0),
        "click_spread_ms": max(spreads) if spreads else None,
        "click_spread_ms_per_wave": spreads,
        # RSVPs answered per second, from the first click to the last answer.
        "rsvps_per_s": rates[-1] if rates else None,
        "violations": violations,
    }
