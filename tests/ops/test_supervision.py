"""`make run` keeps its embedded MongoDB up (a SIGKILLed server comes back on its
address), runs the task worker that sends mail, and serves behind a front that
slow clients cannot hold; Ctrl-C stops it all.

The site runs as `make run` runs it (``manage.py serve`` with MONGODB_URI unset,
its own var/ directory and port), once for the module: starting it costs about
ten seconds (migrate, collectstatic), every test after that a few. The last
test stops it with Ctrl-C, so the tests run in file order.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient

from events import ledger
from events.management.commands import serve
from eventsite import embedded_mongo, mongo_supervisor
from loadtests import stack
from loadtests.stack import children, free_port
from tests.helpers import ROOT, api_call, fire_together

pytestmark = pytest.mark.live

USERS = 60
CAPACITY = 5
START_S = 120  # migrate and collectstatic on a busy 2-core machine
BACK_S = 10  # the standby takes over in well under a second; pymongo half a second more
SHOW_URI = "from django.conf import settings; print(settings.MONGODB_URI)"


@dataclass(frozen=True)
class Site:
    url: str
    var_dir: Path
    serve: subprocess.Popen
    env: dict[str, str]

    def log(self) -> str:
        return (self.var_dir / "serve.log").read_text()[-3000:]


def wait_for[T](condition: Callable[[], T], seconds: float, what: str) -> T:
    """``stack.wait_for`` that fails the test, naming ``what``, when time runs out."""
    found = stack.wait_for(condition, seconds)
    if not found:
        raise AssertionError(f"not within {seconds}s: {what}")
    return found


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def record(var_dir: Path) -> dict:
    """The running server's address file (pid, host, port, uri)."""
    return json.loads((var_dir / embedded_mongo.ADDRESS_FILE).read_text())


def gone(pid: int) -> bool:
    """Exited and reaped: a zombie still answers kill(pid, 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def make_run_env(var_dir: Path, port: int) -> dict[str, str]:
    """`make run`'s environment: no MONGODB_URI (the embedded server), SQLite in var/."""
    outer = {"MONGODB_URI", "MONGODB_DB", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env.update(EVENTSITE_VAR_DIR=str(var_dir), PORT=str(port), WEB_CONCURRENCY="2")
    # As deployed: mail queued in the database for the worker beside gunicorn,
    # which prints it (development's console backend) into the site's log.
    env.update(TASKS_BACKEND="database")
    env.pop("EMAIL_BACKEND", None)
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    var_dir = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = make_run_env(var_dir, port)
    with open(var_dir / "serve.log", "w") as log:
        # A process group of its own, as a terminal gives `make run`: the
        # Ctrl-C test signals the group.
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    site = Site(f"http://127.0.0.1:{port}", var_dir, serve, env)
    try:
        wait_for(lambda: healthy(site.url) or serve.poll() is not None, START_S, "the site up")
        assert serve.poll() is None, site.log()
        yield site
    finally:
        embedded_mongo.stop(serve, timeout=30)


def manage(site: Site, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def kill_server_once_seated(site: Site, event_id: int) -> Callable[[], float]:
    """A call for fire_together: SIGKILL the server once the rush has seated someone."""
    server = record(site.var_dir)

    def kill() -> float:
        with MongoClient(server["uri"], serverSelectionTimeoutMS=5000) as client:
            ledgers = client["eventsite"][ledger.COLLECTION]

            def seated() -> bool:
                return bool((ledgers.find_one({"_id": event_id}) or {}).get("attendees"))

            wait_for(seated, 30, "a seat taken by the rush")
        os.kill(server["pid"], signal.SIGKILL)  # no flush, no close
        return time.monotonic()

    return kill


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the request itself failed
    code: str
    at: float  # when it came back


def rsvp(call: Callable[[], requests.Response]) -> Callable[[], Answer]:
    def attempt() -> Answer:
        try:
            response = call()
        except requests.RequestException:
            return Answer(0, "", time.monotonic())
        return Answer(response.status_code, response.json().get("code", ""), time.monotonic())

    return attempt


def gunicorn_workers(site: Site) -> set[int]:
    supervisor = mongo_supervisor.supervisor_pid(site.var_dir)
    return {w for pid in children(site.serve.pid) if pid != supervisor for w in children(pid)}


def going(site: Site, event_id: int, users: list[dict]) -> set[int]:
    """The users (by index) the site says hold a seat, each asking with their own token.

    A worker that has not yet probed MongoDB since the restart may still
    answer 503 for up to half a second: asked again, as a client would.
    """
    url = f"{site.url}/api/events/{event_id}/"

    def ask(user: dict) -> dict | None:
        answer = requests.get(url, headers={"Authorization": f"Bearer {user['token']}"}, timeout=30)
        return answer.json() if answer.status_code == 200 else None

    return {
        n
        for n, user in enumerate(users)
        if wait_for(lambda u=user: ask(u), BACK_S, "an answer")["going"]
    }


def test_a_server_killed_mid_rush_is_back_on_its_address_with_every_seat(site):
    args = ("--users", str(USERS), "--capacity", str(CAPACITY))
    fixture = json.loads(manage(site, "make_loadtest_fixture", *args).stdout)
    event_id, users = fixture["event_id"], fixture["users"]
    url = f"{site.url}/api/events/{event_id}/rsvp"
    attempts = [rsvp(api_call("POST", url, user["token"])) for user in users]
    before, workers = record(site.var_dir), gunicorn_workers(site)

    *answers, killed_at = fire_together([*attempts, kill_server_once_seated(site, event_id)])

    wait_for(lambda: healthy(site.url), BACK_S, f"/healthz 200 after the kill\n{site.log()}")
    back_after = time.monotonic() - killed_at
    after = record(site.var_dir)
    assert after["pid"] != before["pid"], "the same server answers: it was never killed"
    assert (after["host"], after["port"]) == (before["host"], before["port"])
    wait_for(lambda: gone(before["pid"]), 5, "the killed server reaped (no zombie)")
    assert gunicorn_workers(site) == workers, "the workers reconnected without a restart"
    assert any(answer.at > killed_at for answer in answers), "the kill came after the rush"

    failed = [n for n, answer in enumerate(answers) if answer.status in (0, 503)]
    print(f"kill -> /healthz 200 in {back_after:.2f}s; {len(failed)} RSVPs failed, retried")
    for n in failed:  # what a client does with a 503: try again
        answers[n] = wait_for(
            lambda n=n: (answer := attempts[n]()).status not in (0, 503) and answer, BACK_S, "retry"
        )
    odd = [answer for answer in answers if answer.status not in (201, 409)]
    assert not odd, f"{odd}\n{site.log()[-3000:]}"
    told_going = {
        n
        for n, answer in enumerate(answers)
        if answer.status == 201 or answer.code == "already_going"
    }
    with MongoClient(after["uri"]) as client:
        attendees = client["eventsite"][ledger.COLLECTION].find_one({"_id": event_id})["attendees"]
    seated = going(site, event_id, users)
    assert len(attendees) == len(set(attendees)) == len(seated), "nobody seated twice"
    assert len(seated) == CAPACITY, "every seat taken once the retries are in"
    assert {n for n, answer in enumerate(answers) if answer.status == 201} <= seated
    assert seated == told_going, "everyone seated was told so, and nobody else"


def test_manage_py_waits_for_the_restart_instead_of_starting_a_second_server(site):
    before = record(site.var_dir)
    supervisor = mongo_supervisor.supervisor_pid(site.var_dir)
    assert supervisor, f"nothing holds var/{embedded_mongo.SUPERVISOR_FILE}"
    standby = wait_for(
        lambda: [pid for pid in children(supervisor) if pid != before["pid"]], 10, "a standby"
    )[0]
    os.kill(standby, signal.SIGSTOP)  # hold the restart back while the command starts
    try:
        os.kill(before["pid"], signal.SIGKILL)
        wait_for(lambda: embedded_mongo.running_uri(site.var_dir) is None, 5, "the server down")
        command = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW_URI],
            cwd=ROOT,
            env=site.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_words = command.stderr.readline()  # waiting, or a server of its own serving
    finally:
        os.kill(standby, signal.SIGCONT)
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    assert out.split()[-1] == before["uri"], f"the command used another server\n{first_words}"
    assert "restarting; waiting for it" in first_words
    after = record(site.var_dir)
    assert (after["pid"], after["port"]) == (standby, before["port"])
    assert embedded_mongo.running_uri(site.var_dir) == before["uri"], "and it keeps running"
    wait_for(lambda: healthy(site.url), BACK_S, "/healthz 200")


def test_a_crash_loop_gives_up_with_a_message(tmp_path):
    with socket.socket() as taken:  # the server's port is taken: every start fails
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        supervisor = subprocess.run(
            [
                sys.executable,
                "-m",
                "eventsite.mongo_supervisor",
                "--var-dir",
                str(tmp_path),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert supervisor.returncode == 1, supervisor.stderr
    loop = f"{mongo_supervisor.CRASH_LOOP_RUNS} processes in a row exited within"
    assert loop in supervisor.stderr and "giving up" in supervisor.stderr
    # Each failed start says why; the standby, started beside the server, may
    # print its own failure in the moment the supervisor gives up: one more.
    failures = supervisor.stderr.count("address already in use")
    assert mongo_supervisor.CRASH_LOOP_RUNS <= failures <= mongo_supervisor.CRASH_LOOP_RUNS + 1
    assert mongo_supervisor.supervisor_pid(tmp_path) is None, "its lock is free again"


QUEUE_AN_RSVP = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from events import services
users = get_user_model().objects
organiser = users.create_user("worker-org", "org@example.com", "pw")
alice = users.create_user("worker-alice", "alice@example.com", "pw")
event = services.create_event(
    capacity=1, organiser=organiser, title="Queued", venue="Hall",
    starts_at=timezone.now() + timedelta(days=2),
)
print(services.rsvp(event_id=event.pk, user_id=alice.pk).outcome)
"""


def is_task_worker(pid: int) -> bool:
    return b"db_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_the_task_worker_beside_gunicorn_sends_queued_mail(site):
    assert len([pid for pid in children(site.serve.pid) if is_task_worker(pid)]) == 1

    queued = manage(site, "shell", "-c", QUEUE_AN_RSVP)

    assert queued.stdout.strip().endswith("confirmed"), queued.stdout + queued.stderr
    subject = "Subject: [Eventsite] You're going: Queued"
    whole_log = site.var_dir / "serve.log"  # the email (with its QR image) outgrows log()'s tail
    wait_for(lambda: subject in whole_log.read_text(), 30, "the worker sent the email")
    assert "METHOD:PUBLISH" in whole_log.read_text()


def nice_of_every_thread(pid: int) -> set[int]:
    """The nice values of the process's threads (Linux keeps one per thread)."""
    # /proc/<pid>/task/<tid>/stat: the 19th field is the nice value; the
    # command (the 2nd, in parentheses) may hold spaces, so count after it.
    stats = Path(f"/proc/{pid}/task").glob("*/stat")
    return {int(stat.read_text().rsplit(")", 1)[1].split()[16]) for stat in stats}


def test_the_task_worker_yields_the_cpu_to_gunicorn_and_the_ledger(site):
    """In a rush the worker building emails runs at nice +10, everything else as started."""
    (worker,) = [pid for pid in children(site.serve.pid) if is_task_worker(pid)]
    serving = os.getpriority(os.PRIO_PROCESS, site.serve.pid)
    supervisor = mongo_supervisor.supervisor_pid(site.var_dir)
    others = [*gunicorn_workers(site), record(site.var_dir)["pid"], supervisor]

    assert nice_of_every_thread(worker) == {min(serving + serve.WORKER_NICENESS, 19)}
    assert all(nice_of_every_thread(pid) == {serving} for pid in others)


TOKEN_LOGIN = "/_allauth/app/v1/auth/login"
BODY_FIXTURE = ("--users", "1", "--capacity", "1", "--prefix", "body-")
SLOW_CLIENTS = 50  # 16 held every thread of gunicorn's 2 workers x 8
# As many page loads as gunicorn has threads, at once: one landing on a worker
# whose threads the slow clients hold would wait as long as they trickle.
PAGE_LOADS = 16
PAGE_TIMEOUT_S = 5  # generous for a page; the slow clients trickle until every one answered


def trickle_headers(clients: list[socket.socket], stop: threading.Event, rounds: list[int]) -> None:
    """Each client sends one more header line every half second, and never the blank line."""
    while not stop.is_set():
        for client in clients:
            with contextlib.suppress(OSError):  # the front gave up on it (408), as it should
                client.sendall(f"X-Slow-{rounds[0]}: still typing\r\n".encode())
        rounds[0] += 1
        stop.wait(0.5)  # the slow client's own pace


# A page Django renders in a gunicorn thread without the ledger: what is
# measured is whether a thread is free, not how the embedded MongoDB copes
# with a busy machine (a slow reply there opens the ledger's breaker, and the
# site's quick 503 would be a right answer to something else).
PAGE = "/accounts/login/"


def load_page(site: Site) -> Callable[[], int]:
    def load() -> int:
        try:
            return requests.get(f"{site.url}{PAGE}", timeout=PAGE_TIMEOUT_S).status_code
        except requests.Timeout:
            return 0

    return load


def test_slow_clients_never_hold_the_site(site):
    """gunicorn is handed a request only once it is whole: trickling clients wait at the front."""
    host, port = site.url.removeprefix("http://").split(":")
    clients = [socket.create_connection((host, int(port)), timeout=5) for _ in range(SLOW_CLIENTS)]
    for client in clients:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    stop, rounds = threading.Event(), [0]
    trickler = threading.Thread(target=trickle_headers, args=(clients, stop, rounds))
    trickler.start()
    try:
        wait_for(lambda: rounds[0] >= 2, 10, "every slow client sending its headers")
        pages = fire_together([load_page(site)] * PAGE_LOADS)
        assert pages == [200] * PAGE_LOADS, f"{SLOW_CLIENTS} slow clients; 0: no answer in time"
    finally:
        stop.set()
        trickler.join()
        for client in clients:
            client.close()


def test_bad_bodies_through_the_front_get_the_json_errors(site):
    """As deployed (DEBUG off, gunicorn behind the front): 400 and 413, JSON, never a 500."""
    fixture = json.loads(manage(site, "make_loadtest_fixture", *BODY_FIXTURE).stdout)
    signed_in = {"Authorization": f"Bearer {fixture['users'][0]['token']}"}
    writes = [(f"/api/events/{fixture['event_id']}/rsvp", signed_in), (TOKEN_LOGIN, {})]
    deep, too_large = b"[" * 60_000, b'{"username": "' + b"x" * 10_000_000 + b'"}'
    for path, headers in writes:
        for body, status, code in ((deep, 400, "too_deep"), (too_large, 413, "too_large")):
            answer = requests.post(
                f"{site.url}{path}",
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=30,
            )
            assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


def test_ctrl_c_stops_gunicorn_the_worker_the_supervisor_and_the_server(site):
    """Last: it stops the module's site (and its front, another of serve's children)."""
    supervisor = mongo_supervisor.supervisor_pid(site.var_dir)
    servers = children(supervisor)  # the server and its standby
    gunicorn = [pid for pid in children(site.serve.pid) if pid != supervisor]
    workers = [w for pid in gunicorn for w in children(pid)]  # gunicorn's
    assert record(site.var_dir)["pid"] in servers and workers
    assert any(is_task_worker(pid) for pid in gunicorn)  # among serve's children

    os.killpg(site.serve.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C

    assert site.serve.wait(timeout=30) == 0, site.log()
    for pid in (*servers, supervisor, *gunicorn, *workers):
        wait_for(lambda pid=pid: gone(pid), 10, f"process {pid} stopped")
    assert not (site.var_dir / embedded_mongo.ADDRESS_FILE).exists()
    assert "Stopped." in site.log()
