"""`make run` sends seat emails from a task worker beside gunicorn, and Ctrl-C stops it.

The site runs as `make run` runs it (``manage.py serve``, the embedded MongoDB,
SQLite in a var/ of its own) with the database task backend; an RSVP made by
``manage.py shell`` is queued there and the worker prints the email (the
console mail backend) into the site's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from loadtests.stack import children, free_port
from tests.helpers import ROOT

START_S = 120  # migrate and collectstatic on a busy 2-core machine
RSVP = """
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


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def up(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def is_worker(pid: int) -> bool:
    return b"db_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_make_run_starts_the_worker_that_sends_queued_mail_and_ctrl_c_stops_it(tmp_path):
    port = free_port()
    outer = {"MONGODB_URI", "MONGODB_DB", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env.update(EVENTSITE_VAR_DIR=str(tmp_path), PORT=str(port), TASKS_BACKEND="database")
    env.pop("EMAIL_BACKEND", None)  # development's console backend: mail lands in the log
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-demo"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,  # as a terminal starts `make run`: Ctrl-C signals the group
        )
    try:
        assert wait_until(lambda: up(f"http://127.0.0.1:{port}"), START_S), log_path.read_text()
        workers = [pid for pid in children(serve.pid) if is_worker(pid)]
        assert len(workers) == 1, log_path.read_text()

        shell = [sys.executable, "manage.py", "shell", "-c", RSVP]
        done = subprocess.run(shell, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip().endswith("confirmed"), done.stdout + done.stderr

        subject = "Subject: [Eventsite] You're going: Queued"
        assert wait_until(lambda: subject in log_path.read_text(), 30), log_path.read_text()[-3000:]
        assert "METHOD:PUBLISH" in log_path.read_text()

        os.killpg(serve.pid, signal.SIGINT)
        assert serve.wait(timeout=30) == 0, log_path.read_text()[-3000:]
        assert wait_until(lambda: not Path(f"/proc/{workers[0]}").exists(), 15), "worker stopped"
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=30)
