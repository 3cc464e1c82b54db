"""Simultaneous clicks on RSVP (or Join the waiting list), then a check of the ledger.

Every simulated user gets ready first (an API user holds its Bearer token; a
browser user logs in through the real login form and opens the event page),
then waits at a rendezvous. When every user of the run is ready, all of them
click within a few milliseconds. At the end the ledger is read back through
the API (its own counts, and each user's seat or place on the list) and held
against what each user was told; any broken invariant is a violation, printed
and turned into a non-zero exit code. The checks are in ``loadtests.endcheck``.

Input: the JSON written by ``manage.py make_loadtest_fixture`` at
``$LOADTEST_FIXTURE`` (default ``var/loadtest/fixture.json``). Options (env):

- ``LOADTEST_MODE`` (``loadtests.modes``): ``rsvp`` (the default),
  ``waitlist`` (the same as ``LOADTEST_WAITLIST=1``: every user clicks "Join
  the waiting list": ``capacity`` of them get a seat at once, the others a
  place on the list, each place told once), ``guests`` (API users RSVP with
  parties of mixed sizes; a fixture made with ``--guests N``) or
  ``approval`` (every user asks; then the organiser's approvals race; a
  fixture made with ``--approval``) or ``lottery`` (every user enters the
  draw; then the draw; a fixture made with ``--lottery-in S``). The last three
  click once.
- ``LOADTEST_WAVES`` (default 1: click once). More: once every answer of a
  wave is in, the users holding a seat cancel (so, with the waiting list, the
  first waiting are promoted in the same write) and everyone clicks again.
- ``LOADTEST_SUMMARY`` (where to write the JSON summary),
  ``LOADTEST_READY_TIMEOUT`` (seconds to wait for stragglers, default 300).

    locust -f loadtests/locustfile.py --headless -u 500 -r 500 --host http://127.0.0.1:8000
    locust -f loadtests/locustfile.py --processes 2 ...   # one master, two workers
    LOADTEST_WAITLIST=1 LOADTEST_WAVES=3 locust -f loadtests/locustfile.py ...

409 "full", "already going", "already waiting" and "waitlist closed" and 202
"waitlisted" are expected answers, not failures.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict
from pathlib import Path

import gevent
import requests
from gevent.event import Event as GeventEvent
from gevent.pool import Pool
from locust import HttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from loadtests import modes
from loadtests.endcheck import (
    EXPECTED,
    SEATED,
    WAITING,
    Click,
    Ledger,
    answers,
    api_outcome,
    check_approvals,
    check_draw,
    check_parties,
    judge,
)
from loadtests.forms import csrf_token
from loadtests.modes import MODE

FIXTURE = Path(os.environ.get("LOADTEST_FIXTURE", "var/loadtest/fixture.json"))
WAVES = int(os.environ.get("LOADTEST_WAVES", "1")) if MODE in ("rsvp", "waitlist") else 1
SUMMARY = os.environ.get("LOADTEST_SUMMARY", "")
READY_TIMEOUT_S = float(os.environ.get("LOADTEST_READY_TIMEOUT", "300"))
OUTCOME = re.compile(r'data-outcome="outcome-([a-z_]+)">([^<]*)<')
POSITION = re.compile(r"#(\d+)")


class Rendezvous:
    """A reusable barrier across every user of the run, in one or many processes.

    The process that owns the run (the local runner, or the master) counts the
    users ready for each step and opens the gate once spawning is complete and
    every user has arrived; workers report each arrival to the master and wait
    for its "go".
    """

    def __init__(self) -> None:
        self.environment: Environment | None = None
        self.ready: dict[str, int] = {}
        self.gates: dict[str, GeventEvent] = {}
        self.spawned = False

    def gate(self, step: str) -> GeventEvent:
        return self.gates.setdefault(step, GeventEvent())

    def arrive(self, step: str) -> None:
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message("rsvp_ready", {"step": step})
        else:
            self.count(step)
        if not self.gate(step).wait(READY_TIMEOUT_S):
            logging.warning(
                "%s: not every user got there in %ss; going on anyway", step, READY_TIMEOUT_S
            )

    def count(self, step: str) -> None:
        self.ready[step] = self.ready.get(step, 0) + 1
        self.check(step)

    def check(self, step: str) -> None:
        runner = self.environment.runner
        if not self.spawned or self.ready.get(step, 0) < runner.target_user_count:
            return
        if isinstance(runner, MasterRunner):
            runner.send_message("rsvp_go", {"step": step})
        self.gate(step).set()

    def on_spawned(self) -> None:
        self.spawned = True
        for step in list(self.ready):
            self.check(step)

    def on_ready_message(self, environment: Environment, msg, **_kwargs) -> None:
        self.count(msg.data["step"])

    def on_go_message(self, environment: Environment, msg, **_kwargs) -> None:
        self.gate(msg.data["step"]).set()


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
            # A keep-alive connection idle for about gunicorn's keepalive (2 s)
            # may be closed by the server just as the burst reuses it: each
            # wave's click opens a fresh one instead (after the gate).
            self.client.close()
            RENDEZVOUS.arrive(f"click {wave}")
            click = self.timed(wave, "join" if MODE == "waitlist" else "rsvp")
            if wave < WAVES:
                # Nobody cancels before every answer of the wave is in: each
                # wave's answers can then be checked exactly.
                RENDEZVOUS.arrive(f"settle {wave}")
                if click.outcome in SEATED:
                    self.timed(wave, "cancel")
        raise StopUser()

    def timed(self, wave: int, action: str) -> Click:
        sent = time.time()
        outcome, status, position = self.act(action)
        name = self.account["username"]
        click = Click(name, wave, action, outcome, sent, status, time.time(), position)
        record(self.environment, click)
        return click

    def prepare(self) -> None: ...

    def act(self, action: str) -> tuple[str, int, int | None]: ...


class ApiUser(RsvpUser):
    """A script holding a Bearer token, as the API contract's scripts do."""

    weight = 4
    ROUTES = {
        "rsvp": ("POST", "rsvp", "API RSVP", "confirmed"),
        "join": ("POST", "waitlist", "API join waitlist", "confirmed"),
        "cancel": ("DELETE", "rsvp", "API cancel", "cancelled"),
    }

    def prepare(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {self.account['token']}"

    def act(self, action: str) -> tuple[str, int, int | None]:
        method, path, name, done = self.ROUTES[action]
        url = f"/api/events/{self.event_id}/{path}"
        body = modes.rsvp_body(self.account["username"], self.environment.fixture)
        with self.client.request(
            method, url, name=name, json=body if method == "POST" else None, catch_response=True
        ) as response:
            body = _json(response)
            status = response.status_code
            outcome = api_outcome(status, body, done)
            if outcome != "error":
                response.success()  # a refusal is an expected answer, not a failure
                return outcome, status, body.get("position")
            response.failure(f"{status}: {body.get('message') or response.error}")
            return "error", status, None


class BrowserUser(RsvpUser):
    """A person in a browser: login form, event page, RSVP or waiting-list form.

    Fewer of these by default: each login hashes a password on purpose slowly.
    """

    weight = 1
    FORMS = {
        "rsvp": ("rsvp", "page RSVP"),
        "join": ("waitlist", "page join waitlist"),
        "cancel": ("cancel", "page cancel"),
    }

    def prepare(self) -> None:
        login = self.client.get("/accounts/login/", name="login page")
        self.client.post(
            "/accounts/login/",
            name="login",
            data={
                "login": self.account["username"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": csrf_token(login.text),
            },
            headers={"Referer": login.url},
        )
        page = self.client.get(f"/events/{self.event_id}/", name="event page")
        self.page_url = page.url
        self.token = csrf_token(page.text)

    def act(self, action: str) -> tuple[str, int, int | None]:
        path, name = self.FORMS[action]
        with self.client.post(
            f"/events/{self.event_id}/{path}/",
            name=name,
            data={
                "csrfmiddlewaretoken": self.token,
                **modes.rsvp_body(self.account["username"], self.environment.fixture),
            },
            headers={"Referer": self.page_url},
            catch_response=True,
        ) as response:
            found = OUTCOME.findall(response.text) if response.status_code == 200 else []
            if len(found) == 1 and found[0][0] in EXPECTED:
                outcome, message = found[0]
                position = POSITION.search(message) if outcome in WAITING else None
                return outcome, response.status_code, position and int(position.group(1))
            why = response.error or "no expected outcome on the page"
            response.failure(f"{response.status_code}: {why}")
            return "error", response.status_code, None


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


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
    last = click.wave == WAVES and click.action != "cancel"
    if last and len(answers(CLICKS, WAVES)) == runner.target_user_count:
        headless = getattr(environment.parsed_options, "headless", False)
        gevent.spawn(runner.quit if headless else runner.stop)


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner) or not CLICKS:
        return
    try:
        summary = verify(environment)
    except (requests.RequestException, KeyError, ValueError) as exc:
        summary = {"violations": [f"could not read the ledger back: {exc!r}"]}
    print(json.dumps(summary, indent=2))
    if SUMMARY:
        Path(SUMMARY).write_text(json.dumps(summary, indent=2))
    if summary["violations"]:
        environment.process_exit_code = 1


def read_ledger(environment: Environment) -> Ledger:
    """The event's own counts, and every user's own view of it, through the API."""
    data = environment.fixture
    host = environment.host or data["api_url"].removesuffix("/api")
    url = f"{host}/api/events/{data['event_id']}/"
    tokens = {u["username"]: u["token"] for u in data["users"]}

    def view(username: str) -> tuple[str, dict]:
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        answer = requests.get(url, headers=headers, timeout=30)
        answer.raise_for_status()
        return username, answer.json()

    views = dict(Pool(16).imap_unordered(view, sorted({c.username for c in CLICKS})))
    event = view(data["users"][0]["username"])[1]
    ledger = Ledger(event["capacity"], event["seats_taken"], event["waiting"])
    for username, seen in views.items():
        if seen.get("going"):
            ledger.going.add(username)
        if seen.get("waitlist_position") is not None:
            ledger.positions[username] = seen["waitlist_position"]
        if seen.get("guests"):
            ledger.parties[username] = seen["guests"]
        if seen.get("requested") or seen.get("entered"):
            ledger.requested.add(username)
    return ledger


def verify(environment: Environment) -> dict:
    """Read the ledger back through the API and hold it against every answer.

    In ``approval`` mode the organiser's approvals race first (all requests
    are in by now); ``guests`` and ``approval`` add their own checks.
    """
    data = environment.fixture
    allowed = data.get("guests_allowed", 0)

    def party(username: str) -> int:
        return 1 + modes.guests_of(username, allowed)

    approved: list[str] = []
    if MODE == "approval":
        host = environment.host or data["api_url"].removesuffix("/api")
        asked = sorted({c.username for c in CLICKS if c.outcome == "requested"})
        names = {u["id"]: u["username"] for u in data["users"]}
        decisions = modes.approve_all(host, data, asked)
        approved = [names[i] for d in decisions for i in d["approved"]]
    if MODE == "lottery":
        host = environment.host or data["api_url"].removesuffix("/api")
        modes.run_draw_after_its_time(host, data, data["users"][0]["token"])
    ledger = read_ledger(environment)
    summary = {"event_id": data["event_id"], "mode": MODE, **judge(CLICKS, ledger, WAVES, party)}
    last = answers(CLICKS, WAVES)
    if MODE == "guests":
        summary["violations"] += check_parties(ledger, last, lambda u: party(u) - 1)
    if MODE == "approval":
        requesters = {u for u, c in last.items() if c.outcome == "requested"}
        summary["approved"] = len(approved)
        summary["violations"] += check_approvals(ledger, requesters, approved)
    if MODE == "lottery":
        entrants = {u for u, c in last.items() if c.outcome == "entered"}
        summary["entered"] = len(entrants)
        summary["violations"] += check_draw(ledger, entrants)
    summary["seats_taken"] = ledger.taken
    return summary
